//! Bodies the layer can make from bytes: to pass on a checkout body it had to read, and to
//! answer early (the quiet redirect, 413).

use bytes::Bytes;
use http_body_util::{Either, Full};

/// A body type that can be built from bytes.
pub trait BodyFromBytes {
    /// The body holding exactly `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;
}

impl<L> BodyFromBytes for Either<L, Full<Bytes>> {
    fn from_bytes(bytes: Bytes) -> Self {
        Either::Right(Full::new(bytes))
    }
}

impl BodyFromBytes for Full<Bytes> {
    fn from_bytes(bytes: Bytes) -> Self {
        Full::new(bytes)
    }
}

impl BodyFromBytes for axum::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        axum::body::Body::from(bytes)
    }
}

impl BodyFromBytes for String {
    fn from_bytes(bytes: Bytes) -> Self {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
