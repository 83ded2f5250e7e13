//! The waitlist end to end: the `doorman` binary in front of a real backend, with the embedded
//! store and with a real Redis; mail through the file outbox, read back as a customer's mail
//! client would (quoted-printable decoded), links followed as a customer would.

#[path = "../support/mod.rs"]
mod support;

mod at_rest;
mod bad_input;
mod box_office;
mod broadcasts;
mod button;
mod export;
mod flow;
mod offers;
mod sms;
mod smtp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http::Request;
use support::backend::Backend;
use support::client::{body, send};
use support::doorman::{policy, Doorman, TOKEN};

/// The key the test Doorman signs links with (the tests seal an expired link with it).
pub const LINK_KEY: &str = "test-link-key-0123456789abcdef0123456789";
/// The data key the test shop's Doorman seals personal data with.
pub const DATA_KEY: &str = "test-data-key-0123456789abcdef0123456789";
/// Where links in mails point.
pub const PUBLIC_URL: &str = "http://shop.test";

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jwt");

pub use support::stores::StoreKind;

/// A backend, and Doorman with the blacklist (accounts from an ES256 session cookie) and the
/// waitlist in front of it.
pub struct Shop {
    pub backend: Backend,
    pub doorman: Doorman,
    /// The policy Doorman was started with.
    pub policy: String,
    /// Doorman's data folder.
    data: PathBuf,
    _store: StoreKind,
}

/// A browser's cookies, as far as the waitlist sets them.
#[derive(Default, Clone)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn take(&mut self, resp: &http::Response<()>) {
        for v in resp.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.0.retain(|(name, _)| name != k);
            self.0.push((k.to_owned(), val.to_owned()));
        }
    }

    /// A cookie's value.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// Adds a cookie of the shop's own (the session).
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_owned(), value.to_owned()));
    }
}

/// An answer: status and body text.
pub struct Page {
    pub status: u16,
    pub html: String,
    pub headers: http::HeaderMap,
}

impl Page {
    /// The CSRF token of the page's (first) form: its hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let after = self.html.split(r#"name="csrf" value=""#).nth(1).expect("the page has a form");
        after.split('"').next().unwrap().to_owned()
    }
}

impl Shop {
    pub fn start(store: StoreKind) -> Self {
        Self::start_with(store, "", &[], None)
    }

    /// With `mail` (a `[waitlist.mail]` section), more environment, and a data folder to share
    /// between runs.
    pub fn start_with(
        store: StoreKind,
        mail: &str,
        env: &[(&str, &str)],
        data_dir: Option<&std::path::Path>,
    ) -> Self {
        let backend = Backend::start();
        let store_toml = store.toml();
        let text = format!(
            "{}{store_toml}[blacklist]\nemail_fields = [\"email\"]\nsession_cookie = \"shop_session\"\n\
             session_algorithm = \"ES256\"\nsession_key_file = \"{KEYS}/es256.pub\"\nsession_issuer = \"shop\"\n\
             [[blacklist.checkout]]\nroute = \"POST /echo/{{event}}/checkout\"\nredirect = \"/echo/{{event}}\"\n\
             [waitlist]\npublic_url = \"{PUBLIC_URL}\"\nfrom = \"Test Shop <waitlist@shop.test>\"\n\
             event_page = \"/echo/{{event}}\"\nclaim_route = \"GET /echo/{{event}}/claim\"\n{mail}",
            policy(&backend.url(), "", "")
        );
        let mut env = env.to_vec();
        env.push(("DOORMAN_LINK_KEY", LINK_KEY));
        if !env.iter().any(|(name, _)| *name == "DOORMAN_DATA_KEY") {
            env.push(("DOORMAN_DATA_KEY", DATA_KEY));
        }
        let doorman = Doorman::start_full(&text, &env, data_dir);
        let data = data_dir.map_or_else(|| doorman.data_dir().join("data"), Path::to_path_buf);
        Self { backend, doorman, policy: text, data, _store: store }
    }

    /// Calls the admin API with the operator token.
    pub async fn admin(&self, method: &str, path: &str, json: &str) -> (u16, serde_json::Value) {
        self.admin_as(TOKEN, method, path, json).await
    }

    /// Calls the admin API with `token`.
    pub async fn admin_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        json: &str,
    ) -> (u16, serde_json::Value) {
        self.doorman.admin_as(token, method, path, json).await
    }

    /// Opens `event`'s waitlist (sold out, active) with `extra` settings.
    pub async fn open(&self, event: &str, extra: &str) {
        let json = format!(r#"{{"sold_out": true, "active": true, "title": "The {event} night"{extra}}}"#);
        let (status, answer) = self.admin("PATCH", &format!("/v1/events/{event}/waitlist"), &json).await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Sends `req` with the jar's cookies; the jar takes what is set.
    async fn exchange(&self, jar: &mut Jar, req: http::request::Builder, body_bytes: Vec<u8>) -> Page {
        let (resp, bytes) = send(req.header("cookie", jar.header()).body(body(body_bytes)).unwrap()).await;
        jar.take(&resp);
        Page {
            status: resp.status().as_u16(),
            html: String::from_utf8_lossy(&bytes).into_owned(),
            headers: resp.headers().clone(),
        }
    }

    /// A GET with the jar's cookies.
    pub async fn get(&self, jar: &mut Jar, path: &str) -> Page {
        self.exchange(jar, Request::get(self.doorman.url(path)), Vec::new()).await
    }

    /// A form POST with the jar's cookies.
    pub async fn post(&self, jar: &mut Jar, path: &str, form: &[(&str, &str)]) -> Page {
        let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.post_raw(jar, path, encoded.into_bytes()).await
    }

    /// A POST of raw form bytes.
    pub async fn post_raw(&self, jar: &mut Jar, path: &str, bytes: Vec<u8>) -> Page {
        let req =
            Request::post(self.doorman.url(path)).header("content-type", "application/x-www-form-urlencoded");
        self.exchange(jar, req, bytes).await
    }

    /// Opens the form (for its CSRF cookie and token) and signs up with `fields` (tickets, name
    /// given).
    /// [`Self::sign_up`] with a jar of its own.
    pub async fn sign_up_fresh(&self, event: &str, email: &str) -> Page {
        self.sign_up(&mut Jar::default(), event, email, "1").await
    }

    pub async fn sign_up(&self, jar: &mut Jar, event: &str, email: &str, tickets: &str) -> Page {
        let form = self.get(jar, &format!("/waitlist/{event}")).await;
        assert_eq!(form.status, 200, "{}", form.html);
        assert!(jar.get("doorman_csrf").is_some(), "the form sets its CSRF cookie");
        let csrf = form.csrf();
        self.post(
            jar,
            &format!("/waitlist/{event}"),
            &[
                ("csrf", &csrf),
                ("email", email),
                ("name", "Ada Lovelace"),
                ("tickets", tickets),
                ("lang", "en"),
            ],
        )
        .await
    }

    /// Requests the backend made so far.
    pub fn backend_requests(&self) -> u64 {
        self.backend.state.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The status the backend itself answers `path` with.
    pub async fn backend_status(&self, path: &str) -> u16 {
        support::client::get(&format!("{}{path}", self.backend.url())).await.0.status().as_u16()
    }

    fn outbox(&self) -> PathBuf {
        self.data.join("outbox")
    }

    /// Stops Doorman (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        self.doorman.terminate();
        assert!(self.doorman.wait_exit(Duration::from_secs(10)).success());
    }

    /// How many mails Doorman has queued so far (`doorman_waitlist_mails_queued_total`). A mail
    /// is queued with the change it belongs to, before the answer: reading this right after an
    /// answer proves that no mail will follow from it, without waiting for the sender.
    pub async fn mails_queued(&self) -> u64 {
        self.metric("doorman_waitlist_mails_queued_total").await
    }

    /// A counter of `/metrics`, by its name with labels (`doorman_waitlist_mails_total{result="sent"}`).
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.doorman.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .map(|n| n.trim().parse().expect("a count"))
            .unwrap_or(0)
    }

    /// Waits (at most 20 s) until the counter `name` reaches `at_least`; answers its value.
    pub async fn metric_reaches(&self, name: &str, at_least: u64) -> u64 {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let n = self.metric(name).await;
            if n >= at_least || std::time::Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every mail in the outbox so far, decoded.
    pub fn mails(&self) -> Vec<Mail> {
        let Ok(dir) = std::fs::read_dir(self.outbox()) else { return Vec::new() };
        let mut mails: Vec<Mail> = dir
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| Mail::parse(&std::fs::read(e.path()).unwrap()))
            .collect();
        mails.sort_by(|a, b| a.date.cmp(&b.date));
        mails
    }

    /// Waits until the outbox holds `n` mails (the sender drains it every second).
    pub async fn wait_mails(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.mails();
            if mails.len() >= n || Instant::now() > deadline {
                assert_eq!(
                    mails.len(),
                    n,
                    "mails in the outbox: {:?}",
                    mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
                );
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A mail as a mail client shows it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub date: String,
    pub message_id: String,
    /// Headers and bodies, quoted-printable decoded.
    pub text: String,
    pub raw: String,
}

impl Mail {
    /// A mail as received (by the file outbox or an SMTP server).
    pub fn parse(raw: &[u8]) -> Self {
        let raw = String::from_utf8(raw.to_vec()).unwrap();
        let header = |name: &str| {
            raw.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
                .unwrap_or_default()
        };
        let text = String::from_utf8(
            quoted_printable::decode(raw.as_bytes(), quoted_printable::ParseMode::Robust).unwrap(),
        )
        .unwrap();
        Mail {
            to: header("To"),
            subject: header("Subject"),
            date: header("Date"),
            message_id: header("Message-ID"),
            text,
            raw,
        }
    }

    /// The path and query of the first link to `{PUBLIC_URL}/waitlist/{what}`.
    pub fn link(&self, what: &str) -> String {
        let prefix = format!("{PUBLIC_URL}/waitlist/{what}?t=");
        let start = self.text.find(&prefix).unwrap_or_else(|| panic!("no {what} link in:\n{}", self.text));
        let link: String =
            self.text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
        link.strip_prefix(PUBLIC_URL).unwrap().replace("&#38;", "&")
    }

    /// The token of the first `{what}` link.
    pub fn token(&self, what: &str) -> String {
        let link = self.link(what);
        let t = link.split_once("?t=").unwrap().1;
        form_urlencoded::parse(format!("t={t}").as_bytes()).next().unwrap().1.into_owned()
    }
}

every_store!(flow => flow_cases:
    join_confirm_by_mail_see_the_place_and_cancel,
    one_signup_per_address_and_a_second_signup_gets_a_mail_not_a_place,
    signed_in_customers_see_their_signups_and_cancel_them,
    blacklisted_customers_get_the_normal_answer_and_nothing_is_kept,
    caps_deactivation_and_languages,
);

every_store!(offers => offers_cases:
    freed_seats_are_offered_in_line_order_and_a_declined_offer_passes_on,
    bad_reports_and_offers_get_clear_answers_and_change_nothing,
    concurrent_reports_never_offer_a_seat_twice_and_pass_over_the_blacklisted,
);

both_stores!(sms => sms_cases:
    offers_go_by_sms_through_the_webhook_with_retries_and_fates_in_the_history,
    an_event_cannot_switch_sms_on_where_the_operator_has_none,
);

every_store!(export => export_cases:
    the_list_in_line_order_paged_as_json_and_csv_and_by_the_cli,
    only_the_events_organizer_and_the_operator_may_export,
);

both_stores!(at_rest => at_rest_cases:
    a_store_dump_shows_no_name_address_phone_or_note_and_a_wrong_key_never_starts,
);

both_stores!(smtp => smtp_cases:
    mail_reaches_a_real_smtp_server_over_starttls_with_a_login,
    nothing_is_lost_or_sent_twice_while_the_server_is_down_or_doorman_restarts,
    a_domain_that_refuses_mail_holds_up_no_one_else,
);

every_store!(box_office => box_office_cases:
    staff_sign_in_and_sign_customers_up_with_notes_kept_from_customers,
    box_office_tokens_reach_waitlists_only_and_rotating_one_ends_its_sessions,
    box_office_fields_without_a_staff_session_are_refused_and_nothing_is_stored,
);

every_store!(bad_input => bad_input_cases:
    malformed_fields_are_refused_field_by_field_and_nothing_is_stored,
    forms_without_a_valid_csrf_token_are_refused,
    links_that_are_replayed_expired_tampered_or_guessed,
    requests_that_are_not_forms_of_ours,
    rate_limits_per_address_and_per_client,
);

every_store!(broadcasts => broadcasts_cases:
    a_message_to_the_list_reaches_each_waiting_signup_once_with_its_fate_in_the_history,
);

#[tokio::test]
async fn two_nodes_on_one_redis_send_a_message_to_the_list_once() {
    broadcasts::two_nodes_on_one_redis_send_a_message_to_the_list_once().await;
}
