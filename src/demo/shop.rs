//! The demo ticketing backend ("demo shop") that Doorman can be put in front of.
//!
//! A small but believable ticket shop: an event list, one overview page per event with a
//! checkout form, a checkout endpoint that also speaks JSON ("checkout by JavaScript"), and
//! a cookie login. Events come from a TOML [`Catalog`] (see `fixtures/demo/events.toml`); the
//! seats left and the order counter live in memory only and are shared by all clones of the
//! [`router`].
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | 303 to `/events` |
//! | `GET /events` | the event list |
//! | `GET /events/{id}` | the event overview with the checkout form, or a "Sold out" notice |
//! | `POST /events/{id}/checkout` | form or JSON (`email`, `quantity`): 200 confirmation, 404, 409 or 422 |
//! | `GET /login`, `POST /login`, `POST /logout` | sets or clears the `shop_session` cookie |
//! | `GET /healthz` | `ok` |
//!
//! The session cookie is a signed JWT ([`super::session`]). Paths and methods are read as
//! leniently as real frameworks read them ([`super::lenient`]): [`app`] is the router behind
//! that reading. This is a demo backend for exercising the middleware, not a shop to put on the
//! internet.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};

use super::lenient::read_leniently;
use super::pages::{self, Confirmation};
use super::session::{Sessions, SESSION_COOKIE};

/// Largest request body the shop accepts (64 KiB); larger bodies are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most tickets a single order may contain.
pub const MAX_TICKETS_PER_ORDER: u32 = 10;

const MAX_EMAIL_BYTES: usize = 254;
const MAX_ACCOUNT_CHARS: usize = 64;

/// One event of the [`Catalog`], as written in a `[[event]]` table of the catalog file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// URL slug (`[a-z0-9-]`), e.g. `spring-concert`; the page is `/events/{id}`.
    pub id: String,
    /// Display title.
    pub title: String,
    /// Venue name.
    pub venue: String,
    /// Local start time, `YYYY-MM-DD HH:MM`.
    pub starts_at: String,
    /// Price of one ticket in cents of `currency`.
    pub price_cents: u64,
    /// ISO 4217 currency code, e.g. `EUR`.
    pub currency: String,
    /// Tickets still on sale; `0` means sold out.
    pub seats_left: u32,
    /// Slug of the organizer, e.g. `harbour-hall`.
    pub organizer: String,
    /// A paragraph of plain text about the event.
    pub description: String,
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog file could not be read.
    #[error("cannot read catalog {}: {source}", path.display())]
    Io {
        /// The file that was read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the catalog's shape.
    #[error("cannot parse catalog: {0}")]
    Parse(#[from] toml::de::Error),
    /// The file parsed but an event is invalid (bad slug, duplicate id, ...).
    #[error("invalid catalog: {0}")]
    Invalid(String),
}

/// The events the shop sells, in the order of the catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    events: Vec<Event>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    event: Vec<Event>,
}

impl Catalog {
    /// Reads and validates the TOML catalog at `path` (one `[[event]]` table per event).
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogError::Io { path: path.to_owned(), source })?;
        Catalog::from_toml_str(&text)
    }

    /// Parses and validates a catalog from TOML text.
    pub fn from_toml_str(s: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(s)?;
        let mut seen = HashSet::new();
        for e in &file.event {
            let invalid = |what: &str| CatalogError::Invalid(format!("event {:?}: {what}", e.id));
            if !is_slug(&e.id) {
                return Err(invalid("id must be 1-64 characters of a-z, 0-9 and '-'"));
            }
            if !seen.insert(e.id.as_str()) {
                return Err(invalid("duplicate id"));
            }
            if !is_slug(&e.organizer) {
                return Err(invalid("organizer must be a slug like \"harbour-hall\""));
            }
            if e.title.trim().is_empty() || e.venue.trim().is_empty() {
                return Err(invalid("title and venue must not be empty"));
            }
            if !is_start_time(&e.starts_at) {
                return Err(invalid("starts_at must look like \"2027-04-18 19:30\""));
            }
            if e.currency.len() != 3 || !e.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid("currency must be a three-letter code like \"EUR\""));
            }
        }
        Ok(Catalog { events: file.event })
    }

    /// All events, in catalog order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The event with this id, if any.
    pub fn get(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Event> {
        self.events.iter_mut().find(|e| e.id == id)
    }
}

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

fn is_start_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b' ',
            13 => c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// Mutable shop state: the catalog with its seat counts, and the last order number issued.
struct Inventory {
    catalog: Catalog,
    last_order: u64,
}

/// The shop's state: inventory, and the keys of its sessions.
struct ShopState {
    inventory: Mutex<Inventory>,
    sessions: Sessions,
}

type Shop = Arc<ShopState>;

fn lock(shop: &Shop) -> MutexGuard<'_, Inventory> {
    // Nothing panics while holding the lock, but don't turn a poisoned lock into more panics.
    shop.inventory.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The shop as served: [`router`] behind the lenient reading of paths and methods.
pub fn app(catalog: Catalog, sessions: Sessions) -> tower::util::MapRequest<Router, fn(Request) -> Request> {
    tower::util::MapRequest::new(router(catalog, sessions), read_leniently as fn(Request) -> Request)
}

/// Builds the demo shop's router. Seats and order numbers are shared by all clones of it.
pub fn router(catalog: Catalog, sessions: Sessions) -> Router {
    let shop: Shop =
        Arc::new(ShopState { inventory: Mutex::new(Inventory { catalog, last_order: 0 }), sessions });
    Router::new()
        .route("/", get(|| async { see_other("/events", None) }))
        .route("/events", get(list_events))
        .route("/events/{id}", get(show_event))
        .route("/events/{id}/checkout", post(checkout))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shop)
}

async fn list_events(State(shop): State<Shop>, headers: HeaderMap) -> Html<String> {
    let account = shop.sessions.account(&headers);
    Html(pages::events_page(account.as_deref(), lock(&shop).catalog.events()))
}

async fn show_event(State(shop): State<Shop>, UrlPath(id): UrlPath<String>, headers: HeaderMap) -> Response {
    let account = shop.sessions.account(&headers);
    let account = account.as_deref();
    let inv = lock(&shop);
    match inv.catalog.get(&id) {
        Some(e) => {
            let max = e.seats_left.min(MAX_TICKETS_PER_ORDER);
            Html(pages::event_page(account, e, max)).into_response()
        }
        None => unknown_event(account, &id),
    }
}

/// The checkout form's fields. Strings, so that a bad quantity gets our 422 and reason.
#[derive(Deserialize)]
struct CheckoutForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    quantity: String,
}

#[derive(Deserialize)]
struct CheckoutJson {
    email: String,
    quantity: i64,
}

#[derive(Serialize)]
struct OrderJson<'a> {
    order: &'a str,
    event: &'a str,
    title: &'a str,
    quantity: u32,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
}

/// Why an order was refused.
enum OrderError {
    UnknownEvent,
    SoldOut,
    NotEnoughSeats(u32),
    Invalid(&'static str),
}

impl OrderError {
    fn status(&self) -> StatusCode {
        match self {
            OrderError::UnknownEvent => StatusCode::NOT_FOUND,
            OrderError::SoldOut | OrderError::NotEnoughSeats(_) => StatusCode::CONFLICT,
            OrderError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn message(&self) -> String {
        match self {
            OrderError::UnknownEvent => "There is no such event.".to_owned(),
            OrderError::SoldOut => "Sorry, this event is sold out.".to_owned(),
            OrderError::NotEnoughSeats(n) => format!("Sorry, only {n} seats are left."),
            OrderError::Invalid(why) => (*why).to_owned(),
        }
    }
}

struct Order {
    number: String,
    event: Event,
    quantity: u32,
    email: String,
}

/// Validates the input and takes the seats, all under one lock.
fn place_order(shop: &Shop, id: &str, email: &str, quantity: Option<i64>) -> Result<Order, OrderError> {
    let mut inv = lock(shop);
    let event = inv.catalog.get_mut(id).ok_or(OrderError::UnknownEvent)?;
    if event.seats_left == 0 {
        return Err(OrderError::SoldOut);
    }
    let email = email.trim();
    let garbled = |c: char| c.is_control() || c == char::REPLACEMENT_CHARACTER;
    if !email.contains('@') || email.len() > MAX_EMAIL_BYTES || email.contains(garbled) {
        return Err(OrderError::Invalid("Please enter a valid e-mail address (at most 254 characters)."));
    }
    let quantity = quantity
        .and_then(|q| u32::try_from(q).ok())
        .filter(|q| (1..=MAX_TICKETS_PER_ORDER).contains(q))
        .ok_or(OrderError::Invalid("The quantity must be a whole number from 1 to 10."))?;
    if quantity > event.seats_left {
        return Err(OrderError::NotEnoughSeats(event.seats_left));
    }
    event.seats_left -= quantity;
    let event = event.clone();
    inv.last_order += 1;
    let number = format!("DM-{:06}", inv.last_order);
    tracing::info!(order = %number, event = %event.id, quantity, "demo shop order placed");
    Ok(Order { number, event, quantity, email: email.to_owned() })
}

async fn checkout(State(shop): State<Shop>, UrlPath(id): UrlPath<String>, req: Request) -> Response {
    let account = shop.sessions.account(req.headers());
    let account = account.as_deref();
    let json = is_json(req.headers());
    // An unknown event is 404 whatever the body looks like.
    let result = if lock(&shop).catalog.get(&id).is_none() {
        Err(OrderError::UnknownEvent)
    } else if json {
        match Json::<CheckoutJson>::from_request(req, &()).await {
            Ok(Json(input)) => place_order(&shop, &id, &input.email, Some(input.quantity)),
            Err(rejection) => return json_error(rejection.status(), &rejection.body_text()),
        }
    } else {
        match Form::<CheckoutForm>::from_request(req, &()).await {
            Ok(Form(f)) => place_order(&shop, &id, &f.email, f.quantity.trim().parse().ok()),
            Err(rejection) => return bad_form(account, rejection),
        }
    };
    match result {
        Ok(o) if json => Json(OrderJson {
            order: &o.number,
            event: &o.event.id,
            title: &o.event.title,
            quantity: o.quantity,
        })
        .into_response(),
        Ok(o) => Html(pages::confirmation_page(&Confirmation {
            order: &o.number,
            event: &o.event,
            quantity: o.quantity,
            email: &o.email,
            account,
        }))
        .into_response(),
        Err(e) if json => json_error(e.status(), &e.message()),
        Err(OrderError::UnknownEvent) => unknown_event(account, &id),
        Err(e) => {
            let title = match e {
                OrderError::Invalid(_) => "Please check your order",
                _ => "Not enough tickets",
            };
            message(e.status(), account, title, &e.message())
        }
    }
}

async fn login_form(State(shop): State<Shop>, headers: HeaderMap) -> Html<String> {
    Html(pages::login_page(shop.sessions.account(&headers).as_deref(), None))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    account: String,
}

async fn login(
    State(shop): State<Shop>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let current = shop.sessions.account(&headers);
    let current = current.as_deref();
    let account = match form {
        Ok(Form(f)) => f.account,
        Err(rejection) => return bad_form(current, rejection),
    };
    if !is_account(&account) {
        let why = "Account names are 1 to 64 characters: letters, digits, '_', '.' and '-'.";
        let page = pages::login_page(current, Some(why));
        return (StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response();
    }
    tracing::debug!(%account, "demo shop login");
    let token = shop.sessions.issue(&account);
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax");
    see_other("/events", Some(cookie))
}

async fn logout() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    see_other("/events", Some(cookie))
}

async fn not_found(State(shop): State<Shop>, headers: HeaderMap) -> Response {
    let why = "There is no page at this address.";
    message(StatusCode::NOT_FOUND, shop.sessions.account(&headers).as_deref(), "Page not found", why)
}

async fn method_not_allowed(State(shop): State<Shop>, headers: HeaderMap) -> Response {
    let why = "This address does not accept that method.";
    let account = shop.sessions.account(&headers);
    message(StatusCode::METHOD_NOT_ALLOWED, account.as_deref(), "Method not allowed", why)
}

fn is_account(s: &str) -> bool {
    (1..=MAX_ACCOUNT_CHARS).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn is_json(headers: &HeaderMap) -> bool {
    let ct = headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes());
    let mime = ct.unwrap_or_default().split(|&b| b == b';').next().unwrap_or_default();
    let mime = String::from_utf8_lossy(mime).trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn see_other(location: &'static str, cookie: Option<String>) -> Response {
    let body = Html(format!("<a href=\"{location}\">{location}</a>"));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)], body).into_response();
    if let Some(value) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn message(status: StatusCode, account: Option<&str>, title: &str, text: &str) -> Response {
    (status, Html(pages::message_page(account, title, text))).into_response()
}

fn unknown_event(account: Option<&str>, id: &str) -> Response {
    let text = format!("There is no event called \"{id}\".");
    message(StatusCode::NOT_FOUND, account, "Event not found", &text)
}

fn bad_form(account: Option<&str>, rejection: FormRejection) -> Response {
    let (status, text) = (rejection.status(), rejection.body_text());
    message(status, account, "The form could not be read", &text)
}

fn json_error(status: StatusCode, error: &str) -> Response {
    (status, Json(ErrorJson { error })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    const CATALOG: &str = r#"
        [[event]]
        id = "spring-concert"
        title = "Spring Concert"
        venue = "Harbour Hall"
        starts_at = "2027-04-18 19:30"
        price_cents = 4500
        currency = "EUR"
        seats_left = 12
        organizer = "harbour-hall"
        description = "Strings and spring."

        [[event]]
        id = "summer-gala"
        title = "Summer Gala"
        venue = "Stadtpark"
        starts_at = "2027-07-03 20:00"
        price_cents = 8900
        currency = "EUR"
        seats_left = 0
        organizer = "city-arts-society"
        description = "Opera under the open sky."

        [[event]]
        id = "last-seats"
        title = "Last Seats"
        venue = "Old Town Theatre"
        starts_at = "2027-12-12 15:00"
        price_cents = 2400
        currency = "EUR"
        seats_left = 3
        organizer = "old-town-theatre"
        description = "Nearly gone."
    "#;

    const HTML: &str = "text/html; charset=utf-8";
    const TEST_SECRET: &[u8] = b"the-demo-shop-test-secret-32-bytes!!";
    const FORM: &str = "application/x-www-form-urlencoded";

    struct Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    impl Reply {
        fn content_type(&self) -> &str {
            self.headers[header::CONTENT_TYPE].to_str().unwrap()
        }
    }

    fn app() -> Router {
        router(Catalog::from_toml_str(CATALOG).unwrap(), Sessions::new(TEST_SECRET))
    }

    async fn send(app: &Router, req: HttpRequest<Body>) -> Reply {
        let response = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let reply = Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        };
        assert!(reply.headers.contains_key(header::CONTENT_TYPE), "no content-type: {}", reply.body);
        reply
    }

    async fn get_page(app: &Router, uri: &str, cookie: Option<&str>) -> Reply {
        let mut req = HttpRequest::get(uri);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        send(app, req.body(Body::empty()).unwrap()).await
    }

    async fn post(app: &Router, uri: &str, ctype: &str, body: impl Into<Body>) -> Reply {
        post_as(app, uri, ctype, body, None).await
    }

    async fn post_as(
        app: &Router,
        uri: &str,
        ctype: &str,
        body: impl Into<Body>,
        cookie: Option<&str>,
    ) -> Reply {
        let mut req = HttpRequest::post(uri).header(header::CONTENT_TYPE, ctype);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        send(app, req.body(body.into()).unwrap()).await
    }

    async fn seats_left(app: &Router, id: &str) -> String {
        let page = get_page(app, &format!("/events/{id}"), None).await.body;
        let end = page.find(" seats left.").expect("seats shown");
        let start = page[..end].rfind('>').unwrap() + 1;
        page[start..end].to_owned()
    }

    #[test]
    fn fixture_catalog_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/events.toml");
        let catalog = Catalog::load(&path).unwrap();
        assert!((3..=4).contains(&catalog.events().len()));
        assert!(catalog.get("spring-concert").unwrap().seats_left > 0);
        assert_eq!(catalog.get("summer-gala").unwrap().seats_left, 0);
        let missing = Catalog::load(Path::new("/nonexistent/events.toml"));
        assert!(matches!(missing, Err(CatalogError::Io { .. })));
    }

    #[test]
    fn invalid_catalogs_are_rejected() {
        let dup =
            format!("{CATALOG}{}", &CATALOG[..CATALOG.find("[[event]]\n        id = \"summer").unwrap()]);
        assert!(matches!(Catalog::from_toml_str(&dup), Err(CatalogError::Invalid(_))));
        let bad_slug = CATALOG.replace("\"spring-concert\"", "\"Spring Concert\"");
        assert!(matches!(Catalog::from_toml_str(&bad_slug), Err(CatalogError::Invalid(_))));
        let bad_date = CATALOG.replace("2027-04-18 19:30", "April 18th");
        assert!(matches!(Catalog::from_toml_str(&bad_date), Err(CatalogError::Invalid(_))));
        let extra = CATALOG.replace("seats_left = 12", "seats_left = 12\nvip = true");
        assert!(matches!(Catalog::from_toml_str(&extra), Err(CatalogError::Parse(_))));
        let negative = CATALOG.replace("seats_left = 12", "seats_left = -1");
        assert!(matches!(Catalog::from_toml_str(&negative), Err(CatalogError::Parse(_))));
        assert!(Catalog::from_toml_str("").unwrap().events().is_empty());
    }

    #[tokio::test]
    async fn root_redirects_and_healthz_answers() {
        let app = app();
        let r = get_page(&app, "/", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers[header::LOCATION], "/events");
        let r = get_page(&app, "/healthz", None).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
        assert!(r.content_type().starts_with("text/plain"));
    }

    #[tokio::test]
    async fn listing_shows_events_with_links_and_badges() {
        let r = get_page(&app(), "/events", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::OK, HTML));
        assert!(r.body.contains("Demo Ticket Shop"));
        for needle in [
            "<a href=\"/events/spring-concert\">Spring Concert</a>",
            "<a href=\"/events/summer-gala\">Summer Gala</a><span class=\"badge\">Sold out</span>",
            "2027-04-18 19:30",
            "Harbour Hall",
            "45.00 EUR",
        ] {
            assert!(r.body.contains(needle), "missing {needle:?} in {}", r.body);
        }
        assert_eq!(r.body.matches("Sold out").count(), 1);
        assert!(r.body.contains("href=\"/login\""));
    }

    #[tokio::test]
    async fn overview_of_an_event_on_sale_has_the_checkout_form() {
        let r = get_page(&app(), "/events/spring-concert", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::OK, HTML));
        for needle in [
            "<form method=\"post\" action=\"/events/spring-concert/checkout\">",
            "type=\"email\" name=\"email\"",
            "type=\"number\" name=\"quantity\" min=\"1\" max=\"10\"",
            ">Buy tickets</button>",
            "Strings and spring.",
        ] {
            assert!(r.body.contains(needle), "missing {needle:?} in {}", r.body);
        }
        let few = get_page(&app(), "/events/last-seats", None).await;
        assert!(few.body.contains("min=\"1\" max=\"3\""));
    }

    #[tokio::test]
    async fn overview_of_a_sold_out_event_has_no_form() {
        let r = get_page(&app(), "/events/summer-gala", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::OK, HTML));
        assert!(r.body.contains("Sold out"));
        assert!(!r.body.contains("<form method=\"post\" action=\"/events/summer-gala/checkout\""));
        assert!(!r.body.contains("Buy tickets"));
    }

    #[tokio::test]
    async fn unknown_things_are_404_html() {
        let app = app();
        let r = get_page(&app, "/events/winter-ball", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::NOT_FOUND, HTML));
        let form = "email=a%40example.org&quantity=1";
        let r = post(&app, "/events/winter-ball/checkout", FORM, form).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::NOT_FOUND, HTML));
        let json = r#"{"email":"a@example.org","quantity":1}"#;
        let r = post(&app, "/events/winter-ball/checkout", "application/json", json).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.content_type(), "application/json");
        let r = get_page(&app, "/nope", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::NOT_FOUND, HTML));
        let r = post(&app, "/events", FORM, "").await;
        assert_eq!((r.status, r.content_type()), (StatusCode::METHOD_NOT_ALLOWED, HTML));
    }

    #[tokio::test]
    async fn form_checkout_confirms_and_takes_seats() {
        let app = app();
        let form = "email=ann%40example.org&quantity=2";
        let r = post(&app, "/events/spring-concert/checkout", FORM, form).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::OK, HTML));
        for needle in ["DM-000001", "Spring Concert", "Quantity: 2", "ann@example.org", "90.00 EUR"] {
            assert!(r.body.contains(needle), "missing {needle:?} in {}", r.body);
        }
        assert!(!r.body.contains("Account:"));
        assert_eq!(seats_left(&app, "spring-concert").await, "10");
        let r = post(&app, "/events/spring-concert/checkout", FORM, "email=b%40x.org&quantity=10").await;
        assert!(r.body.contains("DM-000002"));
        let sold_out = get_page(&app, "/events/spring-concert", None).await;
        assert!(sold_out.body.contains("Sold out") && !sold_out.body.contains("Buy tickets"));
        let r = post(&app, "/events/spring-concert/checkout", FORM, "email=c%40x.org&quantity=1").await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }

    #[tokio::test]
    async fn json_checkout_answers_json() {
        let app = app();
        let body = r#"{"email":"js@example.org","quantity":3}"#;
        let r = post(&app, "/events/spring-concert/checkout", "application/json", body).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.content_type(), "application/json");
        assert_eq!(
            r.body,
            r#"{"order":"DM-000001","event":"spring-concert","title":"Spring Concert","quantity":3}"#
        );
        assert_eq!(seats_left(&app, "spring-concert").await, "9");
        let ct = "application/json; charset=utf-8";
        let r = post(&app, "/events/spring-concert/checkout", ct, body).await;
        assert!(r.body.contains("\"order\":\"DM-000002\""));
        let bad = r#"{"email":"js@example.org","quantity":0}"#;
        let r = post(&app, "/events/spring-concert/checkout", "application/json", bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.starts_with("{\"error\":"));
    }

    #[tokio::test]
    async fn sold_out_and_too_few_seats_are_409() {
        let app = app();
        let form = "email=a%40example.org&quantity=1";
        let r = post(&app, "/events/summer-gala/checkout", FORM, form).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::CONFLICT, HTML));
        assert!(r.body.contains("sold out"));
        let r = post(&app, "/events/last-seats/checkout", FORM, "email=a%40example.org&quantity=4").await;
        assert_eq!((r.status, r.content_type()), (StatusCode::CONFLICT, HTML));
        assert!(r.body.contains("only 3 seats are left"));
        let json = r#"{"email":"a@example.org","quantity":1}"#;
        let r = post(&app, "/events/summer-gala/checkout", "application/json", json).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::CONFLICT, "application/json"));
    }

    #[tokio::test]
    async fn invalid_input_is_422_with_a_reason() {
        let app = app();
        let long = format!("email={}%40example.org&quantity=1", "a".repeat(250));
        for (form, reason) in [
            ("email=a%40example.org&quantity=0", "quantity"),
            ("email=a%40example.org&quantity=11", "quantity"),
            ("email=a%40example.org&quantity=-1", "quantity"),
            ("email=a%40example.org&quantity=two", "quantity"),
            ("email=a%40example.org", "quantity"),
            ("email=&quantity=1", "e-mail"),
            ("email=no-at-sign&quantity=1", "e-mail"),
            ("quantity=1", "e-mail"),
            (long.as_str(), "e-mail"),
        ] {
            let r = post(&app, "/events/spring-concert/checkout", FORM, form.to_owned()).await;
            assert_eq!((r.status, r.content_type()), (StatusCode::UNPROCESSABLE_ENTITY, HTML), "{form}");
            assert!(r.body.contains(reason), "{form}: {}", r.body);
        }
        assert_eq!(seats_left(&app, "spring-concert").await, "12");
    }

    #[tokio::test]
    async fn login_sets_cookie_and_pages_show_the_account() {
        let app = app();
        let r = get_page(&app, "/login", None).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::OK, HTML));
        assert!(r.body.contains("name=\"account\""));
        let r = post(&app, "/login", FORM, "account=alice").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers[header::LOCATION], "/events");
        let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert!(set.ends_with("; Path=/; HttpOnly; SameSite=Lax"), "{set}");
        let token = set.split(';').next().unwrap().strip_prefix("shop_session=").unwrap();
        assert_eq!(Sessions::new(TEST_SECRET).issue("alice").split('.').next(), token.split('.').next());
        let cookie = format!("theme=dark; shop_session={token}");
        let cookie = Some(cookie.as_str());
        let r = get_page(&app, "/events", cookie).await;
        assert!(r.body.contains("Signed in as <strong>alice</strong>"));
        let form = "email=alice%40example.org&quantity=1";
        let r = post_as(&app, "/events/spring-concert/checkout", FORM, form, cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Account: alice"));
        let r = post_as(&app, "/logout", FORM, "", cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let cleared = r.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(cleared.starts_with("shop_session=;") && cleared.contains("Max-Age=0"));
        for bad in
            ["account=", "account=al+ice", "account=%3Cscript%3E", &format!("account={}", "a".repeat(65))]
        {
            let r = post(&app, "/login", FORM, bad.to_owned()).await;
            assert_eq!((r.status, r.content_type()), (StatusCode::UNPROCESSABLE_ENTITY, HTML), "{bad}");
            assert!(!r.headers.contains_key(header::SET_COOKIE));
        }
        for forged in ["shop_session=<b>x</b>", "shop_session=alice"] {
            let forged = get_page(&app, "/events", Some(forged)).await;
            assert!(!forged.body.contains("Signed in as"), "an unsigned session was accepted");
        }
    }

    #[tokio::test]
    async fn hostile_values_are_escaped() {
        let hostile = CATALOG
            .replace("\"Spring Concert\"", r#"'<script>alert("t")</script>'"#)
            .replace("Harbour Hall", "Hall & <b>Bar</b>")
            .replace(r#""Strings and spring.""#, r#""\" onmouseover='x'""#);
        let app = router(Catalog::from_toml_str(&hostile).unwrap(), Sessions::new(TEST_SECRET));
        for uri in ["/events", "/events/spring-concert"] {
            let body = get_page(&app, uri, None).await.body;
            assert!(!body.contains("<script>") && !body.contains("<b>Bar"), "{body}");
            assert!(body.contains("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;"));
            assert!(body.contains("Hall &amp; &lt;b&gt;Bar&lt;/b&gt;"));
        }
        let body = get_page(&app, "/events/spring-concert", None).await.body;
        assert!(body.contains("&quot; onmouseover=&#x27;x&#x27;"));
        let form = "email=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E%40evil.example&quantity=1";
        let r = post(&app, "/events/spring-concert/checkout", FORM, form).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("<img") && r.body.contains("&quot;&gt;&lt;img src=x"), "{}", r.body);
        let r = get_page(&app, "/events/%3Cscript%3Ex%3C%2Fscript%3E", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.body.contains("<script>x") && r.body.contains("&lt;script&gt;x"));
    }

    #[tokio::test]
    async fn oversized_bodies_are_413() {
        let app = app();
        let big = format!("email=a%40example.org&quantity=1&pad={}", "x".repeat(MAX_BODY_BYTES));
        let r = post(&app, "/events/spring-concert/checkout", FORM, big.clone()).await;
        assert_eq!((r.status, r.content_type()), (StatusCode::PAYLOAD_TOO_LARGE, HTML));
        let r = post(&app, "/login", FORM, big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        let json =
            format!(r#"{{"email":"a@example.org","quantity":1,"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        let r = post(&app, "/events/spring-concert/checkout", "application/json", json).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(seats_left(&app, "spring-concert").await, "12");
    }

    #[tokio::test]
    async fn malformed_bodies_are_4xx_not_panics() {
        let app = app();
        let uri = "/events/spring-concert/checkout";
        let cases: [(&str, Body); 6] = [
            (FORM, Body::from("email=a%40b&quantity=1&quantity=2")),
            (FORM, Body::from(&b"email=\xff\xfe%40x&quantity=1"[..])),
            (FORM, Body::from("%%%&&&===")),
            ("text/plain", Body::from("email=a@b quantity=1")),
            ("application/json", Body::from("{\"email\": ")),
            ("application/json", Body::from(r#"{"email":"a@b","quantity":"many"}"#)),
        ];
        for (ctype, body) in cases {
            let r = post(&app, uri, ctype, body).await;
            assert!(r.status.is_client_error(), "{ctype}: {} {}", r.status, r.body);
        }
        let r = send(&app, HttpRequest::post(uri).body(Body::empty()).unwrap()).await;
        assert!(r.status.is_client_error());
        assert_eq!(seats_left(&app, "spring-concert").await, "12");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checkouts_never_oversell() {
        let app = app();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let form = format!("email=u{i}%40example.org&quantity=1");
                post(&app, "/events/last-seats/checkout", FORM, form).await.status
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::OK => ok += 1,
                status => assert_eq!(status, StatusCode::CONFLICT),
            }
        }
        assert_eq!(ok, 3);
    }
}
