//! A backend event page that may get the waitlist button: the tier says whether (one store
//! read); the page is then asked for uncompressed and rewritten as it streams through.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};

use super::body::{BodyFromBytes, BoxError};
use crate::app::waitlist::button::{strip_for_rewrite, PageRewriter};
use crate::app::App;
use crate::core::waitlist::button::rewritable;
use crate::ports::store::Store;

/// Forwards the event page request for `event`, with the button put in when its waitlist takes
/// signups.
pub(super) async fn run<S, St, B, R>(
    app: Arc<App<St>>,
    inner: S,
    mut req: Request<B>,
    event: String,
) -> Result<Response<R>, S::Error>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    St: Store + Clone,
    R: BodyFromBytes + Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    let Some(button) = app.button(&event, req.headers()).await else {
        return tower::ServiceExt::oneshot(inner, req).await;
    };
    // A compressed page cannot be rewritten without unpacking it: ask for it plain.
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = tower::ServiceExt::oneshot(inner, req).await?;
    if !rewritable(response.headers()) {
        return Ok(response);
    }
    let Some(rewriter) = app.page_rewriter(button) else { return Ok(response) };
    let (mut parts, body) = response.into_parts();
    let rewritten = Rewritten { inner: body, rewriter: Some(rewriter), trailers: None };
    match R::from_stream(rewritten.boxed_unsync()) {
        Some(body) => {
            strip_for_rewrite(&mut parts.headers);
            Ok(Response::from_parts(parts, body))
        }
        // Not reached: `run` is only used for body types that stream (`R::STREAMS`).
        None => Ok(Response::from_parts(parts, R::from_bytes(Bytes::new()))),
    }
}

pin_project_lite::pin_project! {
    /// The page's body through the rewriter, chunk by chunk.
    struct Rewritten<R> {
        #[pin]
        inner: R,
        rewriter: Option<PageRewriter>,
        trailers: Option<http::HeaderMap>,
    }
}

impl<R> Body for Rewritten<R>
where
    R: Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        loop {
            let Some(rewriter) = this.rewriter.as_mut() else {
                // Done: the trailers, if the page had any, come last.
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            };
            let end = match this.inner.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => match rewriter.feed(&data) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                        Err(e) => {
                            *this.rewriter = None;
                            return Poll::Ready(Some(Err(e.into())));
                        }
                    },
                    Err(frame) => {
                        *this.trailers = frame.into_trailers().ok();
                        true
                    }
                },
                Poll::Ready(None) => true,
            };
            if end {
                match this.rewriter.take().map(PageRewriter::finish) {
                    Some(Ok(out)) if !out.is_empty() => return Poll::Ready(Some(Ok(Frame::data(out)))),
                    Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
                    _ => continue,
                }
            }
        }
    }
}
