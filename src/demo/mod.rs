//! `doorman demo`: a demo ticket shop on a loopback port with Doorman in front of it.
//!
//! The shop ([`shop`]) is a stand-in for a real ticketing backend; its events come from
//! `fixtures/demo/events.toml` and the policy from `policies/demo.toml`, both compiled in so the
//! demo runs from any folder.

pub mod lenient;
mod pages;
pub mod session;
pub mod shop;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::core::blacklist::session::SessionVerifier;
use crate::core::email_hash::EmailHasher;
use crate::core::policy::Policy;
use crate::hosts::admin::{random_token, AdminToken};
use crate::hosts::admin_client::{AdminClient, ClientError};
use crate::hosts::serve::{self, ServeOptions};
use crate::hosts::Failure;
use crate::ports::random::SystemRandom;

/// The demo's event catalogue.
pub const EVENTS_TOML: &str = include_str!("../../fixtures/demo/events.toml");
/// The demo's policy.
pub const POLICY_TOML: &str = include_str!("../../policies/demo.toml");

/// A running demo shop.
pub struct ShopServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl ShopServer {
    /// Starts the demo shop on `addr` (port 0 picks a free port) in its own thread, signing its
    /// sessions with `session_secret`.
    pub fn start(addr: SocketAddr, session_secret: &[u8]) -> std::io::Result<Self> {
        let sessions = session::Sessions::new(session_secret);
        let catalog = shop::Catalog::from_toml_str(EVENTS_TOML)
            .map_err(|e| std::io::Error::other(format!("demo catalogue: {e}")))?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("demo-shop".into()).spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a bound listener registers");
                let app = shop::app(catalog, sessions);
                let make = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
                let _ = axum::serve(listener, make)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        })?;
        Ok(Self { addr, stop, thread })
    }

    /// Stops the shop and waits for its thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The demo's HMAC key lives in the data folder (`hash.key`), made on first start, so entries
/// stay valid across restarts with the same `--data-dir`. `DOORMAN_HASH_KEY` wins.
fn demo_hasher(data_dir: &std::path::Path) -> Result<EmailHasher, Failure> {
    let key = match std::env::var("DOORMAN_HASH_KEY") {
        Ok(k) => k.trim().to_owned(),
        Err(_) => demo_secret(data_dir, "hash.key")?,
    };
    EmailHasher::hmac(key.as_bytes()).map_err(|e| Failure::Usage(format!("demo hash key: {e}")))
}

/// The demo's link key lives in the data folder (`link.key`), like the hash key, so mailed
/// links keep working across restarts. `DOORMAN_LINK_KEY` wins.
fn demo_link_signer(data_dir: &std::path::Path) -> Result<crate::core::waitlist::link::Signer, Failure> {
    let key = match std::env::var("DOORMAN_LINK_KEY") {
        Ok(k) => k,
        Err(_) => demo_secret(data_dir, "link.key")?,
    };
    crate::app::secrets::link_signer(key.as_bytes())
        .map_err(|e| Failure::Usage(format!("demo link key: {e}")))
}

/// The demo's data key lives in the data folder (`data.key`), like the link key, so signups
/// stay readable across restarts. `DOORMAN_DATA_KEY` wins.
fn demo_data_keys(data_dir: &std::path::Path) -> Result<crate::app::vault::Vault, Failure> {
    let keys = match std::env::var("DOORMAN_DATA_KEY") {
        Ok(k) => k,
        Err(_) => demo_secret(data_dir, "data.key")?,
    };
    crate::app::secrets::data_keys(keys.as_bytes()).map_err(|e| Failure::Usage(format!("demo data key: {e}")))
}

/// A secret kept in the data folder under `name`, made on first start.
fn demo_secret(data_dir: &std::path::Path, name: &str) -> Result<String, Failure> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", data_dir.display())))?;
    let path = data_dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(k) => Ok(k.trim().to_owned()),
        Err(_) => {
            let no_randomness = |e| Failure::Runtime(format!("cannot make the demo's {name}: {e}"));
            let k = random_token(&SystemRandom).map_err(no_randomness)?
                + &random_token(&SystemRandom).map_err(no_randomness)?;
            std::fs::write(&path, &k)
                .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", path.display())))?;
            Ok(k)
        }
    }
}

/// `listen` with a free port in place of port 0.
fn concrete_port(listen: &str) -> Result<String, Failure> {
    let addr: SocketAddr = listen.parse().map_err(|e| Failure::Usage(format!("--listen {listen}: {e}")))?;
    if addr.port() != 0 {
        return Ok(listen.to_owned());
    }
    let probe = std::net::TcpListener::bind(addr)
        .map_err(|e| Failure::Runtime(format!("cannot listen on {listen}: {e}")))?;
    Ok(probe.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?.to_string())
}

/// The organizer whose box office the demo sets up: summer-gala's.
const DEMO_BOX_OFFICE: (&str, &str) = ("city-arts-society", "City Arts Society");

/// Maps every demo event to its organizer through the admin API, so organizer entries apply,
/// opens the waitlist of every sold-out event, and sets up summer-gala's organizer's box office
/// as its admin would: answers the box-office token for the banner.
fn map_events(admin: SocketAddr, token: &str) -> Result<String, Failure> {
    let catalog = shop::Catalog::from_toml_str(EVENTS_TOML)
        .map_err(|e| Failure::Runtime(format!("demo catalogue: {e}")))?;
    let client = AdminClient::new(format!("http://{admin}"), token.to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async {
        for event in catalog.events() {
            let body = serde_json::json!({ "organizer": event.organizer });
            client
                .call(http::Method::PUT, &format!("/v1/events/{}", event.id), Some(body))
                .await
                .map_err(|e| Failure::Runtime(format!("cannot map demo event {}: {e}", event.id)))?;
            if event.seats_left == 0 {
                // Sold out: its waitlist is open, as an organizer's admin would set it, in
                // automatic mode: freed seats go to the longest waiting, whose offers hold an hour.
                let mut body = serde_json::json!({
                    "sold_out": true,
                    "active": true,
                    "title": event.title,
                    "mode": "automatic",
                    "offer_hours": 1,
                    "offer_link": "/events/{event}?offer={code}",
                });
                // Its start (taken as UTC), while it is ahead: messages to the list may be
                // timed before it.
                let starts = format!("{}:00Z", event.starts_at.replace(' ', "T"));
                let ahead = humantime::parse_rfc3339(&starts).is_ok_and(|t| t > std::time::SystemTime::now());
                if ahead {
                    body["starts"] = serde_json::Value::String(starts);
                }
                client
                    .call(http::Method::PATCH, &format!("/v1/events/{}/waitlist", event.id), Some(body))
                    .await
                    .map_err(|e| {
                        Failure::Runtime(format!("cannot open the waitlist of {}: {e}", event.id))
                    })?;
            }
        }
        let (id, name) = DEMO_BOX_OFFICE;
        let failed = |e: ClientError| Failure::Runtime(format!("cannot set up the demo box office: {e}"));
        let created = client
            .call(http::Method::POST, "/v1/organizers", Some(serde_json::json!({ "id": id, "name": name })))
            .await;
        match created {
            Ok(_) => {}
            Err(ClientError::Api { status, .. }) if status == http::StatusCode::CONFLICT => {} // used before
            Err(e) => return Err(failed(e)),
        }
        // Its box office, and customers may download and erase their own data.
        let address = serde_json::json!({
            "box_office_address": format!("box-office@{id}.example"),
            "self_service": true,
        });
        client
            .call(http::Method::PATCH, &format!("/v1/organizers/{id}"), Some(address))
            .await
            .map_err(failed)?;
        let issued = client
            .call(http::Method::POST, &format!("/v1/organizers/{id}/box-office-token"), None)
            .await
            .map_err(failed)?;
        Ok(issued["token"].as_str().unwrap_or_default().to_owned())
    })
}

/// Runs the demo until SIGINT/SIGTERM.
pub fn run(listen: &str, admin_listen: &str, data_dir: Option<PathBuf>) -> Result<(), Failure> {
    let temp;
    let data_dir = match data_dir {
        Some(d) => d,
        None => {
            temp = tempfile::Builder::new()
                .prefix("doorman-demo-")
                .tempdir()
                .map_err(|e| Failure::Runtime(format!("cannot create a temporary folder: {e}")))?;
            temp.path().to_owned()
        }
    };
    // Links in the waitlist's mails name the public address, so a port 0 is chosen here.
    let listen = concrete_port(listen)?;
    let session_secret = demo_secret(&data_dir, "session.key")?;
    let shop = ShopServer::start(([127, 0, 0, 1], 0).into(), session_secret.as_bytes())
        .map_err(|e| Failure::Runtime(format!("cannot start the demo shop: {e}")))?;
    let overrides = [
        ("DOORMAN_SERVER_LISTEN", listen.to_owned()),
        ("DOORMAN_SERVER_ADMIN_LISTEN", admin_listen.to_owned()),
        ("DOORMAN_BACKEND_URL", format!("http://{}", shop.addr)),
        ("DOORMAN_WAITLIST_PUBLIC_URL", format!("http://{listen}")),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let policy = Policy::from_toml_str("policies/demo.toml", POLICY_TOML, overrides)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let (token, generated) = match std::env::var("DOORMAN_ADMIN_TOKEN") {
        Ok(t) => (t, false),
        Err(_) => (
            random_token(&SystemRandom)
                .map_err(|e| Failure::Runtime(format!("cannot make an admin token: {e}")))?,
            true,
        ),
    };
    let admin_token =
        AdminToken::new(&token).map_err(|e| Failure::Usage(format!("DOORMAN_ADMIN_TOKEN: {e}")))?;
    let email_hasher = demo_hasher(&data_dir)?;
    // Doorman verifies the shop's own session cookie with the shop's secret.
    let session = match policy.blacklist.as_ref().and_then(|b| b.session.clone()) {
        Some(settings) => Some(
            SessionVerifier::new(settings, session_secret.as_bytes())
                .map_err(|e| Failure::Usage(format!("demo session key: {e}")))?,
        ),
        None => None,
    };
    let running = serve::start(
        policy,
        ServeOptions {
            data_dir: data_dir.clone(),
            admin_token: Some(admin_token),
            tls: None,
            backend_tls: None,
            email_hasher: Some(email_hasher),
            session,
            link_signer: Some(demo_link_signer(&data_dir)?),
            data_keys: Some(demo_data_keys(&data_dir)?),
            smtp: None,
            sms: None,
        },
    )
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    let (public, admin) = (running.public_addr, running.admin_addr);
    let box_office_token = map_events(admin, &token)?;
    let shown_token = if generated { token.as_str() } else { "$DOORMAN_ADMIN_TOKEN" };
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "doorman".into());
    let banner = format!(
        "\nDoorman demo is running.\n\n\
         \x20 Ticket shop (through Doorman):  http://{public}/events\n\
         \x20 Demo backend (direct):          http://{backend}/events\n\
         \x20 Admin and operations:           http://{admin}\n\
         \x20 Admin token:                    {shown_token}\n\
         \x20 Data folder:                    {data}\n\n\
         Buy tickets:\n\
         \x20 curl -si -X POST -d 'email=ada@example.com&quantity=2' http://{public}/events/spring-concert/checkout\n\n\
         Blacklist a guest address, then try the same checkout again (it lands back on the event page):\n\
         \x20 export DOORMAN_ADMIN_URL=http://{admin} DOORMAN_ADMIN_TOKEN={shown_token}\n\
         \x20 {exe} blacklist add --email ada@example.com --reason 'chargebacks'\n\
         \x20 curl -si -X POST -d 'email=ada@example.com&quantity=2' http://{public}/events/spring-concert/checkout\n\
         \x20 {exe} blacklist remove --email ada@example.com\n\n\
         Join the waitlist of the sold-out Summer Gala (Doorman puts the button into the shop's page;\n\
         sign in at /login first to see it under /waitlist/mine; the mails land as .eml files):\n\
         \x20 http://{public}/events/summer-gala\n\
         \x20 ls {data}/outbox\n\n\
         Free seats at the Summer Gala: the longest waiting confirmed signups get an offer mail with\n\
         a link to book and one to decline; a declined offer, or one unanswered for an hour, passes on:\n\
         \x20 {exe} waitlist release summer-gala --seats 2 --dry-run   (who would get them)\n\
         \x20 {exe} waitlist release summer-gala --seats 2\n\
         \x20 {exe} waitlist offers summer-gala\n\n\
         Write to everyone waiting (message.txt: the subject, an empty line, then the message):\n\
         \x20 {exe} waitlist broadcast preview summer-gala --audience waiting --purpose service --text en=message.txt\n\
         \x20 {exe} waitlist broadcast send summer-gala --audience waiting --purpose service --text en=message.txt\n\n\
         Box office: sign in as City Arts Society's staff, then sign a walk-in customer up with the\n\
         box-office address and a note (staff see the note, customers never do):\n\
         \x20 http://{public}/waitlist/staff?event=summer-gala\n\
         \x20 Box-office token:  {box_office_token}\n\
         Staff's list of the event (search, notes, \"contacted\", a mail again, cancel, offers with their\n\
         own payment link, the CSV):\n\
         \x20 http://{public}/waitlist/staff/list?event=summer-gala\n\
         \x20 {exe} waitlist export summer-gala   (with DOORMAN_ADMIN_TOKEN set to either token)\n\n\
         Operations:\n\
         \x20 curl -s http://{admin}/readyz\n\
         \x20 curl -s -H 'Authorization: Bearer {shown_token}' http://{admin}/metrics\n\n\
         Press Ctrl-C to stop.",
        backend = shop.addr,
        data = data_dir.display(),
    );
    // A closed stdout (the banner piped into `head`) must not stop the demo.
    let _ = writeln!(std::io::stdout().lock(), "{banner}");
    serve::wait_for_signal();
    running.shutdown();
    shop.stop();
    Ok(())
}
