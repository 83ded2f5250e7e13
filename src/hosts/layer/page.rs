//! An event page's answer with the waitlist button put in as it streams through (the tier
//! decided that it gets one, and what its request and answer heads must look like).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};

use super::body::{BodyFromBytes, BoxError};
use crate::app::waitlist::button::PageRewriter;

/// The backend's `response` with its body fed through `rewriter`, when the tier's rules take
/// the answer (HTML, not compressed); otherwise the response as it came.
pub(super) fn rewrite<R>(response: Response<R>, rewriter: PageRewriter) -> Response<R>
where
    R: BodyFromBytes + Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    let (mut parts, body) = response.into_parts();
    if !PageRewriter::takes_answer(&mut parts.headers) {
        return Response::from_parts(parts, body);
    }
    let rewritten = Rewritten { inner: body, rewriter: Some(rewriter), trailers: None };
    match R::from_stream(rewritten.boxed_unsync()) {
        Some(body) => Response::from_parts(parts, body),
        // Not reached: event pages are run only for body types that stream (`R::STREAMS`).
        None => Response::from_parts(parts, R::from_bytes(Bytes::new())),
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
