//! A request the application tier has an action for: the tier reads it and says what to do
//! ([`Step`]); this host forwards it to the inner service (its body as the tier read it, or
//! untouched, or its answer rewritten as it streams) or sends the tier's answer.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Body;

use super::body::{BodyFromBytes, BoxError};
use super::buffer::{linger, HyperBody};
use super::page::rewrite;
use crate::app::waitlist::button::PageRewriter;
use crate::app::{Action, App, RequestContext, Step};
use crate::ports::store::Store;

/// Runs `action` for `req`, then forwards or answers.
pub(super) async fn run<S, St, B, R>(
    app: Arc<App<St>>,
    inner: S,
    req: Request<B>,
    action: Action,
    context: RequestContext,
) -> Result<Response<R>, S::Error>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    St: Store + Clone,
    B: hyper::body::Body<Data = Bytes> + BodyFromBytes + Unpin + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: BodyFromBytes + Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    let (mut parts, mut body) = req.into_parts();
    let step = app.run(action, &context, &parts, &mut HyperBody::new(&mut body, &parts.headers)).await;
    match step {
        Step::Answer { response, linger: unread } => {
            if unread {
                linger(body);
            }
            Ok(response.map(R::from_bytes))
        }
        Step::Forward { body: bytes, ticket } => {
            let req = Request::from_parts(parts, B::from_bytes(bytes));
            let response = tower::ServiceExt::oneshot(inner, req).await;
            if let Ok(r) = &response {
                app.forwarded(ticket, r.status(), r.headers());
            }
            response
        }
        Step::Pass => tower::ServiceExt::oneshot(inner, Request::from_parts(parts, body)).await,
        Step::Rewrite { rewriter } => {
            PageRewriter::prepare_request(&mut parts.headers);
            let response = tower::ServiceExt::oneshot(inner, Request::from_parts(parts, body)).await?;
            Ok(rewrite(response, *rewriter))
        }
    }
}
