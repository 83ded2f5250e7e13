//! The incoming side of `wasi:http`: the request head as `http` types, its body as the
//! application tier's [`BodyStream`], and the answer written back through the response outparam.

use bytes::Bytes;
use doorman::app::waitlist::button::PageRewriter;
use doorman::core::error_page::error_response;
use doorman::ports::body::BodyStream;
use doorman::ports::events::ClientFaultKind;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam, Scheme,
};
use wstd::io::{AsyncInputStream, AsyncOutputStream};

/// Header fields a `wasi:http` host refuses to take from a component (wasmtime's forbidden
/// list, which Spin uses): they describe the connection or a proxy hop, which the host owns. `te`
/// is hop-by-hop too.
pub const FORBIDDEN: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "te",
];

/// The request body as it arrives. The stream is a child of the body resource and is dropped
/// first (field order).
pub struct RequestBody {
    stream: Option<AsyncInputStream>,
    _body: Option<IncomingBody>,
}

impl RequestBody {
    /// Hands the body over for streaming to the backend: the stream, and its parent, which
    /// must outlive it.
    pub fn into_parts(mut self) -> (Option<AsyncInputStream>, Option<IncomingBody>) {
        (self.stream.take(), self._body.take())
    }
}

/// Reads the request head; the body stays unread.
pub fn read_head(request: IncomingRequest) -> Result<(http::request::Parts, RequestBody), String> {
    let method = match request.method() {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(m) => http::Method::from_bytes(m.as_bytes()).map_err(|e| e.to_string())?,
    };
    let scheme = match request.scheme() {
        Some(Scheme::Https) => "https",
        _ => "http",
    };
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    let uri = match request.authority() {
        Some(authority) if !authority.is_empty() => format!("{scheme}://{authority}{path}"),
        _ => path,
    };
    let mut builder = http::Request::builder().method(method).uri(uri);
    let headers = request.headers();
    for (name, value) in headers.entries() {
        builder = builder.header(name, value);
    }
    drop(headers);
    let (parts, ()) = builder.body(()).map_err(|e| e.to_string())?.into_parts();
    let body = request.consume().map_err(|()| "request body already taken".to_string())?;
    let stream = body.stream().map_err(|()| "request body stream already taken".to_string())?;
    Ok((parts, RequestBody { stream: Some(AsyncInputStream::new(stream)), _body: Some(body) }))
}

/// A checkout body read by the application tier.
pub struct EdgeBody<'a> {
    body: &'a mut RequestBody,
    declared: Option<u64>,
    buf: Vec<u8>,
}

impl<'a> EdgeBody<'a> {
    /// Reads `body`, whose head is `headers` (for the declared length).
    pub fn new(body: &'a mut RequestBody, headers: &HeaderMap) -> Self {
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
        Self { body, declared, buf: vec![0; 16 * 1024] }
    }
}

impl BodyStream for EdgeBody<'_> {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ClientFaultKind>> {
        let stream = self.body.stream.as_ref()?;
        match stream.read(&mut self.buf).await {
            Ok(0) => None,
            Ok(n) => Some(Ok(Bytes::copy_from_slice(&self.buf[..n]))),
            // The host ends the stream with an error when the client's body broke off.
            Err(_) => Some(Err(ClientFaultKind::CutShort)),
        }
    }

    fn declared_len(&self) -> Option<u64> {
        self.declared
    }
}

/// What the component sends back: its own answer, or the backend's (its body streamed).
pub struct Answer {
    head: http::response::Parts,
    body: AnswerBody,
    from_backend: bool,
}

enum AnswerBody {
    Bytes(Bytes),
    Backend(wstd::http::Body),
    /// The backend's event page, through the waitlist button's rewriter.
    Rewritten(wstd::http::Body, Box<PageRewriter>),
}

impl From<Response<Bytes>> for Answer {
    fn from(response: Response<Bytes>) -> Self {
        let (head, body) = response.into_parts();
        Self { head, body: AnswerBody::Bytes(body), from_backend: false }
    }
}

impl Answer {
    /// A neutral error page.
    pub fn page(status: StatusCode) -> Self {
        Self::from(error_response(status))
    }

    /// The backend's answer, its body streamed.
    pub fn backend(response: Response<wstd::http::Body>) -> Self {
        let (head, body) = response.into_parts();
        Self { head, body: AnswerBody::Backend(body), from_backend: true }
    }

    /// The backend's status and header fields, when the backend answered.
    pub fn backend_head(&self) -> Option<(StatusCode, &HeaderMap)> {
        self.from_backend.then_some((self.head.status, &self.head.headers))
    }

    /// Puts the waitlist button into the backend's page as it streams out, when the tier's
    /// rules take the answer (HTML, not compressed); any other answer goes out as it came.
    pub fn rewrite(&mut self, rewriter: PageRewriter) {
        if !self.from_backend || !PageRewriter::takes_answer(&mut self.head.headers) {
            return;
        }
        let body = std::mem::replace(&mut self.body, AnswerBody::Bytes(Bytes::new()));
        self.body = match body {
            AnswerBody::Backend(page) => AnswerBody::Rewritten(page, Box::new(rewriter)),
            other => other,
        };
    }

    /// Adds the request id, as every answer carries it.
    pub fn set_request_id(&mut self, name: &HeaderName, id: HeaderValue) {
        self.head.headers.insert(name.clone(), id);
    }
}

/// Sends `answer` through `out`: the head at once, then the body. A backend body that breaks
/// off is left unfinished, so the client sees it cut short, never passed off as complete.
pub async fn respond(out: ResponseOutparam, answer: Answer) {
    let fields = match to_fields(&answer.head.headers) {
        Ok(fields) => fields,
        Err(e) => {
            eprintln!("doorman-edge: answer header fields refused by the host: {e}");
            return Box::pin(respond(out, Answer::page(StatusCode::BAD_GATEWAY))).await;
        }
    };
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(answer.head.status.as_u16());
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    let Ok(stream) = body.write() else { return };
    let stream = AsyncOutputStream::new(stream);
    let complete = match answer.body {
        AnswerBody::Bytes(bytes) => stream.write_all(&bytes).await.is_ok(),
        AnswerBody::Backend(backend) => copy_body(backend, &stream, None).await,
        AnswerBody::Rewritten(page, rewriter) => copy_body(page, &stream, Some(*rewriter)).await,
    };
    drop(stream);
    if complete {
        let _ = OutgoingBody::finish(body, None);
    }
}

/// Copies the backend's body to the client, through `rewriter` when there is one; `false` when
/// either side broke off (or the page could not be rewritten).
async fn copy_body(
    backend: wstd::http::Body,
    to: &AsyncOutputStream,
    mut rewriter: Option<PageRewriter>,
) -> bool {
    let mut body = backend.into_boxed_body();
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
            Err(e) => {
                eprintln!("doorman-edge: backend body broke off: {e}");
                return false;
            }
        };
        let out = match rewriter.as_mut().map(|r| r.feed(&data)) {
            None => data,
            Some(Ok(out)) => out,
            Some(Err(e)) => {
                eprintln!("doorman-edge: event page not rewritten: {e}");
                return false;
            }
        };
        if !out.is_empty() && to.write_all(&out).await.is_err() {
            return false;
        }
    }
    match rewriter.map(PageRewriter::finish) {
        Some(Ok(rest)) => rest.is_empty() || to.write_all(&rest).await.is_ok(),
        Some(Err(e)) => {
            eprintln!("doorman-edge: event page not rewritten: {e}");
            false
        }
        None => true,
    }
}

/// The header fields a host takes: forbidden ones are the host's own and left out.
pub fn to_fields(headers: &HeaderMap) -> Result<Fields, String> {
    let list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| !FORBIDDEN.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    Fields::from_list(&list).map_err(|e| format!("{e:?}"))
}
