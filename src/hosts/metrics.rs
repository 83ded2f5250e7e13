//! Prometheus metrics: handles registered once at start-up, so recording on the request path is
//! an atomic add, never a registry lookup.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Why a request could not be forwarded, as counted in `doorman_backend_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendErrorKind {
    /// No TCP connection could be opened.
    Connect,
    /// No response head within `backend.response_timeout`.
    Timeout,
    /// The backend broke the protocol or closed the connection.
    Protocol,
}

pub use crate::ports::events::{CheckoutOutcome, ClientFaultKind};

/// The recorder and the pre-registered handles. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    handle: PrometheusHandle,
    responses: [Counter; 5],
    duration: Histogram,
    backend_errors: [Counter; 3],
    client_errors: [Counter; 5],
    checkouts: [Counter; 4],
    unmapped_events: Counter,
    internal_errors: Counter,
    audit_dropped: Counter,
    mails_queued: Counter,
    /// Sent, retried, failed.
    mails: [Counter; 3],
    outbox_passes: Counter,
}

static META: Metadata<'static> = Metadata::new("doorman", Level::INFO, None);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry (one per server, so tests can run several servers in one process).
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        let counter = |name: &'static str, label: (&'static str, &'static str)| {
            recorder.register_counter(
                &Key::from_parts(name, vec![Label::from_static_parts(label.0, label.1)]),
                &META,
            )
        };
        describe(&recorder);
        let responses =
            ["1xx", "2xx", "3xx", "4xx", "5xx"].map(|c| counter("doorman_responses_total", ("class", c)));
        let backend_errors =
            ["connect", "timeout", "protocol"].map(|k| counter("doorman_backend_errors_total", ("kind", k)));
        let client_errors = ["framing", "cut_short", "too_slow", "too_large", "gone"]
            .map(|k| counter("doorman_client_errors_total", ("kind", k)));
        let checkouts = ["forwarded", "blocked", "store_error", "refused"]
            .map(|o| counter("doorman_checkouts_total", ("outcome", o)));
        let unmapped_events = recorder
            .register_counter(&Key::from_static_name("doorman_checkout_unmapped_events_total"), &META);
        let internal_errors =
            recorder.register_counter(&Key::from_static_name("doorman_internal_errors_total"), &META);
        let audit_dropped =
            recorder.register_counter(&Key::from_static_name("doorman_audit_dropped_total"), &META);
        let mails_queued =
            recorder.register_counter(&Key::from_static_name("doorman_waitlist_mails_queued_total"), &META);
        let mails =
            ["sent", "retried", "failed"].map(|r| counter("doorman_waitlist_mails_total", ("result", r)));
        let outbox_passes =
            recorder.register_counter(&Key::from_static_name("doorman_waitlist_outbox_passes_total"), &META);
        let duration =
            recorder.register_histogram(&Key::from_static_name("doorman_response_head_seconds"), &META);
        Self {
            inner: Arc::new(Inner {
                handle,
                responses,
                duration,
                backend_errors,
                client_errors,
                checkouts,
                unmapped_events,
                internal_errors,
                audit_dropped,
                mails_queued,
                mails,
                outbox_passes,
            }),
        }
    }

    /// Counts one response by status class and records the time to its head.
    pub fn response(&self, status: http::StatusCode, elapsed: Duration) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.inner.responses[class].increment(1);
        self.inner.duration.record(elapsed.as_secs_f64());
    }

    /// Counts one failed forward.
    pub fn backend_error(&self, kind: BackendErrorKind) {
        self.inner.backend_errors[kind as usize].increment(1);
    }

    /// Counts one request that failed through the client's fault.
    pub fn client_error(&self, kind: ClientFaultKind) {
        self.inner.client_errors[kind as usize].increment(1);
    }

    /// Counts one checkout decision.
    pub fn checkout(&self, outcome: CheckoutOutcome) {
        self.inner.checkouts[outcome as usize].increment(1);
    }

    /// Counts a checkout with identities on an event mapped to no organizer (only platform-wide
    /// entries could apply).
    pub fn unmapped_event(&self) {
        self.inner.unmapped_events.increment(1);
    }

    /// Counts a request that failed through Doorman's own fault (a panic, answered 500).
    pub fn internal_error(&self) {
        self.inner.internal_errors.increment(1);
    }

    /// Counts a blocked checkout's audit record dropped because the queue was full.
    pub fn audit_dropped(&self) {
        self.inner.audit_dropped.increment(1);
    }

    /// Counts a waitlist mail queued in the outbox.
    pub fn mail_queued(&self) {
        self.inner.mails_queued.increment(1);
    }

    /// Counts one pass of the outbox's sender and what it did with the messages it tried.
    pub fn outbox_drained(&self, sent: u32, retried: u32, failed: u32) {
        for (counter, n) in self.inner.mails.iter().zip([sent, retried, failed]) {
            counter.increment(u64::from(n));
        }
        self.inner.outbox_passes.increment(1);
    }

    /// The text exposition for `/metrics`.
    pub fn render(&self) -> String {
        self.inner.handle.render()
    }

    /// Drains histogram samples into buckets; call now and then so they do not pile up.
    pub fn upkeep(&self) {
        self.inner.handle.run_upkeep();
    }
}

fn describe(r: &PrometheusRecorder) {
    use metrics::SharedString as S;
    r.describe_counter(
        "doorman_responses_total".into(),
        None,
        S::from("Responses sent to clients, by status class"),
    );
    r.describe_counter(
        "doorman_backend_errors_total".into(),
        None,
        S::from("Requests that could not be forwarded, by cause"),
    );
    r.describe_counter(
        "doorman_client_errors_total".into(),
        None,
        S::from(
            "Requests that failed through the client's fault (framing, cut_short, too_slow, too_large, gone)",
        ),
    );
    r.describe_counter(
        "doorman_checkouts_total".into(),
        None,
        S::from("Checkouts seen by the blacklist, by outcome (forwarded, blocked, store_error, refused)"),
    );
    r.describe_counter(
        "doorman_checkout_unmapped_events_total".into(),
        None,
        S::from("Checkouts on events mapped to no organizer: organizer entries could not apply"),
    );
    r.describe_counter(
        "doorman_internal_errors_total".into(),
        None,
        S::from("Requests that failed through Doorman's own fault (answered 500)"),
    );
    r.describe_counter(
        "doorman_audit_dropped_total".into(),
        None,
        S::from("Audit records of blocked checkouts dropped because the write queue was full"),
    );
    r.describe_counter(
        "doorman_waitlist_mails_queued_total".into(),
        None,
        S::from("Waitlist mails queued in the outbox (each with the change it belongs to)"),
    );
    r.describe_counter(
        "doorman_waitlist_mails_total".into(),
        None,
        S::from("Mail attempts of the outbox's sender, by result (sent, retried, failed)"),
    );
    r.describe_counter(
        "doorman_waitlist_outbox_passes_total".into(),
        None,
        S::from("Passes of the outbox's sender over what is due"),
    );
    r.describe_histogram(
        "doorman_response_head_seconds".into(),
        Some(metrics::Unit::Seconds),
        S::from("Time from request head to response head"),
    );
}

/// The application tier's events, counted.
impl crate::ports::events::Events for Metrics {
    fn checkout(&self, outcome: CheckoutOutcome) {
        Metrics::checkout(self, outcome);
    }
    fn client_error(&self, kind: ClientFaultKind) {
        Metrics::client_error(self, kind);
    }
    fn unmapped_event(&self) {
        Metrics::unmapped_event(self);
    }
    fn audit_dropped(&self) {
        Metrics::audit_dropped(self);
    }
    fn mail_queued(&self) {
        Metrics::mail_queued(self);
    }
}
