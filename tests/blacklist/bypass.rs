//! Every way around the block that was found, tried against the demo shop, which reads paths,
//! methods and cookies as leniently as real frameworks do. For each spelling, an ordinary
//! customer's checkout must go through (so the shop really reads that spelling), and the
//! blacklisted customer's must be turned back or refused: never sold.

use http::Request;

use crate::support::client::{body, send};
use crate::support::doorman::{policy, Doorman};
use crate::StoreKind;

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
            this.doorman.admin("PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#).await;
        assert_eq!(status, 200);
        for who in [r#""email": "mallory@example.com""#, r#""account": "eve""#] {
            let entry = format!(r#"{{{who}, "organizer": "harbour-hall"}}"#);
            let (status, answer) = this.doorman.admin("POST", "/v1/blacklist", &entry).await;
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
        let mut headers = vec![("content-type", ct)];
        if let Some(c) = cookie {
            headers.push(("cookie", c));
        }
        let answer = self.send(method, path, &headers, form.as_bytes()).await;
        (answer.status, answer.page)
    }

    /// Sends a request with these header fields (a name given twice is sent twice).
    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], payload: &[u8]) -> Answer {
        let mut req = Request::builder().method(method).uri(self.doorman.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let (resp, bytes) = send(req.body(body(payload.to_vec())).unwrap()).await;
        Answer {
            status: resp.status().as_u16(),
            location: resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned()),
            content_type: resp.headers().get("content-type").map(|l| l.to_str().unwrap().to_owned()),
            page: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The seats the shop has left for the event, read from the shop itself, not through
    /// Doorman: every order it takes lowers them.
    async fn seats_left(&self) -> u32 {
        let addr = self.shop.as_ref().unwrap().addr;
        let (_, page) = crate::support::client::get(&format!("http://{addr}{EVENT_PAGE}")).await;
        let page = String::from_utf8_lossy(&page);
        let end = page.find(" seats left.").expect("the event page shows its seats");
        let start = page[..end].rfind('>').unwrap() + 1;
        page[start..end].parse().unwrap()
    }

    /// Doorman's count of checkouts with `outcome` (forwarded, blocked, refused).
    async fn checkouts(&self, outcome: &str) -> u64 {
        let req = Request::get(self.doorman.admin_url("/metrics"))
            .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
            .body(body(""))
            .unwrap();
        let metrics = String::from_utf8_lossy(&send(req).await.1).into_owned();
        let line = format!("doorman_checkouts_total{{outcome=\"{outcome}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&line)?.trim().parse().ok()).unwrap_or(0)
    }
}

/// What a checkout was answered.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    content_type: Option<String>,
    page: String,
}

impl Answer {
    /// The shop confirmed an order (HTML or JSON).
    fn is_order(&self) -> bool {
        self.status == 200 && (self.page.contains("Order confirmed") || self.page.contains("\"order\":\"DM-"))
    }

    /// Turned back: the quiet 303 to the event page, or its JSON form for a JSON checkout.
    fn is_turned_back(&self) -> bool {
        let json = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
        (self.status == 303 && self.location.as_deref() == Some(EVENT_PAGE))
            || (self.status == 200 && json(&self.page).is_some() && json(&self.page) == json(JSON_TURN_BACK))
    }

    /// Refused by Doorman with the neutral 400.
    fn is_refused(&self) -> bool {
        self.status == 400 && self.page.contains("The request could not be understood.")
    }

    /// Answered with JSON.
    fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|ct| ct.starts_with("application/json"))
    }
}

/// Where a blocked checkout is sent back to.
const EVENT_PAGE: &str = "/events/spring-concert";
/// The event's checkout.
const CHECKOUT: &str = "/events/spring-concert/checkout";
/// A blocked JavaScript checkout's answer: the JSON form of the turn-back.
const JSON_TURN_BACK: &str = r#"{"redirect":"/events/spring-concert"}"#;

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

/// A checkout body in each encoding the tests need, for `who` (`ada` or `mallory`).
fn form(who: &str) -> String {
    format!("email={who}%40example.com&quantity=1")
}

fn json(key: &str, who: &str) -> String {
    format!(r#"{{"{key}": "{who}@example.com", "quantity": 1}}"#)
}

pub async fn body_spellings_the_shop_reads_are_checked_for_the_blacklisted(store: StoreKind) {
    let shop = DemoShop::start(store).await;
    // Spellings the shop reads: it sells to Ada in each, so each is a real route into the shop,
    // and Mallory is turned back in each (JSON checkouts get the JSON form of the turn-back).
    let cases = [
        ("application/x-www-form-urlencoded; charset=utf-8", form("ada"), form("mallory")),
        ("application/x-www-form-urlencoded;charset=UTF-8", form("ada"), form("mallory")),
        ("application/vnd.x+json", json("email", "ada"), json("email", "mallory")),
        ("application/vnd.x+json; charset=utf-8", json("email", "ada"), json("email", "mallory")),
        ("application/json; charset=utf-8", json("email", "ada"), json("email", "mallory")),
    ];
    for (ct, ada, mallory) in &cases {
        let seats = shop.seats_left().await;
        let a = shop.send("POST", CHECKOUT, &[("content-type", ct)], ada.as_bytes()).await;
        assert!(a.is_order(), "{ct}: the shop should sell to Ada: {a:?}");
        assert_eq!(shop.seats_left().await, seats - 1, "{ct}");
        let m = shop.send("POST", CHECKOUT, &[("content-type", ct)], mallory.as_bytes()).await;
        assert!(m.is_turned_back(), "{ct}: Mallory was not turned back: {m:?}");
        assert_eq!(m.is_json(), a.is_json(), "{ct}: the turn-back is shaped like the shop's own answer");
        assert_eq!(shop.seats_left().await, seats - 1, "{ct}: the shop sold to Mallory");
    }

    // Identities in the query string and keys in another letter case. Many frameworks merge the
    // query into the body's parameters (Rails, PHP's $_REQUEST, ASP.NET model binding) and match
    // JSON keys in any case (ASP.NET), so Doorman reads both. The demo shop does neither (axum's
    // `Form` reads only the body of a POST; serde's derive matches keys exactly): Ada is not sold
    // in these spellings, so they are no route into *this* shop. What is checked here is that
    // Mallory is turned back in each all the same.
    let seats = shop.seats_left().await;
    let not_read = [
        (format!("{CHECKOUT}?email=ada%40example.com"), FORM, "quantity=1".to_owned()),
        (CHECKOUT.to_owned(), "application/json", json("Email", "ada")),
        (CHECKOUT.to_owned(), FORM, "Email=ada%40example.com&quantity=1".to_owned()),
    ];
    for (path, ct, payload) in &not_read {
        let a = shop.send("POST", path, &[("content-type", ct)], payload.as_bytes()).await;
        assert_eq!(a.status, 422, "{path} {payload}: the demo shop now reads this spelling: {a:?}");
    }
    assert_eq!(shop.seats_left().await, seats);
    let mallory_spellings = [
        (format!("{CHECKOUT}?email=mallory%40example.com"), FORM, "quantity=1".to_owned()),
        (format!("{CHECKOUT}?email=mallory%40example.com"), FORM, form("ada")),
        (format!("{CHECKOUT}?Email=mallory%40example.com&quantity=1"), FORM, String::new()),
        (format!("{CHECKOUT}?x=1;email=mallory%40example.com"), FORM, form("ada")),
        (format!("{CHECKOUT}?email=mallory%40example.com"), "application/json", json("email", "ada")),
        (CHECKOUT.to_owned(), "application/json", json("Email", "mallory")),
        (CHECKOUT.to_owned(), "application/json", json("EMAIL", "mallory")),
        (
            CHECKOUT.to_owned(),
            "application/json",
            r#"{"email": "ada@example.com", "EMAIL": "mallory@example.com", "quantity": 1}"#.to_owned(),
        ),
        (CHECKOUT.to_owned(), "application/vnd.x+json", json("eMail", "mallory")),
        (CHECKOUT.to_owned(), FORM, "EMAIL=mallory%40example.com&quantity=1".to_owned()),
    ];
    for (path, ct, payload) in &mallory_spellings {
        let m = shop.send("POST", path, &[("content-type", ct)], payload.as_bytes()).await;
        assert!(m.is_turned_back(), "{path} {payload}: Mallory was not turned back: {m:?}");
    }
    assert_eq!(shop.seats_left().await, seats, "the shop sold to Mallory");
}

/// `data` as a gzip stream (one stored deflate block): what a client compressing its body sends.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out
}

/// What a case is called, its header fields and its body.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

pub async fn unreadable_bodies_are_refused_and_the_shop_takes_no_order(store: StoreKind) {
    let shop = DemoShop::start(store).await;
    // A form whose charset the shop ignores is a real route into it when sent past Doorman.
    let addr = shop.shop.as_ref().unwrap().addr;
    let straight = Request::post(format!("http://{addr}{CHECKOUT}"))
        .header("content-type", "application/x-www-form-urlencoded; charset=latin1")
        .body(body(form("ada")))
        .unwrap();
    let (resp, page) = send(straight).await;
    assert_eq!(resp.status(), 200, "the shop sells whatever the charset says");
    assert!(String::from_utf8_lossy(&page).contains("Order confirmed"));

    let seats = shop.seats_left().await;
    let (refused, forwarded) = (shop.checkouts("refused").await, shop.checkouts("forwarded").await);
    let mut sent = 0;
    for who in ["mallory", "ada"] {
        let cases: [Case; 7] = [
            // (text/plain is forwarded: no framework reads fields from it, this shop neither.)
            ("text/html", vec![("content-type", "text/html")], form(who).into_bytes()),
            (
                "application/xml; charset=utf-8",
                vec![("content-type", "application/xml; charset=utf-8")],
                form(who).into_bytes(),
            ),
            ("gzip", vec![("content-type", FORM), ("content-encoding", "gzip")], gzip(form(who).as_bytes())),
            (
                "charset=latin1",
                vec![("content-type", "application/x-www-form-urlencoded; charset=latin1")],
                form(who).into_bytes(),
            ),
            (
                "lone surrogate",
                vec![("content-type", "application/json")],
                format!(r#"{{"email": "{who}@example.com", "quantity": 1, "note": "\ud800"}}"#).into_bytes(),
            ),
            (
                "lone surrogate in the address",
                vec![("content-type", "application/json")],
                format!(r#"{{"email": "{who}\udc00@example.com", "quantity": 1}}"#).into_bytes(),
            ),
            (
                "NaN",
                vec![("content-type", "application/json")],
                format!(r#"{{"email": "{who}@example.com", "quantity": NaN}}"#).into_bytes(),
            ),
        ];
        for (what, headers, payload) in &cases {
            let answer = shop.send("POST", CHECKOUT, headers, payload).await;
            assert!(answer.is_refused(), "{who}, {what}: not refused: {answer:?}");
            sent += 1;
        }
    }
    assert_eq!(shop.seats_left().await, seats, "the shop took an order");
    assert_eq!(shop.checkouts("refused").await, refused + sent, "each was refused by Doorman");
    assert_eq!(shop.checkouts("forwarded").await, forwarded, "none reached the shop");
}

/// Content types spelled every way, each with a form body, a JSON body and a body that is both (a
/// JSON string that is also a form): wherever Doorman's reading of the type and the shop's
/// differed, a body would pass unread. Mallory is never sold; where the shop sells to Ada, Mallory
/// is turned back, with JSON exactly where the shop confirms Ada's order with JSON; a type Doorman
/// refuses for Ada it refuses for Mallory. (Where the shop refuses a type Doorman reads, such as
/// `Application/X-WWW-Form-Urlencoded` or `application/+json`, Mallory is turned back while Ada
/// gets the shop's 415: like any checkout the shop would refuse, a blocked one is answered
/// before the shop validates it.)
pub async fn content_type_spellings_never_sell_to_the_blacklisted(store: StoreKind) {
    let shop = DemoShop::start(store).await;
    let types: &[&[&str]] = &[
        &["application/json"],
        &["application/json;"],
        &["application/json; charset"],
        &["application/json;charset=\"utf-8\""],
        &["application/json ; charset=utf-8"],
        &["APPLICATION/JSON"],
        &["application/json, text/plain"],
        &["application/json;application/x-www-form-urlencoded"],
        &["application/json+json"],
        &["application/x-www-form-urlencoded"],
        &["application/x-www-form-urlencoded;"],
        &["application/x-www-form-urlencoded; charset=\"utf-8\""],
        &["Application/X-WWW-Form-Urlencoded"],
        &["application/x-www-form-urlencoded, application/json"],
        &["application/x-www-form-urlencoded;application/json"],
        &["application/x-www-form-urlencoded+json"],
        &["application/x-www-form-urlencodedx"],
        &["application/vnd.shop+json"],
        &["application/vnd.shop+JSON"],
        &["application/+json"],
        &["application/json-patch+json"],
        &["text/json"],
        &["text/x-json"],
        &["application/x-json"],
        &["multipart/form-data; boundary=x"],
        &[],
        &["application/x-www-form-urlencoded", "application/json"],
        &["application/json", "application/x-www-form-urlencoded"],
    ];
    let bodies: [fn(&str) -> String; 3] = [
        |who: &str| form(who),
        |who: &str| json("email", who),
        |who: &str| format!("\"&email={who}%40example.com&quantity=1&\""),
    ];
    for types in types {
        for make in &bodies {
            let headers: Vec<(&str, &str)> = types.iter().map(|t| ("content-type", *t)).collect();
            let a = shop.send("POST", CHECKOUT, &headers, make("ada").as_bytes()).await;
            let seats = shop.seats_left().await;
            let payload = make("mallory");
            let m = shop.send("POST", CHECKOUT, &headers, payload.as_bytes()).await;
            let what = format!("{types:?} {payload}");
            assert!(!m.is_order(), "{what}: the shop sold to Mallory: {m:?}");
            assert_eq!(shop.seats_left().await, seats, "{what}: the shop sold to Mallory");
            if a.is_order() {
                assert!(m.is_turned_back(), "{what}: a route into the shop, Mallory not turned back: {m:?}");
                assert_eq!(
                    m.is_json(),
                    a.is_json(),
                    "{what}: the shop confirms Ada's order as {:?}, Mallory's turn-back differs: {m:?}",
                    a.content_type
                );
            }
            if a.is_refused() {
                assert!(m.is_refused(), "{what}: refused for Ada but not for Mallory: {m:?}");
            }
        }
    }
}
