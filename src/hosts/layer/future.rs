//! The response future of [`super::Doorman`]: the inner service's future for forwarded requests,
//! or a boxed checkout (buffer, look up, then forward or answer).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A checkout in progress.
pub(super) type CheckoutFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

pin_project_lite::pin_project! {
    /// Response future of [`super::Doorman`].
    pub struct ResponseFuture<F, T, E> {
        #[pin]
        kind: Kind<F, T, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, T, E> {
        // A request Doorman does not look at: the inner service's own future, no allocation.
        Inner { #[pin] future: F },
        // A checkout: decided by the blacklist before (maybe) reaching the inner service.
        Checkout { future: CheckoutFuture<T, E> },
    }
}

impl<F, T, E> ResponseFuture<F, T, E> {
    pub(super) fn inner(future: F) -> Self {
        Self { kind: Kind::Inner { future } }
    }

    pub(super) fn checkout(future: CheckoutFuture<T, E>) -> Self {
        Self { kind: Kind::Checkout { future } }
    }
}

impl<F, T, E> Future for ResponseFuture<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Checkout { future } => future.as_mut().poll(cx),
        }
    }
}
