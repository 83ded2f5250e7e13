//! The blacklist end to end: the `doorman` binary in front of a real backend, with the embedded
//! store and with a real Redis, driven through its admin API and command line.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod bypass;
mod checkout;
mod cli;
mod customers;
mod in_process;
mod redis;
mod session;
mod shops;
mod timing;
mod transfer;

use http::Request;
use support::backend::Backend;
use support::client::{body, send};
use support::doorman::{policy, Doorman};

/// The blacklist part of a test policy: checkouts are `POST /echo/{event}/checkout` so the test
/// backend's echo route answers them.
pub const BLACKLIST: &str = "[blacklist]\naccount_header = \"x-account\"\naccount_fields = [\"account\"]\n\
    email_fields = [\"email\", \"customer.email\"]\nstrip_plus_tags = true\nmax_body_bytes = 4096\n\
    [[blacklist.checkout]]\nroute = \"POST /echo/{event}/checkout\"\nredirect = \"/echo/{event}\"\n";

pub use support::stores::StoreKind;

/// A backend and a Doorman with the blacklist in front of it.
pub struct Shop {
    pub backend: Backend,
    pub doorman: Doorman,
    pub store: StoreKind,
}

impl Shop {
    pub fn start(store: StoreKind, extra: &str) -> Self {
        Self::start_with(store, BLACKLIST, extra)
    }

    /// With another `[blacklist]` section than [`BLACKLIST`].
    pub fn start_with(store: StoreKind, blacklist: &str, extra: &str) -> Self {
        let backend = Backend::start();
        let text = format!("{}{}{blacklist}{extra}", policy(&backend.url(), "", ""), store.toml());
        let doorman = Doorman::start(&text);
        Self { backend, doorman, store }
    }

    /// Posts a form checkout for `event`.
    pub async fn checkout_form(&self, event: &str, form: &str) -> (http::Response<()>, bytes::Bytes) {
        let req = Request::post(self.doorman.url(&format!("/echo/{event}/checkout")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(form.to_owned()))
            .unwrap();
        send(req).await
    }

    /// Calls the admin API with the operator token.
    pub async fn admin(&self, method: &str, path: &str, json: &str) -> (u16, serde_json::Value) {
        self.doorman.admin(method, path, json).await
    }

    /// The test's Redis server (panics on the embedded store).
    pub fn redis_ref(&self) -> &support::redis::RedisServer {
        match &self.store {
            StoreKind::Redis(r) => r,
            _ => panic!("this shop runs on no single Redis server"),
        }
    }

    pub fn redis(&mut self) -> &mut support::redis::RedisServer {
        match &mut self.store {
            StoreKind::Redis(r) => r,
            _ => panic!("this shop runs on no single Redis server"),
        }
    }

    /// The Prometheus text of the operations listener.
    pub async fn metrics(&self) -> String {
        self.doorman.metrics().await
    }

    pub fn backend_requests(&self) -> u64 {
        self.backend.state.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

every_store!(checkout => checkout_cases:
    blacklisted_guest_lands_back_on_the_event_page_and_nothing_reaches_the_backend,
    everyone_else_is_forwarded_byte_for_byte,
    javascript_checkouts_get_the_json_answer,
    accounts_from_header_and_body_fields,
    organizer_entries_apply_only_to_that_organizers_events,
    removal_and_expiry_free_the_customer,
    address_spellings_and_duplicates_do_not_slip_through,
    oversized_and_malformed_checkouts,
    identities_in_the_query_string_and_other_key_spellings_count,
    multipart_checkouts_are_checked_and_forwarded_intact,
    slow_bodies_time_out_and_bursts_of_blocked_attempts_are_all_audited,
    json_or_redirect_follows_the_policys_json_answer_rule,
);

every_store!(customers => customers_cases:
    an_account_entry_turns_back_every_attached_address,
    only_the_operator_attaches_addresses,
);

both_stores!(transfer => transfer_cases:
    lists_page_through_every_entry_and_exports_stream_them_all,
);

every_store!(transfer => list_cases:
    a_list_page_never_holds_more_than_its_limit,
);

both_stores!(bypass => bypass_cases:
    path_and_method_spellings_reach_the_shop_but_not_for_the_blacklisted,
    signed_in_customers_are_known_by_the_shops_own_session_in_every_cookie_spelling,
    bodies_the_shop_reads_differently_are_refused_not_forwarded,
    body_spellings_the_shop_reads_are_checked_for_the_blacklisted,
    unreadable_bodies_are_refused_and_the_shop_takes_no_order,
    content_type_spellings_never_sell_to_the_blacklisted,
);

both_stores!(shops => real_shops:
    no_spelling_gets_through_and_browsers_are_never_refused,
    real_browsers_checkouts_are_forwarded_and_blacklisted_ones_turned_back,
);
