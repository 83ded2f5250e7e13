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

#[tokio::test]
async fn more_session_cookies_than_the_cap_are_refused_over_h2c_and_never_reach_the_backend() {
    // Each session cookie costs signature checks, so more than `max_session_cookies` (default 4)
    // is refused. Over HTTP/2 they may come as cookie crumbs: the crumbs are counted together.
    const SECRET: &str = "session-cap-test-secret-0123456789abcdef";
    let backend = crate::support::backend::Backend::start();
    let session = "session_cookie = \"shop_session\"\nsession_algorithm = \"HS256\"\n";
    let blacklist = BLACKLIST.replace("[blacklist]\n", &format!("[blacklist]\n{session}"));
    let text = format!("{}{blacklist}", crate::support::doorman::policy(&backend.url(), "", ""));
    let doorman = crate::support::doorman::Doorman::start_with_env(&text, &[("DOORMAN_SESSION_KEY", SECRET)]);
    let token = |sub: &str| {
        encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": sub}),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let (alice, eve) = (token("alice"), token("eve"));
    let (status, _) = doorman.admin("POST", "/v1/blacklist", r#"{"account": "eve"}"#).await;
    assert_eq!(status, 201);

    let mut sender = crate::support::client::h2c(doorman.public).await;
    let requests = || backend.state.requests.load(std::sync::atomic::Ordering::SeqCst);
    let mut checkout = |crumbs: Vec<String>| {
        let mut req = Request::post("http://shop/echo/e1/checkout")
            .header("content-type", "application/x-www-form-urlencoded");
        for crumb in crumbs {
            req = req.header("cookie", crumb);
        }
        let req = req.body(body("quantity=1")).unwrap();
        let sent = sender.send_request(req);
        async move {
            let resp = sent.await.unwrap();
            let status = resp.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
            (status, bytes)
        }
    };

    // Four session cookies, as four crumbs: within the cap, read, and forwarded as one line.
    let four: Vec<String> = (0..4).map(|_| format!("shop_session={alice}")).collect();
    let (status, bytes) = checkout(four.clone()).await;
    assert_eq!(status, 200);
    let echo = crate::support::client::Echo::parse(&bytes);
    assert_eq!(echo.headers("cookie"), [four.join("; ")], "crumbs joined into one Cookie line");
    let (status, _) = checkout(vec![format!("shop_session={alice}"), format!("shop_session={eve}")]).await;
    assert_eq!(status, 303, "Eve's cookie in the second crumb");

    // Five: refused, whoever they name, in crumbs or in one field, and nothing is forwarded.
    let before = requests();
    let five_alice: Vec<String> = (0..5).map(|_| format!("shop_session={alice}")).collect();
    let mut hidden: Vec<String> = (0..4).map(|_| format!("shop_session={alice}")).collect();
    hidden.push(format!("theme=dark; shop_session={eve}"));
    for crumbs in [five_alice.clone(), hidden, vec![five_alice.join("; ")]] {
        let (status, bytes) = checkout(crumbs.clone()).await;
        assert_eq!(status, 400, "{} cookie fields: {}", crumbs.len(), String::from_utf8_lossy(&bytes));
        assert!(String::from_utf8_lossy(&bytes).contains("Bad Request"));
    }
    assert_eq!(requests(), before, "a refused checkout reached the backend");
}
