//! Accounts from a session cookie holding a signed JWT, as a shop's auth layer issues them.

use std::time::{SystemTime, UNIX_EPOCH};

use http::Request;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::support::client::{body, send};
use crate::{Shop, StoreKind, BLACKLIST};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jwt");

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn es256(claims: serde_json::Value) -> String {
    let key = EncodingKey::from_ec_pem(&std::fs::read(format!("{KEYS}/es256.key")).unwrap()).unwrap();
    encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
}

async fn checkout_with_cookie(shop: &Shop, cookie: &str) -> u16 {
    let req = Request::post(shop.doorman.url("/echo/e1/checkout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(body("quantity=1"))
        .unwrap();
    send(req).await.0.status().as_u16()
}

#[tokio::test]
async fn a_signed_session_cookie_identifies_the_account_and_bad_ones_do_not() {
    let session = format!(
        "session_cookie = \"shop_session\"\nsession_algorithm = \"ES256\"\nsession_key_file = \"{KEYS}/es256.pub\"\n\
         session_issuer = \"shop\"\n"
    );
    let blacklist = BLACKLIST.replace("[blacklist]\n", &format!("[blacklist]\n{session}"));
    let shop = Shop::start_with(StoreKind::Embedded, &blacklist, "");
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"account": "eve"}"#).await.0, 201);

    let good = es256(json!({"sub": "eve", "exp": now() + 600, "iss": "shop"}));
    assert_eq!(checkout_with_cookie(&shop, &format!("theme=dark; shop_session={good}")).await, 303);

    // A token the shop signed names its account even once expired: shops differ on clock skew
    // and some never check expiry, so the block errs on the side of the shop's own signature.
    let expired = es256(json!({"sub": "eve", "exp": now() - 3600, "iss": "shop"}));
    assert_eq!(checkout_with_cookie(&shop, &format!("shop_session={expired}")).await, 303);

    let other_issuer = es256(json!({"sub": "eve", "exp": now() + 600, "iss": "elsewhere"}));
    let payload = good.split('.').nth(1).unwrap().to_owned();
    let unsigned = format!("eyJhbGciOiJub25lIn0.{payload}.");
    let hs256_confusion = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "eve", "exp": now() + 600, "iss": "shop"}),
        &EncodingKey::from_secret(&std::fs::read(format!("{KEYS}/es256.pub")).unwrap()),
    )
    .unwrap();
    for (what, token) in [
        ("wrong issuer", other_issuer),
        ("alg none", unsigned),
        ("HS256 with the public key", hs256_confusion),
    ] {
        assert_eq!(
            checkout_with_cookie(&shop, &format!("shop_session={token}")).await,
            200,
            "{what} identified eve"
        );
    }
    let alice = es256(json!({"sub": "alice", "exp": now() + 600, "iss": "shop"}));
    assert_eq!(checkout_with_cookie(&shop, &format!("shop_session={alice}")).await, 200);
}
