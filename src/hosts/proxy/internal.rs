//! Doorman's own failures: a bug that panics while a request is handled becomes a neutral 500
//! for that request (counted in `doorman_internal_errors_total`, logged at `error`), instead of
//! a connection dropped without a word. The other requests and connections go on.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Response, StatusCode};

use super::error::error_page;
use crate::hosts::layer::BodyFromBytes;
use crate::hosts::metrics::Metrics;

pin_project_lite::pin_project! {
    /// Answers 500 if the future it wraps panics.
    pub struct CatchPanic<F> {
        #[pin]
        future: F,
        metrics: Option<Metrics>,
    }
}

impl<F> CatchPanic<F> {
    /// Wraps `future`; a panic counts in `metrics`.
    pub fn new(future: F, metrics: Metrics) -> Self {
        Self { future, metrics: Some(metrics) }
    }
}

impl<F, B, E> Future for CatchPanic<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: BodyFromBytes,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(panic = %what, "internal error while handling a request");
                if let Some(metrics) = this.metrics.take() {
                    metrics.internal_error();
                }
                Poll::Ready(Ok(error_page(StatusCode::INTERNAL_SERVER_ERROR)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::Full;

    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_neutral_500_and_is_counted() {
        let metrics = Metrics::new();
        let panicking = async {
            if true {
                panic!("a bug");
            }
            Ok::<Response<Full<Bytes>>, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        };
        let response = CatchPanic::new(panicking, metrics.clone()).await.unwrap();
        assert_eq!(response.status(), 500);
        assert!(metrics.render().contains("doorman_internal_errors_total 1"), "{}", metrics.render());
        let fine = async { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("ok")))) };
        assert_eq!(CatchPanic::new(fine, metrics.clone()).await.unwrap().status(), 200);
    }
}
