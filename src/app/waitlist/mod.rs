//! The waitlist of sold-out events, for every runtime: signup with a ticket count, e-mail
//! double opt-in, the place in line, "my signups", cancel, and the mail outbox.
//!
//! - [`usecases`]: the use cases over the ports, one file each (signup, confirm, cancel, view,
//!   box-office staff sessions).
//! - [`web`]: the public pages: routes, forms and their CSRF tokens, cookies and security
//!   headers, and the page each request answers.
//! - [`compose`]: the mails (multipart text + HTML, per language, with the organizer's text).
//! - [`button`]: the "Join the waitlist" button put into the backend's event pages as they
//!   stream through.
//! - [`pages`], [`i18n`]: askama templates and the Fluent texts in four languages.
//!
//! The rules (settings, form checks, signed links, line arithmetic, keys) are in
//! `core::waitlist`; this tier adds the store, the clock and randomness.

pub mod button;
mod claim;
pub mod compose;
pub mod history;
pub mod i18n;
pub mod pages;
#[cfg(test)]
pub(crate) mod testing;
pub mod usecases;
pub mod web;

use crate::app::Ports;
use crate::core::blacklist::session::SessionVerifier;
use crate::core::email::CanonicalRules;
use crate::core::waitlist::link::Signer;
use crate::ports::random::RandomUnavailable;
use crate::ports::store::StoreError;

pub use self::usecases::{CancelOutcome, ConfirmOutcome, SignupOutcome, SignupRequest};

/// Why a waitlist request cannot be served now: answered 503, with nothing stored.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No id or nonce could be drawn.
    #[error(transparent)]
    Randomness(#[from] RandomUnavailable),
}

/// How the waitlist is reached and how it mails.
#[derive(Debug, Clone)]
pub struct WaitlistConfig {
    /// Where the pages live on the public listener (`/waitlist`).
    pub mount: String,
    /// The shop's public address, for links in mails (`https://shop.example`).
    pub public_url: String,
    /// The sender of the mails (`Shop <waitlist@shop.example>`).
    pub from: String,
    /// The backend's event page, `{event}` for the event (`/events/{event}`), for "back" links.
    pub event_page: Option<String>,
    /// Cookies only over HTTPS (`Secure`); on unless the public address is `http://`.
    pub secure_cookies: bool,
    /// Signups one mailbox may attempt per hour, over all events.
    pub per_address_per_hour: u32,
    /// Form posts one browser session may make per 10 minutes.
    pub per_client_per_10_minutes: u32,
    /// Form posts all clients at one address (IPv6: one /64) may make per 10 minutes.
    pub per_network_per_10_minutes: u32,
    /// Where the "Join the waitlist" button goes in the backend's event pages, if Doorman puts
    /// it in.
    pub button: Option<crate::core::waitlist::button::ButtonPlacement>,
    /// The backend's claim route, where offers' codes are checked, if Doorman guards it.
    pub claim: Option<crate::core::waitlist::claim::ClaimRoute>,
    /// Text messages, if the operator set up an SMS gateway: events that switch them on send
    /// offers by SMS too.
    pub sms: Option<SmsConfig>,
}

/// What the tier needs to know of the SMS gateway: that there is one, and how to read numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsConfig {
    /// Stands in for the leading `0` of national numbers (`+49`).
    pub country_code: Option<String>,
}

impl WaitlistConfig {
    /// The defaults for a shop at `public_url` sending from `from`.
    pub fn new(public_url: &str, from: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        Self {
            mount: "/waitlist".into(),
            secure_cookies: !public_url.starts_with("http://"),
            public_url,
            from: from.to_owned(),
            event_page: None,
            per_address_per_hour: 5,
            per_client_per_10_minutes: 30,
            per_network_per_10_minutes: 3000,
            button: None,
            claim: None,
            sms: None,
        }
    }

    /// The configuration `[waitlist]` of a policy asks for.
    pub fn from_policy(w: &crate::core::policy::WaitlistPolicy) -> Self {
        let mut config = Self::new(&w.public_url, &w.from);
        config.mount = w.mount.clone();
        config.event_page = w.event_page.clone();
        config.button = w.button.clone();
        config.claim = w.claim.clone();
        config.per_address_per_hour = w.signups_per_address_per_hour;
        config.per_client_per_10_minutes = w.posts_per_client_per_10_minutes;
        config.per_network_per_10_minutes = w.posts_per_network_per_10_minutes;
        config.sms = w.sms.as_ref().map(|s| SmsConfig { country_code: s.country_code.clone() });
        config
    }
}

/// The waitlist feature: its configuration, its keys and the ports it works through.
pub struct Waitlist<S> {
    config: WaitlistConfig,
    signer: Signer,
    rules: CanonicalRules,
    session: Option<SessionVerifier>,
    ports: Ports<S>,
    /// Whether the host was found not to give client addresses (warned about once).
    no_client_warned: std::sync::atomic::AtomicBool,
    /// Events this process has put on the expiry sweep's list already (one write per event
    /// and process, not one per report).
    offers_tracked: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl<S> Waitlist<S> {
    /// A waitlist signing its links with `signer`; `session` recognises signed-in customers
    /// (the blacklist's, when it has one), `rules` decide when two addresses are one
    /// ([`crate::app::assemble()`] makes it).
    pub(crate) fn new(
        config: WaitlistConfig,
        signer: Signer,
        rules: CanonicalRules,
        session: Option<SessionVerifier>,
        ports: Ports<S>,
    ) -> Self {
        Self {
            config,
            signer,
            rules,
            session,
            ports,
            no_client_warned: Default::default(),
            offers_tracked: Default::default(),
        }
    }

    /// The client's address for the per-network limit; `None` when the host gives none, and
    /// then a warning: once per process, and once an hour across every node and edge instance
    /// (an instance lives for one request, so its own memory cannot say "once").
    async fn client(&self, context: &crate::app::RequestContext) -> Option<std::net::IpAddr>
    where
        S: crate::ports::store::Store,
    {
        use std::sync::atomic::Ordering;
        if context.client.is_some() || self.no_client_warned.swap(true, Ordering::Relaxed) {
            return context.client;
        }
        let hour = Some(std::time::Duration::from_secs(3600));
        if self.ports.store.claim(crate::core::waitlist::keys::NO_CLIENT_WARNED, hour).await.unwrap_or(true) {
            tracing::warn!(
                "waitlist: the host gives no client address, so the per-network limit on forms does not \
                 apply, only the per-session one (tower layer: serve with connect info, or insert a PeerAddr; edge: set \
                 forwarding.client_address_header to the header your platform writes it into)"
            );
        }
        None
    }

    /// A waitlist of its own over the same configuration, keys and ports, for work that
    /// outlives the request (marking a claimed offer taken).
    fn detached(&self) -> Self
    where
        S: Clone,
    {
        Self::new(
            self.config.clone(),
            self.signer.clone(),
            self.rules,
            self.session.clone(),
            self.ports.clone(),
        )
    }

    /// The configuration.
    pub fn config(&self) -> &WaitlistConfig {
        &self.config
    }

    fn now(&self) -> u64 {
        self.ports.clock.unix_ms() / 1000
    }

    /// 128 random bits, base64url (signup ids, CSRF nonces).
    fn random_id(&self) -> Result<String, RandomUnavailable> {
        use base64::Engine;
        let mut bytes = [0u8; 16];
        self.ports.random.fill(&mut bytes)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::policy::Policy;
    use crate::testkit::{FailingRandom, TestRig};

    #[test]
    fn the_policy_sets_the_pages_and_limits_and_plain_http_gets_no_secure_cookies() {
        let text =
            "[backend]\nurl = \"http://127.0.0.1:9\"\n[waitlist]\npublic_url = \"http://shop.test/\"\n\
                    from = \"Shop <w@shop.test>\"\nmount = \"/wl\"\nsignups_per_address_per_hour = 2\n\
                    posts_per_client_per_10_minutes = 9\n";
        let policy = Policy::from_toml_str("t.toml", text, []).unwrap();
        let config = WaitlistConfig::from_policy(policy.waitlist.as_ref().unwrap());
        assert_eq!((config.mount.as_str(), config.public_url.as_str()), ("/wl", "http://shop.test"));
        assert_eq!((config.per_address_per_hour, config.per_client_per_10_minutes), (2, 9));
        assert!(!config.secure_cookies, "a plain-http shop cannot use Secure cookies");
        assert!(WaitlistConfig::new("https://shop.example", "x").secure_cookies);
    }

    #[test]
    fn ids_are_drawn_from_the_port_and_a_failed_draw_makes_none() {
        let rig = TestRig::default();
        let config = WaitlistConfig::new("https://shop.example", "Shop <w@shop.example>");
        let signer = Signer::new(&[7u8; 32]).unwrap();
        let waitlist = Waitlist::new(config.clone(), signer.clone(), Default::default(), None, rig.ports());
        let (a, b) = (waitlist.random_id().unwrap(), waitlist.random_id().unwrap());
        assert!(a.len() == 22 && a != b, "{a} {b}");
        let mut ports = rig.ports();
        ports.random = Arc::new(FailingRandom);
        let broken = Waitlist::new(config, signer, Default::default(), None, ports);
        assert!(broken.random_id().is_err());
    }
}
