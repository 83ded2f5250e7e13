//! A waitlist on the test kit, and a browser to drive its pages (the tier's unit tests).

use std::net::IpAddr;

use bytes::Bytes;
use http::header;
use http::{Method, Request, Response};

use super::usecases::staff::STAFF_COOKIE;
use super::usecases::{SignupOutcome, SignupRequest};
use super::web::CSRF_COOKIE;
use super::Waitlist;
use crate::app::waitlist::WaitlistConfig;
use crate::app::RequestContext;
use crate::core::text::url_component;
use crate::core::waitlist::form::CheckedSignup;
use crate::core::waitlist::keys;
use crate::core::waitlist::link::Signer;
use crate::core::waitlist::{Lang, Signup, WaitlistSettings};
use crate::ports::store::Store;
use crate::testkit::{block_on, MemoryStore, TestBody, TestRig};

/// A waitlist for the event `gala` (sold out, open) over the rig's ports.
pub struct Site {
    pub rig: TestRig,
    pub waitlist: Waitlist<MemoryStore>,
}

/// What a browser keeps between pages: the CSRF and staff cookies, and the last form's token.
#[derive(Default)]
pub struct Browser {
    pub cookie: String,
    pub token: String,
    pub staff: String,
}

/// A customer's checked signup of `email` (two tickets, English) for the event `gala`.
pub fn signup_request(email: &str, account: Option<&str>) -> SignupRequest {
    let fields = CheckedSignup {
        email: email.into(),
        canonical_email: email.to_ascii_lowercase(),
        name: "Ada".into(),
        phone: None,
        tickets: 2,
        note: None,
        box_office_address: false,
        informed: false,
    };
    SignupRequest {
        event: "gala".into(),
        fields,
        lang: Lang::En,
        account: account.map(str::to_owned),
        box_office: false,
    }
}

/// A fresh site.
pub fn site() -> Site {
    site_with(|_| {})
}

/// A fresh site whose configuration `change` adjusts.
pub fn site_with(change: impl FnOnce(&mut WaitlistConfig)) -> Site {
    let rig = TestRig::default();
    let mut config = WaitlistConfig::new("https://shop.example", "Shop <waitlist@shop.example>");
    change(&mut config);
    let signer = Signer::new(&[7u8; 32]).unwrap();
    let waitlist = Waitlist::new(config, signer, Default::default(), None, rig.ports());
    let mut settings = WaitlistSettings::new("gala");
    (settings.sold_out, settings.active) = (true, true);
    block_on(rig.store.set(&keys::settings("gala"), &serde_json::to_vec(&settings).unwrap(), None)).unwrap();
    Site { rig, waitlist }
}

/// The page's text.
pub fn text(r: &Response<Bytes>) -> String {
    String::from_utf8_lossy(r.body()).into_owned()
}

impl Site {
    /// Sends a request to the waitlist's pages as `browser`, from `client`; keeps its cookies
    /// and the page's form token.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        browser: &mut Browser,
        body: &str,
        client: Option<IpAddr>,
    ) -> Response<Bytes> {
        let mut req = Request::builder().method(method.clone()).uri(path);
        let cookies: Vec<String> = [(CSRF_COOKIE, &browser.cookie), (STAFF_COOKIE, &browser.staff)]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        if method == Method::POST {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let (head, ()) = req.body(()).unwrap().into_parts();
        let route = self.waitlist.route(&method, head.uri.path()).expect("a waitlist route");
        let context = RequestContext { client };
        let mut body = TestBody::whole(body);
        let response = block_on(self.waitlist.serve(route, &context, &head, &mut body, None));
        for set in response.headers().get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            match pair.split_once('=').unwrap() {
                (CSRF_COOKIE, v) => browser.cookie = v.to_owned(),
                (STAFF_COOKIE, v) => browser.staff = v.to_owned(),
                _ => {}
            }
        }
        if let Some(token) = text(&response).split(r#"name="csrf" value=""#).nth(1) {
            browser.token = token.split('"').next().unwrap().to_owned();
        }
        response
    }

    /// Opens the form and signs `email` up.
    pub fn sign_up(&self, browser: &mut Browser, email: &str, client: Option<IpAddr>) -> Response<Bytes> {
        self.sign_up_for("gala", browser, email, client)
    }

    /// Opens `event`'s form and signs `email` up.
    pub fn sign_up_for(
        &self,
        event: &str,
        browser: &mut Browser,
        email: &str,
        client: Option<IpAddr>,
    ) -> Response<Bytes> {
        let path = format!("/waitlist/{event}");
        self.send(Method::GET, &path, browser, "", None);
        let form = format!("csrf={}&email={}&name=Ada&tickets=2", browser.token, url_component(email));
        self.send(Method::POST, &path, browser, &form, client)
    }

    /// Opens another event, `event`, as sold out and open.
    pub fn open(&self, event: &str) {
        let mut settings = WaitlistSettings::new(event);
        (settings.sold_out, settings.active) = (true, true);
        let value = serde_json::to_vec(&settings).unwrap();
        block_on(self.rig.store.set(&keys::settings(event), &value, None)).unwrap();
    }
}

impl Site {
    /// Changes the event's settings.
    pub fn update(&self, change: impl FnOnce(&mut WaitlistSettings)) {
        let key = keys::settings("gala");
        let mut settings: WaitlistSettings =
            serde_json::from_slice(&block_on(self.rig.store.get(&key)).unwrap().unwrap()).unwrap();
        change(&mut settings);
        block_on(self.rig.store.set(&key, &serde_json::to_vec(&settings).unwrap(), None)).unwrap();
    }

    /// Signs `email` up through the use case (no page), for `account`; answers the pending signup.
    pub fn join(&self, email: &str, account: Option<&str>) -> Signup {
        let before = self.signups();
        let settings = block_on(self.waitlist.settings("gala")).unwrap().unwrap();
        let request = signup_request(email, account);
        let outcome = block_on(self.waitlist.signup(request, &settings, None)).unwrap();
        assert_eq!(outcome, SignupOutcome::CheckMail);
        let id = self.signups().into_iter().find(|id| !before.contains(id)).expect("a new signup");
        block_on(self.waitlist.signup_record("gala", &id)).unwrap().unwrap()
    }

    /// The ids of the event's signups in the store.
    pub fn signups(&self) -> Vec<String> {
        let prefix = keys::signup("gala", "");
        self.rig.store.keys().iter().filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned)).collect()
    }
}

impl Site {
    /// `signup` as the store holds it now.
    pub fn record(&self, signup: &Signup) -> Signup {
        block_on(self.waitlist.signup_record(&signup.event, &signup.id)).unwrap().unwrap()
    }
}

impl Site {
    /// Signs `email` up for `tickets` and confirms it: in line. Answers the confirmed signup.
    pub fn in_line(&self, email: &str, account: Option<&str>, tickets: u32) -> Signup {
        self.in_line_with(email, account, tickets, None)
    }

    /// [`Site::in_line`] with a phone number.
    pub fn in_line_with(
        &self,
        email: &str,
        account: Option<&str>,
        tickets: u32,
        phone: Option<&str>,
    ) -> Signup {
        let before = self.signups();
        let settings = block_on(self.waitlist.settings("gala")).unwrap().unwrap();
        let mut request = signup_request(email, account);
        request.fields.tickets = tickets;
        request.fields.phone = phone.map(str::to_owned);
        assert_eq!(
            block_on(self.waitlist.signup(request, &settings, None)).unwrap(),
            SignupOutcome::CheckMail
        );
        let id = self.signups().into_iter().find(|id| !before.contains(id)).expect("a new signup");
        let pending = block_on(self.waitlist.signup_record("gala", &id)).unwrap().unwrap();
        block_on(self.waitlist.confirm(&self.waitlist.confirm_token(&pending))).unwrap();
        self.record(&pending)
    }

    /// Puts the event in automatic mode under `fit`, with a link template.
    pub fn automatic(&self, fit: crate::core::waitlist::Fit) {
        self.update(|s| {
            s.mode = crate::core::waitlist::Mode::Automatic;
            s.fit = fit;
            s.offer_link = Some("/events/{event}/claim?offer={code}".into());
        });
    }

    /// The numbers of the messages in the outbox.
    pub fn mails(&self) -> usize {
        self.rig.store.keys().iter().filter(|k| k.starts_with("mail:0")).count()
    }

    /// The outbox's messages, in order.
    pub fn outbox(&self) -> Vec<crate::app::outbox::Message> {
        let mut keys: Vec<String> =
            self.rig.store.keys().into_iter().filter(|k| k.starts_with("mail:0")).collect();
        keys.sort();
        let ports = self.rig.ports();
        keys.iter()
            .map(|k| {
                let n: u64 = k["mail:".len()..].parse().unwrap();
                let raw = block_on(self.rig.store.get(k)).unwrap();
                crate::app::outbox::Item::from_stored(&ports, n, raw).unwrap().unwrap().message
            })
            .collect()
    }
}
