//! The offers' use cases on the test kit.

use std::time::Duration;

use super::*;
use crate::app::blacklist::test_blacklist;
use crate::app::waitlist::testing::site;
use crate::app::Lifecycle;
use crate::core::blacklist::{entry_key, Identity, Scope};
use crate::core::email_hash::EmailHasher;
use crate::core::waitlist::Fit;
use crate::testkit::block_on;

fn ids(release: &Release) -> Vec<&str> {
    release.offers.iter().map(|o| o.signup.as_str()).collect()
}

#[test]
fn freed_seats_go_to_the_longest_waiting_and_a_strict_head_waits_for_enough() {
    let site = site();
    site.automatic(Fit::Strict);
    let w = &site.waitlist;
    let (ada, bob, cy, dan) = (
        site.in_line("ada@example.com", None, 2),
        site.in_line("bob@example.com", None, 3),
        site.in_line("cy@example.com", None, 1),
        site.in_line("dan@example.com", None, 1),
    );
    block_on(async {
        let mails = site.mails();
        let dry = w.release("gala", 3, true, None).await.unwrap().unwrap();
        assert_eq!((ids(&dry), dry.seats_held, dry.dry_run), (vec![ada.id.as_str()], 1, true));
        assert_eq!(dry.offers[0].offer, None);
        assert_eq!(site.record(&ada).status, Status::Confirmed, "a dry run stores nothing");
        assert_eq!(site.mails(), mails, "and sends nothing");

        let first = w.release("gala", 3, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&first), [ada.id.as_str()], "bob wants 3, one seat is left: he waits");
        assert_eq!((first.seats_held, first.seats_returned), (1, 0));
        assert_eq!(first.offers[0].offer, Some(1));
        assert_eq!(site.mails(), mails + 1, "the offer mail is queued with the offer");
        let ada_now = site.record(&ada);
        assert_eq!((ada_now.status, ada_now.offer), (Status::Offered, Some(1)));
        assert_eq!(w.place("gala", bob.seq.unwrap()).await.unwrap(), 1, "bob moved up");

        let second = w.release("gala", 2, false, None).await.unwrap().unwrap();
        assert_eq!(second.held_before, 1);
        assert_eq!(ids(&second), [bob.id.as_str()], "the held seat and two more: bob's three");
        let third = w.release("gala", 5, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&third), [cy.id.as_str(), dan.id.as_str()]);
        assert_eq!((third.seats_held, third.seats_returned), (0, 3), "nobody left for three seats");
        let offers: Vec<u64> = third.offers.iter().filter_map(|o| o.offer).collect();
        assert_eq!(offers, [3, 4], "numbered in order");
    });
}

#[test]
fn first_fit_goes_past_a_head_that_does_not_fit_and_keeps_its_place() {
    let site = site();
    site.automatic(Fit::FirstFit);
    let (ada, bob, cy) = (
        site.in_line("ada@example.com", None, 4),
        site.in_line("bob@example.com", None, 1),
        site.in_line("cy@example.com", None, 2),
    );
    block_on(async {
        let r = site.waitlist.release("gala", 3, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&r), [bob.id.as_str(), cy.id.as_str()]);
        assert_eq!(site.record(&ada).status, Status::Confirmed);
        assert_eq!(site.waitlist.place("gala", ada.seq.unwrap()).await.unwrap(), 1);
        let r = site.waitlist.release("gala", 4, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&r), [ada.id.as_str()], "the head is read again, not skipped for good");
    });
}

#[test]
fn bad_reports_are_refused_with_nothing_stored() {
    let site = site();
    let w = &site.waitlist;
    site.in_line("ada@example.com", None, 1);
    block_on(async {
        assert_eq!(w.release("gala", 1, false, None).await.unwrap(), Err(OfferRefused::Manual));
        site.automatic(Fit::Strict);
        let before = site.rig.store.keys();
        for seats in [0, -1, i64::from(MAX_SEATS) + 1, i64::MAX, i64::MIN] {
            assert_eq!(
                w.release("gala", seats, false, None).await.unwrap(),
                Err(OfferRefused::Seats),
                "{seats}"
            );
        }
        assert_eq!(site.rig.store.keys(), before);
        site.update(|s| s.active = false);
        assert_eq!(w.release("gala", 1, false, None).await.unwrap(), Err(OfferRefused::Inactive));
        let r = w.release("nobody-here", 1, false, None).await.unwrap();
        assert_eq!(r, Err(OfferRefused::Manual), "an event never set up is manual");
    });
}

#[test]
fn a_declined_offer_ends_the_signup_and_passes_its_seats_on_at_once() {
    let site = site();
    site.automatic(Fit::Strict);
    let w = &site.waitlist;
    let (ada, bob) = (site.in_line("ada@example.com", None, 2), site.in_line("bob@example.com", None, 2));
    block_on(async {
        w.release("gala", 2, false, None).await.unwrap().unwrap();
        let offer = w.offer_record("gala", 1).await.unwrap().unwrap();
        assert!(offer.link.as_deref().unwrap().starts_with("https://shop.example/events/gala/claim?offer="));
        let code = w.offer_code(&offer);
        let ended = w.decline_by_code(&code, None).await.unwrap().unwrap();
        assert_eq!(ended.offer.status, OfferStatus::Declined);
        assert_eq!(ended.passed_on.iter().map(|o| o.signup.as_str()).collect::<Vec<_>>(), [bob.id.as_str()]);
        assert_eq!(site.record(&ada).status, Status::Declined);
        assert_eq!(site.record(&bob).status, Status::Offered);
        let again = w.decline_by_code(&code, None).await.unwrap();
        assert!(matches!(again, Err(DeclineProblem::Ended(_))), "declining twice: {again:?}");
        let forged = format!("{}x", code);
        assert!(matches!(w.decline_by_code(&forged, None).await.unwrap(), Err(DeclineProblem::Link(_))));
        let other = w.signer.seal(Kind::Offer, &code_body("other", 1), offer.expires);
        assert!(matches!(w.decline_by_code(&other, None).await.unwrap(), Err(DeclineProblem::Link(_))));
        // Ada may sign up again: her address is free.
        site.in_line("ada@example.com", None, 1);
    });
}

#[test]
fn an_offer_expires_on_the_clock_and_passes_on_and_a_withdrawn_one_puts_the_signup_back() {
    let site = site();
    site.automatic(Fit::Strict);
    site.update(|s| s.offer_hours = 2);
    let w = &site.waitlist;
    let (ada, bob, cy) = (
        site.in_line("ada@example.com", None, 1),
        site.in_line("bob@example.com", None, 1),
        site.in_line("cy@example.com", None, 1),
    );
    block_on(async {
        w.release("gala", 1, false, None).await.unwrap().unwrap();
        site.rig.clock.advance(Duration::from_secs(2 * 3600 - 1));
        assert_eq!(w.expire_offers(None).await.unwrap(), 0, "not yet");
        site.rig.clock.advance(Duration::from_secs(1));
        assert_eq!(w.expire_offers(None).await.unwrap(), 1);
        assert_eq!(site.record(&ada).status, Status::Lapsed);
        assert_eq!(site.record(&bob).status, Status::Offered, "passed on to bob");
        assert_eq!(w.expire_offers(None).await.unwrap(), 0, "bob's offer has its own two hours");

        let withdrawn = w.end_offer("gala", 2, Ending::Withdrawn, None).await.unwrap().unwrap();
        assert!(withdrawn.passed_on.is_empty(), "withdrawn seats are staff's again");
        assert_eq!(site.record(&bob).status, Status::Confirmed);
        assert_eq!(w.place("gala", bob.seq.unwrap()).await.unwrap(), 1, "back in his place");
        assert_eq!(w.place("gala", cy.seq.unwrap()).await.unwrap(), 2);
        let r = w.release("gala", 1, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&r), [bob.id.as_str()], "the next report reads from his place again");
        let taken = w.end_offer("gala", 3, Ending::Taken, None).await.unwrap().unwrap();
        assert_eq!(taken.offer.status, OfferStatus::Taken);
        assert_eq!(site.record(&bob).status, Status::Booked);
        assert_eq!(
            w.end_offer("gala", 3, Ending::Withdrawn, None).await.unwrap(),
            Err(OfferRefused::Ended("taken"))
        );
        assert_eq!(
            w.end_offer("gala", 99, Ending::Taken, None).await.unwrap(),
            Err(OfferRefused::NotFound("offer"))
        );
    });
}

#[test]
fn blacklisted_customers_are_passed_over_without_a_word() {
    let site = site();
    site.automatic(Fit::Strict);
    let blacklist = test_blacklist(site.rig.store.clone(), EmailHasher::PlainSha256, Lifecycle::Resident);
    let (eve, bob) =
        (site.in_line("eve@example.com", Some("eve"), 1), site.in_line("bob@example.com", None, 1));
    block_on(async {
        // Listed after she confirmed.
        let key = entry_key(&Identity::Account("eve".into()), &Scope::Platform);
        site.rig.store.set(&key, b"{}", None).await.unwrap();
        let mails = site.mails();
        let r = site.waitlist.release("gala", 1, false, Some(&blacklist)).await.unwrap().unwrap();
        assert_eq!((ids(&r), r.skipped_blacklisted), (vec![bob.id.as_str()], 1));
        assert_eq!(site.record(&eve).status, Status::Confirmed, "untouched, and told nothing");
        assert_eq!(site.mails(), mails + 1, "one mail: bob's offer");
    });
}

#[test]
fn staff_offer_one_signup_with_their_own_link_and_text_in_either_mode() {
    let site = site();
    let w = &site.waitlist;
    let (ada, bob) = (site.in_line("ada@example.com", None, 2), site.in_line("bob@example.com", None, 2));
    block_on(async {
        let none = w.offer_to("gala", &bob.id, StaffOffer::default()).await.unwrap();
        assert!(matches!(none, Err(OfferRefused::Input(_))), "no link and no template: {none:?}");
        let staff = StaffOffer {
            link: Some("https://pay.example/r/77".into()),
            text: Some("Row 5, seats 1 and 2.".into()),
            hours: Some(3),
        };
        let n = w.offer_to("gala", &bob.id, staff.clone()).await.unwrap().unwrap();
        assert_eq!((n.signup.as_str(), n.offer), (bob.id.as_str(), Some(1)));
        let offer = w.offer_record("gala", 1).await.unwrap().unwrap();
        assert_eq!((offer.origin, offer.expires - offer.made), (OfferOrigin::Staff, 3 * 3600));
        assert_eq!(w.place("gala", ada.seq.unwrap()).await.unwrap(), 1);
        let twice = w.offer_to("gala", &bob.id, staff.clone()).await.unwrap();
        assert_eq!(twice, Err(OfferRefused::NotWaiting("offered")));
        for bad in [
            StaffOffer { link: Some("javascript:alert(1)".into()), ..staff.clone() },
            StaffOffer { text: Some("\u{7}".into()), ..staff.clone() },
            StaffOffer { hours: Some(0), ..staff.clone() },
        ] {
            assert!(matches!(w.offer_to("gala", &ada.id, bad).await.unwrap(), Err(OfferRefused::Input(_))));
        }
        assert_eq!(w.offer_to("gala", "nobody", staff).await.unwrap(), Err(OfferRefused::NotFound("signup")));
    });
}

/// The test kit's store, failing every call once a write ends an offer as declined: a node that
/// dies right after the customer's decline was stored.
#[derive(Clone)]
struct DiesAfterDecline(crate::testkit::MemoryStore, std::sync::Arc<std::sync::atomic::AtomicBool>);

impl DiesAfterDecline {
    fn check(&self) -> Result<(), crate::ports::store::StoreError> {
        if self.1.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::ports::store::StoreError::Unavailable("the node died".into()));
        }
        Ok(())
    }
}

impl Store for DiesAfterDecline {
    async fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.0.ping().await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.check()?;
        self.0.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.check()?;
        self.0.set(key, value, ttl).await
    }
    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        self.check()?;
        self.0.set_many(items).await?;
        if items.iter().any(|i| String::from_utf8_lossy(&i.value).contains("\"status\":\"declined\"")) {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.check()?;
        self.0.delete(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.check()?;
        self.0.get_many(keys).await
    }
    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        self.check()?;
        self.0.claim(key, ttl).await
    }
    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.check()?;
        self.0.exists_many(keys).await
    }
    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        self.check()?;
        self.0.increment(key, by, ttl).await
    }
    async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.check()?;
        self.0.add_members(adds).await
    }
    async fn scan_page(
        &self,
        prefix: &str,
        cursor: &str,
        count: usize,
    ) -> Result<crate::ports::store::ScanPage, StoreError> {
        self.check()?;
        self.0.scan_page(prefix, cursor, count).await
    }
}

#[test]
fn seats_of_a_decline_whose_pass_on_died_go_with_the_next_report() {
    let site = site();
    site.automatic(Fit::Strict);
    let (ada, bob) = (site.in_line("ada@example.com", None, 2), site.in_line("bob@example.com", None, 2));
    block_on(async {
        site.waitlist.release("gala", 2, false, None).await.unwrap().unwrap();
        let code = site.waitlist.offer_code(&site.waitlist.offer_record("gala", 1).await.unwrap().unwrap());
        let dead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let store = DiesAfterDecline(site.rig.store.clone(), dead.clone());
        let mut ports =
            crate::app::Ports::new(store, std::sync::Arc::new(crate::testkit::InstantTasks::default()));
        ports.clock = site.rig.ports().clock;
        ports.vault = crate::testkit::test_vault();
        let config =
            crate::app::waitlist::WaitlistConfig::new("https://shop.example", "Shop <waitlist@shop.example>");
        let signer = crate::core::waitlist::link::Signer::new(&[7u8; 32]).unwrap();
        let node = Waitlist::new(config, signer, Default::default(), None, ports);
        assert!(node.decline_by_code(&code, None).await.is_err(), "the node died passing the seats on");
        assert_eq!(site.record(&ada).status, Status::Declined, "the decline itself was stored");
        assert_eq!(site.record(&bob).status, Status::Confirmed, "nothing passed on yet");
        // The dead node's lock lapses after its lease; the next report, on a live node, hands
        // out Ada's two seats with its own one.
        site.rig.clock.advance(LOCK_LEASE);
        let r = site.waitlist.release("gala", 1, false, None).await.unwrap().unwrap();
        assert_eq!((r.held_before, ids(&r)), (2, vec![bob.id.as_str()]));
        assert_eq!(r.seats_returned, 1);
    });
}

#[test]
fn a_blacklisted_head_that_wants_more_holds_up_no_one() {
    let site = site();
    site.automatic(Fit::Strict);
    let blacklist = test_blacklist(site.rig.store.clone(), EmailHasher::PlainSha256, Lifecycle::Resident);
    let (eve, bob) =
        (site.in_line("eve@example.com", Some("eve"), 4), site.in_line("bob@example.com", None, 2));
    block_on(async {
        let key = entry_key(&Identity::Account("eve".into()), &Scope::Platform);
        site.rig.store.set(&key, b"{}", None).await.unwrap();
        let r = site.waitlist.release("gala", 2, false, Some(&blacklist)).await.unwrap().unwrap();
        assert_eq!((ids(&r), r.skipped_blacklisted, r.seats_held), (vec![bob.id.as_str()], 1, 0));
        assert_eq!(site.record(&eve).status, Status::Confirmed);
    });
}

/// A site whose operator set up SMS (national numbers are Dutch), with an automatic event that
/// sends offers by SMS and tells one staff address, with copies.
fn site_with_sms_and_staff() -> crate::app::waitlist::testing::Site {
    let site = crate::app::waitlist::testing::site_with(|c| {
        c.sms = Some(crate::app::waitlist::SmsConfig { country_code: Some("+31".into()) })
    });
    site.automatic(Fit::Strict);
    site.update(|s| {
        s.sms = true;
        s.staff_addresses = vec!["box@hall.example".into()];
        s.staff_copies = true;
    });
    site
}

#[test]
fn an_offer_goes_by_mail_and_sms_with_staff_copies_and_one_notice_to_staff() {
    use crate::app::outbox::{Message, Sender, Settled, State};
    use crate::app::waitlist::history::{Channel, MessageRecord};
    let site = site_with_sms_and_staff();
    let ada = site.in_line_with("ada@example.com", None, 2, Some("06 1234 5678"));
    let bob = site.in_line_with("bob@example.com", None, 2, None);
    let before = site.outbox().len();
    block_on(async {
        let r = site.waitlist.release("gala", 4, false, None).await.unwrap().unwrap();
        assert_eq!(ids(&r), [ada.id.as_str(), bob.id.as_str()]);
    });
    let queued = site.outbox().split_off(before);
    let described: Vec<String> = queued
        .iter()
        .map(|m| match m {
            Message::Mail(m) => format!("mail {}", m.to),
            Message::Sms(s) => format!("sms {}", s.to),
        })
        .collect();
    assert_eq!(
        described,
        [
            "mail ada@example.com",
            "sms +31612345678",
            "mail box@hall.example",
            "mail bob@example.com",
            "mail box@hall.example",
            "mail box@hall.example",
        ],
        "ada: mail, SMS, staff copy; bob (no phone): mail, copy; then the round's notice"
    );
    let Message::Sms(sms) = &queued[1] else { panic!() };
    assert!(sms.text.contains("2 tickets") && sms.text.contains("/events/gala/claim?offer="), "{}", sms.text);
    assert!(sms.text.contains("https://shop.example/waitlist/offer?c="), "the decline link: {}", sms.text);
    let Message::Mail(copy) = &queued[2] else { panic!() };
    assert!(copy.message.contains("Subject: Copy for staff: Seats for gala"), "{}", copy.message);
    let Message::Mail(notice) = &queued[5] else { panic!() };
    let notice_text = notice.message.replace("=\r\n", "").replace("=3D", "=");
    assert!(notice_text.contains("ada@example.com") && notice_text.contains("bob@example.com"));
    assert!(notice_text.contains("https://shop.example/waitlist/staff/list?event=gala"));

    // The sender sends the SMS through the gateway, which reports it delivered.
    let mailer = crate::testkit::TestMailer::default();
    let gateway = std::sync::Arc::new(crate::testkit::TestSmsGateway::default());
    gateway.report_delivery();
    let sender = Sender::new(&site.rig.ports()).sms_gateway(gateway.clone());
    block_on(sender.drain(&mailer)).unwrap();
    assert_eq!(gateway.sent(), std::slice::from_ref(sms));
    let ports = site.rig.ports();
    let history: Vec<(MessageRecord, Option<Settled>)> = (1..)
        .map_while(|n| {
            let key = keys::message("gala", n);
            let record = ports.open(&key, block_on(site.rig.store.get(&key)).unwrap()).unwrap()?;
            let fate = block_on(site.rig.store.get(&keys::message_fate("gala", n))).unwrap();
            Some((record, fate.map(|f| serde_json::from_slice(&f).unwrap())))
        })
        .collect();
    let offers: Vec<(Channel, &str, &str, bool)> = history
        .iter()
        .filter(|(r, _)| r.template != "confirm" && r.template != "confirmed")
        .map(|(r, fate)| {
            let fate = fate.as_ref().expect("settled");
            assert_eq!(fate.state, State::Sent);
            (r.channel, r.template.as_str(), r.signup.as_str(), fate.delivered)
        })
        .collect();
    assert_eq!(
        offers,
        [
            (Channel::Email, "offer", ada.id.as_str(), false),
            (Channel::Sms, "offer", ada.id.as_str(), true),
            (Channel::Email, "offer-copy", ada.id.as_str(), false),
            (Channel::Email, "offer", bob.id.as_str(), false),
            (Channel::Email, "offer-copy", bob.id.as_str(), false),
            (Channel::Email, "staff-offers", "", false),
        ]
    );
}

#[test]
fn sms_needs_the_operator_the_event_and_a_readable_number_and_staff_offers_notify_no_one() {
    use crate::app::outbox::Message;
    let count = |site: &crate::app::waitlist::testing::Site, from: usize| {
        let queued = site.outbox().split_off(from);
        let sms = queued.iter().filter(|m| matches!(m, Message::Sms(_))).count();
        (queued.len(), sms)
    };
    // The operator set up no SMS: the event's switch does nothing.
    let site = site();
    site.automatic(Fit::Strict);
    site.update(|s| s.sms = true);
    site.in_line_with("ada@example.com", None, 2, Some("+31 6 1234 5678"));
    let before = site.outbox().len();
    block_on(site.waitlist.release("gala", 2, false, None)).unwrap().unwrap();
    assert_eq!(count(&site, before), (1, 0));

    // The operator did, the event did not.
    let site = site_with_sms_and_staff();
    site.update(|s| s.sms = false);
    site.in_line_with("ada@example.com", None, 2, Some("+31 6 1234 5678"));
    let before = site.outbox().len();
    block_on(site.waitlist.release("gala", 2, false, None)).unwrap().unwrap();
    assert_eq!(count(&site, before), (3, 0), "mail, copy, notice");

    // A national number without the operator's country code, and a staff offer: no notice.
    let site = crate::app::waitlist::testing::site_with(|c| c.sms = Some(Default::default()));
    site.update(|s| {
        s.sms = true;
        s.staff_addresses = vec!["box@hall.example".into()];
        s.offer_link = Some("/events/{event}/claim?offer={code}".into());
    });
    let ada = site.in_line_with("ada@example.com", None, 2, Some("06 1234 5678"));
    let bob = site.in_line_with("bob@example.com", None, 2, Some("+47 912 34 567"));
    let before = site.outbox().len();
    block_on(site.waitlist.offer_to("gala", &ada.id, StaffOffer::default())).unwrap().unwrap();
    assert_eq!(count(&site, before), (1, 0), "no guess at ada's country; staff offers tell staff nothing");
    let before = site.outbox().len();
    block_on(site.waitlist.offer_to("gala", &bob.id, StaffOffer::default())).unwrap().unwrap();
    assert_eq!(count(&site, before), (2, 1));
}
