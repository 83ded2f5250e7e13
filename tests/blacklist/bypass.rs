//! Every way around the block that was found, tried against the demo shop, which reads paths,
//! methods and cookies as leniently as real frameworks do. For each spelling, an ordinary
//! customer's checkout must go through (so the shop really reads that spelling), and the
//! blacklisted customer's must be turned back or refused: never sold.

use http::Request;

use crate::support::client::{body, send};
use crate::support::doorman::{policy, Doorman};
use crate::{admin_call, StoreKind};

const SESSION_SECRET: &str = "bypass-test-session-secret-0123456789";

/// The demo shop with Doorman in front, its events mapped, Mallory (a guest address) and Eve (an
/// account) blacklisted by the event's organizer only.
struct DemoShop {
    doorman: Doorman,
    shop: Option<doorman::demo::ShopServer>,
    _store: StoreKind,
}

impl DemoShop {
    async fn start(store: StoreKind) -> Self {
        let shop =
            doorman::demo::ShopServer::start(([127, 0, 0, 1], 0).into(), SESSION_SECRET.as_bytes()).unwrap();
        let blacklist = "[blacklist]\nemail_fields = [\"email\"]\nsession_cookie = \"shop_session\"\n\
            session_algorithm = \"HS256\"\nsession_issuer = \"demo-shop\"\n\
            [[blacklist.checkout]]\nroute = \"POST /events/{event}/checkout\"\nredirect = \"/events/{event}\"\n";
        let text = format!("{}{}{blacklist}", policy(&format!("http://{}", shop.addr), "", ""), store.toml());
        let doorman = Doorman::start_with_env(&text, &[("DOORMAN_SESSION_KEY", SESSION_SECRET)]);
        let this = Self { doorman, shop: Some(shop), _store: store };
        let (status, _) =
            admin_call(&this.doorman, "PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#)
                .await;
        assert_eq!(status, 200);
        for who in [r#""email": "mallory@example.com""#, r#""account": "eve""#] {
            let entry = format!(r#"{{{who}, "organizer": "harbour-hall"}}"#);
            let (status, answer) = admin_call(&this.doorman, "POST", "/v1/blacklist", &entry).await;
            assert_eq!(status, 201, "{answer}");
            assert!(answer.get("warning").is_none(), "the event is mapped: {answer}");
        }
        this
    }

    /// Sends a checkout and answers the status and body.
    async fn checkout(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        ct: &str,
        form: &str,
    ) -> (u16, String) {
        let mut req =
            Request::builder().method(method).uri(self.doorman.url(path)).header("content-type", ct);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let (resp, bytes) = send(req.body(body(form.to_owned())).unwrap()).await;
        (resp.status().as_u16(), String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Drop for DemoShop {
    fn drop(&mut self) {
        if let Some(shop) = self.shop.take() {
            shop.stop();
        }
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Paths and methods the shop routes to the checkout, each spelled so that an exact,
/// undecoded, case-sensitive match would miss it.
const SPELLINGS: &[(&str, &str)] = &[
    ("POST", "/events/spring-concert/checkout"),
    ("POST", "/events/%73pring-concert/checkout"),
    ("POST", "/events/spring%2Dconcert/checkout"),
    ("POST", "/events/spring-concert/%63heckout"),
    ("POST", "/events/spring-concert/checkout/"),
    ("POST", "//events//spring-concert//checkout"),
    ("POST", "/events/x/../spring-concert/./checkout"),
    ("POST", "/events/spring-concert/checkout;jsessionid=1"),
    ("POST", "/EVENTS/Spring-Concert/CHECKOUT"),
    ("POST", "/events%2Fspring-concert%2Fcheckout"),
    ("post", "/events/spring-concert/checkout"),
    ("POST", "/events/spring-concert/checkout.html"),
];

pub async fn path_and_method_spellings_reach_the_shop_but_not_for_the_blacklisted(store: StoreKind) {
    let shop = DemoShop::start(store).await;
    for (method, path) in SPELLINGS {
        let (status, page) =
            shop.checkout(method, path, None, FORM, "email=ada%40example.com&quantity=1").await;
        assert_eq!(status, 200, "{method} {path}: the shop should sell to Ada: {page:.300}");
        assert!(page.contains("Order confirmed"), "{method} {path}");
        let (status, page) =
            shop.checkout(method, path, None, FORM, "email=mallory%40example.com&quantity=1").await;
        assert_eq!(status, 303, "{method} {path}: Mallory was not turned back: {page:.300}");
    }
}

pub async fn signed_in_customers_are_known_by_the_shops_own_session_in_every_cookie_spelling(
    store: StoreKind,
) {
    let shop = DemoShop::start(store).await;
    let sessions = doorman::demo::session::Sessions::new(SESSION_SECRET.as_bytes());
    let (alice, eve) = (sessions.issue("alice"), sessions.issue("eve"));
    let form = "email=someone%40example.com&quantity=1";
    let path = "/events/spring-concert/checkout";
    let spell = |token: &str| {
        [
            format!("shop_session={token}"),
            format!("theme=dark; shop_session=\"{token}\""),
            format!("shop_session={}", token.replace('.', "%2E")),
        ]
    };
    for cookie in spell(&alice) {
        let (status, page) = shop.checkout("POST", path, Some(&cookie), FORM, form).await;
        assert_eq!(status, 200, "{cookie}: {page:.200}");
        assert!(page.contains("Account: alice"), "the shop reads this cookie spelling: {cookie}");
    }
    for cookie in spell(&eve) {
        let (status, _) = shop.checkout("POST", path, Some(&cookie), FORM, form).await;
        assert_eq!(status, 303, "Eve got through with {cookie}");
    }
    // No form field can stand in for the session: the demo form has none, and one sent anyway
    // does not sign Eve out.
    let cookie = format!("shop_session={eve}");
    let (status, _) =
        shop.checkout("POST", path, Some(&cookie), FORM, &format!("{form}&account=alice")).await;
    assert_eq!(status, 303);
}

pub async fn bodies_the_shop_reads_differently_are_refused_not_forwarded(store: StoreKind) {
    let shop = DemoShop::start(store).await;
    let path = "/events/spring-concert/checkout";
    // The shop reads a form body whatever its charset says; Doorman does not guess.
    for ct in [
        "application/x-www-form-urlencoded; charset=iso-8859-1",
        "application/x-www-form-urlencoded; charset=utf-16",
    ] {
        let (status, _) =
            shop.checkout("POST", path, None, ct, "email=mallory%40example.com&quantity=1").await;
        assert_eq!(status, 400, "{ct}");
    }
    let (status, page) =
        shop.checkout("POST", path, None, FORM, "email=%22mallory%22%40example.com&quantity=1").await;
    assert_eq!(status, 400, "an address Doorman cannot canonicalize: {page:.200}");
    // Paths whose readings disagree on the event: the shop sells spring-concert, an exact reader
    // of the segment would look up `x/../spring-concert`.
    for path in ["/events/x%2F..%2Fspring-concert/checkout", "/events/spring-concert%2F/checkout"] {
        let (status, _) =
            shop.checkout("POST", path, None, FORM, "email=mallory%40example.com&quantity=1").await;
        assert_eq!(status, 400, "{path}");
    }
    let many: Vec<String> = (0..9).map(|i| format!("email=a{i}%40example.com")).collect();
    let (status, _) = shop.checkout("POST", path, None, FORM, &many.join("&")).await;
    assert_eq!(status, 400, "more identities than the policy allows");
}
