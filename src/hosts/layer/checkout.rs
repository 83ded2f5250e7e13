//! One checkout, phase by phase: buffer the body (bounded in size and time), read the customer's
//! identities the way the backend will (or refuse), look them up, then forward unchanged or
//! answer the quiet redirect, no sooner and no different than the backend would.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};

use super::body::BodyFromBytes;
use super::buffer::{linger, read_bounded};
use super::guard::{BlacklistGuard, Classified, Learned};
use super::timing::wait_until;
use crate::core::blacklist::decide::{decide, CheckoutDecision, Lookup};
use crate::core::blacklist::extract::{identities, wants_json, CheckoutParts};
use crate::hosts::metrics::{CheckoutOutcome, ClientFaultKind};
use crate::hosts::proxy::error::error_page;

/// Runs the checkout phases for a classified request.
pub(super) async fn checkout<S, B, R>(
    guard: Arc<BlacklistGuard>,
    inner: S,
    req: Request<B>,
    classified: Classified,
) -> Result<Response<R>, S::Error>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    B: hyper::body::Body<Data = Bytes> + BodyFromBytes + Unpin + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: BodyFromBytes,
{
    let Classified { route, event, slug, unreadable } = classified;
    let (parts, mut body) = req.into_parts();
    if let Some(reason) = unreadable {
        guard.metrics.checkout(CheckoutOutcome::Refused);
        tracing::info!(
            reason,
            "blacklist: checkout refused, its path cannot be read as the backend reads it"
        );
        linger(body);
        return Ok(error_page(StatusCode::BAD_REQUEST));
    }
    let limit = guard.policy.max_body_bytes;
    let declared =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        guard.metrics.client_error(ClientFaultKind::TooLarge);
        linger(body);
        return Ok(error_page(StatusCode::PAYLOAD_TOO_LARGE));
    }
    guard.restore_timing().await;

    // Phase "buffer": the whole body, within the size limit and the read deadline.
    let deadline = Instant::now() + guard.policy.reading.body_read_timeout;
    let bytes = match read_bounded(&mut body, limit, deadline).await {
        Ok(bytes) => bytes,
        Err(fault) => {
            tracing::debug!(?fault, "checkout body could not be read");
            guard.metrics.client_error(fault);
            if fault == ClientFaultKind::TooLarge {
                linger(body);
            }
            return Ok(error_page(fault.status()));
        }
    };
    // Timing is measured from here, so a client's own upload speed cannot shift it.
    let body_done = Instant::now();

    // Phase "identify": read as the backend reads, or refuse.
    let request = CheckoutParts { headers: &parts.headers, query: parts.uri.query(), body: &bytes };
    let ids = match identities(&guard.policy, request, &guard.hasher, guard.session.as_ref()) {
        Ok(ids) => ids,
        Err(refusal) => {
            guard.metrics.checkout(CheckoutOutcome::Refused);
            tracing::info!(%event, reason = refusal.kind(), "blacklist: checkout refused, it cannot be read as the backend reads it");
            return Ok(error_page(StatusCode::BAD_REQUEST));
        }
    };

    // Phases "look up" and "decide".
    let found = guard.lookup(slug.as_deref(), &ids).await;
    let lookup = found.lookup;
    let checkout_route = &guard.policy.checkout[route];
    let decision = decide(checkout_route, &event, lookup, guard.policy.on_store_error);
    let outcome = match (&decision, lookup) {
        (_, Lookup::Failed) => CheckoutOutcome::StoreError,
        (CheckoutDecision::Block { .. }, _) => CheckoutOutcome::Blocked,
        (CheckoutDecision::Forward, _) => CheckoutOutcome::Forwarded,
    };
    guard.metrics.checkout(outcome);
    match decision {
        CheckoutDecision::Forward => {
            let req = Request::from_parts(parts, B::from_bytes(bytes));
            let response = tower::ServiceExt::oneshot(inner, req).await;
            if let Ok(r) = &response {
                learn(&guard, route, r.status(), r.headers(), body_done);
            }
            response
        }
        CheckoutDecision::Block { location, json } => {
            let kinds: Vec<&str> = ids.iter().map(|i| i.kind()).collect();
            tracing::info!(%event, identities = ?kinds, "blacklist: checkout quietly turned back");
            guard.audit_block(&found, &ids, &event, route);
            if guard.policy.match_timing {
                wait_until(body_done + guard.timing[route].cover(guard.policy.blocked_delay)).await;
            }
            let as_json = wants_json(&parts.headers, guard.policy.json_answer);
            let learned = &guard.learned[route];
            let (mut response, learned) = if as_json {
                (json_answer(json), &learned.json)
            } else {
                (redirect(&location), &learned.redirect)
            };
            let learned = learned.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(status) = learned.status {
                *response.status_mut() = status;
            }
            let h = response.headers_mut();
            for (name, value) in learned.fields {
                h.insert(name, value);
            }
            for (name, value) in &guard.policy.blocked_headers {
                h.insert(name.clone(), value.clone());
            }
            Ok(response)
        }
    }
}

/// What a forwarded checkout teaches: how long the backend takes to complete one (2xx, 3xx),
/// and the status and site-wide header fields of its redirects and JSON answers.
fn learn(guard: &BlacklistGuard, route: usize, status: StatusCode, headers: &HeaderMap, body_done: Instant) {
    if !(status.is_success() || status.is_redirection()) {
        return;
    }
    guard.record_timing(route, body_done.elapsed());
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().ends_with("json"));
    let (slot, status) = match (status.is_redirection(), is_json) {
        (true, _) => {
            let browser_gets = matches!(status.as_u16(), 301..=303).then_some(status);
            (&guard.learned[route].redirect, browser_gets)
        }
        (false, true) => (&guard.learned[route].json, None),
        (false, false) => return,
    };
    let fields: Vec<(HeaderName, HeaderValue)> = headers
        .iter()
        .filter(|(name, value)| is_site_wide(name, value))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Learned { status, fields };
}

/// Header fields that describe the site rather than one answer, so a blocked answer may carry
/// them too. Everything else (cookies, ids, timings, trace context, nonces) belongs to another
/// customer's answer and is never copied.
fn is_site_wide(name: &HeaderName, value: &HeaderValue) -> bool {
    const SITE_WIDE: &[&str] = &[
        "server",
        "x-powered-by",
        "content-type",
        "content-language",
        "cache-control",
        "pragma",
        "vary",
        "x-frame-options",
        "x-content-type-options",
        "x-xss-protection",
        "strict-transport-security",
        "referrer-policy",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-resource-policy",
        "content-security-policy",
    ];
    SITE_WIDE.contains(&name.as_str())
        && !(name.as_str() == "content-security-policy"
            && value.as_bytes().windows(6).any(|w| w == b"nonce-"))
}

/// The quiet answer to a blocked form checkout: an ordinary 303 to the event page.
fn redirect<R: BodyFromBytes>(location: &str) -> Response<R> {
    let mut response = Response::new(R::from_bytes(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    let h = response.headers_mut();
    // The template is validated as a local path and the event is percent-encoded; if the result
    // is still not a valid header value, fall back to the site root.
    h.insert(header::LOCATION, HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_answer<R: BodyFromBytes>(json: String) -> Response<R> {
    let mut response = Response::new(R::from_bytes(Bytes::from(json)));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
