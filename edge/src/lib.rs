//! Doorman at the edge: a `wasi:http` incoming handler (for Spin, or any `wasi:http` host) that
//! quietly turns back blacklisted checkouts and forwards everything else to the ticketing
//! backend through outgoing `wasi:http`.
//!
//! A thin host of the application tier (`doorman::app`): the checkout flow, its answers and its
//! audit records are the same code the native proxy and the tower layer run. This crate only
//! adapts the world: `settings` (`wasi:config`, Spin variables), `kv` (the store port over
//! `wasi:keyvalue`), `incoming` (the request, its body, the response), `forward` (outgoing
//! `wasi:http`), `tasks` (sleeps and background work on `wstd`'s reactor), `log` (the tier's
//! warnings on standard error, Spin's log).
//!
//! Every request gets a fresh instance: settings are read and the policy is validated per
//! request, so a changed variable applies to the next request. The policy arrives compiled (its
//! JSON form, checked by `doorman compile-policy`): the component carries no TOML parser. Nothing is cached in the
//! component; shared state lives in the key-value store.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bindings {
    wit_bindgen::generate!({
        world: "imports",
        path: "wit",
        generate_all,
    });
}

mod forward;
mod incoming;
mod kv;
mod log;
mod settings;
mod tasks;

use std::sync::Arc;

use doorman::app::waitlist::button::PageRewriter;
use doorman::app::{assemble, Clock, Lifecycle, Ports, Step, SystemClock, SystemRandom};
use http::StatusCode;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

use self::incoming::{Answer, EdgeBody};

struct Handler;

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        wstd::runtime::block_on(serve(request, out));
    }
}

wasip2::http::proxy::export!(Handler with_types_in wasip2);

/// One request, phase by phase: settings, classify, (check), forward or answer.
async fn serve(request: IncomingRequest, out: ResponseOutparam) {
    log::install();
    let (mut head, body) = match incoming::read_head(request) {
        Ok(parts) => parts,
        Err(e) => {
            eprintln!("doorman-edge: unreadable request head: {e}");
            return incoming::respond(out, Answer::page(StatusCode::BAD_REQUEST)).await;
        }
    };
    let settings = match settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("doorman-edge: settings: {e}");
            return incoming::respond(out, Answer::page(StatusCode::INTERNAL_SERVER_ERROR)).await;
        }
    };
    let request_id = doorman::app::request_id::ensure(
        &mut head.headers,
        &settings.policy.forwarding.request_id_header,
        &SystemRandom,
    );
    // A store that cannot be opened fails each lookup, so `on_store_error` decides.
    let store = kv::KvStore::open(&settings.store_label, settings.policy.store.namespace());
    let ports = Ports::new(store, Arc::new(tasks::WstdTasks));
    // The waitlist writes its mail to the outbox in the shared store: native Doorman sends it
    // (the component speaks no SMTP).
    let app = assemble(&settings.spec, ports, Lifecycle::OneRequest);

    let mut learned = None;
    let mut answer = match app.classify(&head.method, head.uri.path()) {
        None => forward::send(&settings.policy, head, body.into_streaming()).await,
        Some(action) => {
            let mut body = body;
            let context = app.context(forward::peer(&head, &settings.policy), &head.headers);
            match app.run(action, &context, &head, &mut EdgeBody::new(&mut body, &head.headers)).await {
                Step::Answer { response, .. } => Answer::from(response),
                Step::Forward { body: bytes, ticket } => {
                    let answer = forward::send(&settings.policy, head, forward::Outgoing::Bytes(bytes)).await;
                    let head_at = SystemClock.monotonic();
                    learned = answer
                        .backend_head()
                        .map(|(status, headers)| (ticket, status, headers.clone(), head_at));
                    answer
                }
                Step::Pass => forward::send(&settings.policy, head, body.into_streaming()).await,
                // An event page with the waitlist button put in as it streams through.
                Step::Rewrite { rewriter } => {
                    PageRewriter::prepare_request(&mut head.headers);
                    let mut answer = forward::send(&settings.policy, head, body.into_streaming()).await;
                    answer.rewrite(*rewriter);
                    answer
                }
            }
        }
    };
    answer.set_request_id(&settings.policy.forwarding.request_id_header, request_id);
    incoming::respond(out, answer).await;
    // After the answer: what the forwarded checkout teaches, the audit records of a block.
    if let Some((ticket, status, headers, head_at)) = learned {
        app.forwarded_at(ticket, status, &headers, head_at);
    }
    tasks::run_deferred().await;
    app.flush().await;
}
