//! Bodies the layer can make: from bytes, to pass on a checkout body it had to read and to
//! answer early (the quiet redirect, 413); and, where the type allows, from a stream, for
//! event pages rewritten as they pass (the waitlist button).

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Either, Full};

/// The error of a body the layer made.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body the layer made from a stream (a rewritten page) or from bytes.
pub type MadeBody = UnsyncBoxBody<Bytes, BoxError>;

/// A body type that can be built from bytes (and maybe from a stream).
pub trait BodyFromBytes {
    /// The body holding exactly `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;

    /// Whether [`BodyFromBytes::from_stream`] works for this type.
    const STREAMS: bool = false;

    /// The body streaming `body`; `None` for types that only hold bytes (then pages pass as
    /// the backend sent them).
    fn from_stream(body: MadeBody) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = body;
        None
    }
}

impl<L> BodyFromBytes for Either<L, MadeBody> {
    fn from_bytes(bytes: Bytes) -> Self {
        Either::Right(Full::new(bytes).map_err(|never| match never {}).boxed_unsync())
    }

    const STREAMS: bool = true;

    fn from_stream(body: MadeBody) -> Option<Self> {
        Some(Either::Right(body))
    }
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

    const STREAMS: bool = true;

    fn from_stream(body: MadeBody) -> Option<Self> {
        Some(axum::body::Body::new(body))
    }
}

impl BodyFromBytes for String {
    fn from_bytes(bytes: Bytes) -> Self {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
