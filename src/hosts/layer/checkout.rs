//! One checkout, phase by phase: buffer the body (bounded), identify the customer, look them up,
//! then forward unchanged or answer the quiet redirect.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};

use super::body::BodyFromBytes;
use super::guard::BlacklistGuard;
use crate::core::blacklist::decide::{decide, CheckoutDecision, Lookup};
use crate::core::blacklist::extract::{identities, wants_json};
use crate::hosts::metrics::CheckoutOutcome;
use crate::hosts::proxy::error::error_html;

/// Runs the checkout phases for a request on route `route` of `event`.
pub(super) async fn checkout<S, B, R>(
    guard: Arc<BlacklistGuard>,
    inner: S,
    req: Request<B>,
    route: usize,
    event: String,
) -> Result<Response<R>, S::Error>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    B: hyper::body::Body<Data = Bytes> + BodyFromBytes,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: BodyFromBytes,
{
    let started = std::time::Instant::now();
    let limit = guard.policy.max_body_bytes;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(early(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(early(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Err(e) => {
            tracing::debug!(error = %e, "checkout body could not be read");
            return Ok(early(StatusCode::BAD_REQUEST));
        }
    };

    let now = crate::hosts::audit::now_ms() / 1000;
    let ids = identities(&guard.policy, &parts.headers, &bytes, &guard.hasher, guard.session.as_ref(), now);
    let found = guard.lookup(&event, &ids).await;
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
            guard.timing[route].record(started.elapsed());
            response
        }
        CheckoutDecision::Block { location, json } => {
            let kinds: Vec<&str> = ids.iter().map(|i| i.kind()).collect();
            tracing::info!(%event, identities = ?kinds, "blacklist: checkout quietly turned back");
            guard.audit_block(&found, &ids, &event, route);
            if guard.policy.match_timing {
                let cover = guard.timing[route].cover(guard.policy.blocked_delay);
                tokio::time::sleep_until((started + cover).into()).await;
            }
            Ok(if wants_json(&parts.headers) { json_answer(json) } else { redirect(&location) })
        }
    }
}

/// The quiet answer to a blocked form checkout: an ordinary 303 to the event page.
fn redirect<R: BodyFromBytes>(location: &str) -> Response<R> {
    let mut response = Response::new(R::from_bytes(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    let h = response.headers_mut();
    // The template is validated as a local path and the event is one request-path segment; if
    // the result is still not a valid header value, fall back to the site root.
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

fn early<R: BodyFromBytes>(status: StatusCode) -> Response<R> {
    let mut response = Response::new(R::from_bytes(Bytes::from(error_html(status))));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}
