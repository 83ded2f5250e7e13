//! HTTP/1.1 response framing for the proxy's same-task backend exchange, without I/O.
//!
//! Three pieces, each fed bytes by the caller: [`encode_request_head`] writes a bodiless request
//! head, [`parse_response_head`] turns the front of a read buffer into a response head and says
//! how its body is delimited (RFC 9112 §6.3), and [`ChunkedDecoder`] takes a chunked body apart.
//! Anything ambiguous is an error or makes the connection single-use, never a guess: a
//! misframed response on a reused connection would hand one customer's bytes to the next.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

/// Most header fields accepted in a response head (or in chunked trailers).
pub const MAX_HEADERS: usize = 100;
/// Largest response head accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// Why a backend response could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The status line or a header field is not valid HTTP/1.1.
    #[error("malformed response head: {0}")]
    MalformedHead(&'static str),
    /// The head is larger than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADERS`] fields.
    #[error("response head too large")]
    HeadTooLarge,
    /// `Content-Length` is not one non-negative number.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// A status the exchange does not take (101 without an upgrade request).
    #[error("unexpected status {0}")]
    UnexpectedStatus(u16),
    /// The chunked body is malformed.
    #[error("malformed chunked body: {0}")]
    MalformedChunk(&'static str),
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body (HEAD, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the backend closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug)]
pub struct ResponseHead {
    /// The status code.
    pub status: StatusCode,
    /// The header fields, in order, names lowercased.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub framing: BodyFraming,
    /// Whether the connection may carry another request once this body is read.
    pub reusable: bool,
}

/// Writes the head of a bodiless request into `out` (cleared first): request line in origin
/// form, then every field. Header values cannot hold CR or LF (`HeaderValue` refuses them), so
/// nothing can be smuggled into the head.
pub fn encode_request_head(method: &Method, path_and_query: &str, headers: &HeaderMap, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(if path_and_query.is_empty() { b"/" } else { path_and_query.as_bytes() });
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Parses a response head from the front of `buf`. Answers `Ok(None)` when more bytes are
/// needed; on success the head's bytes are taken off `buf`, leaving the body's first bytes.
/// Interim (1xx) responses other than 101 are skipped. `request_method` decides whether a body
/// follows (never after HEAD).
pub fn parse_response_head(
    buf: &mut BytesMut,
    request_method: &Method,
) -> Result<Option<ResponseHead>, FramingError> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut fields);
        let len = match response.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                return Err(FramingError::HeadTooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(FramingError::HeadTooLarge),
            Err(_) => return Err(FramingError::MalformedHead("status line or header field")),
        };
        if len > MAX_HEAD_BYTES {
            return Err(FramingError::HeadTooLarge);
        }
        let code = response.code.unwrap_or(0);
        let status = StatusCode::from_u16(code).map_err(|_| FramingError::MalformedHead("status code"))?;
        if status.is_informational() {
            if status == StatusCode::SWITCHING_PROTOCOLS {
                return Err(FramingError::UnexpectedStatus(code));
            }
            buf.advance(len);
            continue;
        }
        let http11 = response.version == Some(1);
        // Header values are slices of the head's bytes: the head is frozen once, no copies.
        let base = buf.as_ptr() as usize;
        let spans: Vec<(usize, usize, usize, usize)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.as_ptr() as usize - base,
                    h.name.len(),
                    h.value.as_ptr() as usize - base,
                    h.value.len(),
                )
            })
            .collect();
        let head = buf.split_to(len).freeze();
        let mut headers = HeaderMap::with_capacity(spans.len());
        for (name_at, name_len, value_at, value_len) in spans {
            let name = HeaderName::from_bytes(&head[name_at..name_at + name_len])
                .map_err(|_| FramingError::MalformedHead("header name"))?;
            let value = HeaderValue::from_maybe_shared(head.slice(value_at..value_at + value_len))
                .map_err(|_| FramingError::MalformedHead("header value"))?;
            headers.append(name, value);
        }
        let (framing, framing_reusable) = framing(request_method, status, &headers)?;
        let reusable = framing_reusable && http11 && !has_token(&headers, &header::CONNECTION, "close");
        return Ok(Some(ResponseHead { status, headers, framing, reusable }));
    }
}

/// RFC 9112 §6.3: how the body of a response to `method` with `status` is delimited, and
/// whether that framing leaves the connection usable.
fn framing(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<(BodyFraming, bool), FramingError> {
    if method == Method::HEAD || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok((BodyFraming::Empty, true));
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        // Chunked only counts as the final coding; with Content-Length too, the message is
        // suspicious (§6.3 item 3) and the connection is not reused.
        let chunked_last = headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        let also_length = headers.contains_key(header::CONTENT_LENGTH);
        return Ok(if chunked_last {
            (BodyFraming::Chunked, !also_length)
        } else {
            (BodyFraming::UntilClose, false)
        });
    }
    let mut length: Option<u64> = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        // A list of identical values is allowed (§6.3 item 5); anything else is an error.
        for part in value.to_str().map_err(|_| FramingError::InvalidContentLength)?.split(',') {
            let part = part.trim();
            if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FramingError::InvalidContentLength);
            }
            let n: u64 = part.parse().map_err(|_| FramingError::InvalidContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(FramingError::InvalidContentLength);
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => (BodyFraming::Empty, true),
        Some(n) => (BodyFraming::Length(n), true),
        None => (BodyFraming::UntilClose, false),
    })
}

/// Whether a comma-separated field holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// What [`ChunkedDecoder::decode`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Body bytes.
    Data(Bytes),
    /// The body ended; trailer fields, if any, follow in the map.
    End(Option<HeaderMap>),
    /// More input is needed.
    NeedMore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer fields, then an empty line.
    Trailers,
    /// The body is complete.
    Done,
}

/// Decodes `Transfer-Encoding: chunked` from a buffer the caller keeps filling.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: ChunkState,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> Self {
        Self { state: ChunkState::Size }
    }

    /// Whether the final chunk and the trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Takes the next piece off the front of `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Chunk, FramingError> {
        loop {
            match self.state {
                ChunkState::Done => return Ok(Chunk::End(None)),
                ChunkState::Size => {
                    let Some(line_end) = find_crlf(buf, MAX_CHUNK_LINE)? else { return Ok(Chunk::NeedMore) };
                    let line = &buf[..line_end];
                    // chunk-size [ chunk-ext ]: extensions are ignored.
                    let size_part = line.split(|&b| b == b';').next().unwrap_or_default();
                    let size_str = std::str::from_utf8(size_part)
                        .map_err(|_| FramingError::MalformedChunk("chunk size"))?
                        .trim_matches([' ', '\t']);
                    if size_str.is_empty()
                        || size_str.len() > 15
                        || !size_str.bytes().all(|b| b.is_ascii_hexdigit())
                    {
                        return Err(FramingError::MalformedChunk("chunk size"));
                    }
                    let size = u64::from_str_radix(size_str, 16)
                        .map_err(|_| FramingError::MalformedChunk("chunk size"))?;
                    buf.advance(line_end + 2);
                    self.state = if size == 0 { ChunkState::Trailers } else { ChunkState::Data(size) };
                }
                ChunkState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Chunk::NeedMore);
                    }
                    let n = (buf.len() as u64).min(left) as usize;
                    let data = buf.split_to(n).freeze();
                    self.state = if left == n as u64 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - n as u64)
                    };
                    return Ok(Chunk::Data(data));
                }
                ChunkState::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Chunk::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(FramingError::MalformedChunk("missing CRLF after chunk data"));
                    }
                    buf.advance(2);
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        buf.advance(2);
                        self.state = ChunkState::Done;
                        return Ok(Chunk::End(None));
                    }
                    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    match httparse::parse_headers(buf, &mut fields) {
                        Ok(httparse::Status::Complete((len, fields))) => {
                            let mut trailers = HeaderMap::with_capacity(fields.len());
                            for f in fields.iter() {
                                let name = HeaderName::from_bytes(f.name.as_bytes())
                                    .map_err(|_| FramingError::MalformedChunk("trailer name"))?;
                                let value = HeaderValue::from_bytes(f.value)
                                    .map_err(|_| FramingError::MalformedChunk("trailer value"))?;
                                trailers.append(name, value);
                            }
                            buf.advance(len);
                            self.state = ChunkState::Done;
                            return Ok(Chunk::End(Some(trailers)));
                        }
                        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                            return Err(FramingError::HeadTooLarge)
                        }
                        Ok(httparse::Status::Partial) => return Ok(Chunk::NeedMore),
                        Err(_) => return Err(FramingError::MalformedChunk("trailer section")),
                    }
                }
            }
        }
    }
}

/// The index of the first CRLF in `buf`, if it is within `limit` bytes.
fn find_crlf(buf: &[u8], limit: usize) -> Result<Option<usize>, FramingError> {
    match buf.windows(2).take(limit).position(|w| w == b"\r\n") {
        Some(i) => Ok(Some(i)),
        None if buf.len() > limit => Err(FramingError::MalformedChunk("chunk-size line too long")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str, method: Method) -> Result<Option<ResponseHead>, FramingError> {
        parse_response_head(&mut BytesMut::from(raw), &method)
    }

    fn head(raw: &str) -> ResponseHead {
        parse(raw, Method::GET).unwrap().unwrap()
    }

    #[test]
    fn content_length_body_leaves_body_bytes_in_the_buffer() {
        let mut buf = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello");
        let h = parse_response_head(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(h.status, StatusCode::OK);
        assert_eq!(h.framing, BodyFraming::Length(5));
        assert!(h.reusable);
        assert_eq!(h.headers["x-a"], "b");
        assert_eq!(&buf[..], b"hello");
    }

    #[test]
    fn partial_head_asks_for_more() {
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Len", Method::GET).unwrap().is_none());
    }

    #[test]
    fn head_204_304_have_no_body() {
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", Method::HEAD).unwrap().unwrap().framing,
            BodyFraming::Empty
        );
        assert_eq!(head("HTTP/1.1 204 No Content\r\n\r\n").framing, BodyFraming::Empty);
        assert_eq!(
            head("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n").framing,
            BodyFraming::Empty
        );
    }

    #[test]
    fn interim_responses_are_skipped_and_101_is_refused() {
        let h = head(
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(h.status, StatusCode::OK);
        assert!(!h.headers.contains_key("link"));
        assert_eq!(
            parse("HTTP/1.1 101 Switching\r\n\r\n", Method::GET).unwrap_err(),
            FramingError::UnexpectedStatus(101)
        );
    }

    #[test]
    fn chunked_wins_over_length_but_spoils_the_connection() {
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!((h.framing, h.reusable), (BodyFraming::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
        assert_eq!((h.framing, h.reusable), (BodyFraming::Chunked, false));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!((h.framing, h.reusable), (BodyFraming::UntilClose, false));
    }

    #[test]
    fn no_length_means_until_close() {
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((h.framing, h.reusable), (BodyFraming::UntilClose, false));
    }

    #[test]
    fn close_and_http10_are_single_use() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n").reusable
        );
        assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable);
    }

    #[test]
    fn bad_content_lengths_are_errors() {
        for cl in ["-1", "abc", "1 2", "", "+5", "99999999999999999999"] {
            let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(parse(&raw, Method::GET).unwrap_err(), FramingError::InvalidContentLength, "{cl}");
        }
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(parse(raw, Method::GET).unwrap_err(), FramingError::InvalidContentLength);
        assert_eq!(head("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n").framing, BodyFraming::Length(3));
    }

    #[test]
    fn malformed_and_oversized_heads_are_errors() {
        assert!(matches!(parse("HTTP/1.1 2x0 OK\r\n\r\n", Method::GET), Err(FramingError::MalformedHead(_))));
        assert!(matches!(parse("garbage\r\n\r\n", Method::GET), Err(FramingError::MalformedHead(_))));
        assert!(matches!(
            parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", Method::GET),
            Err(FramingError::MalformedHead(_))
        ));
        let big = format!("HTTP/1.1 200 OK\r\nX: {}", "a".repeat(MAX_HEAD_BYTES + 1));
        assert_eq!(parse(&big, Method::GET).unwrap_err(), FramingError::HeadTooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert_eq!(parse(&raw, Method::GET).unwrap_err(), FramingError::HeadTooLarge);
    }

    #[test]
    fn request_head_is_origin_form_with_every_field() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("shop"));
        headers.append("accept", HeaderValue::from_static("a"));
        headers.append("accept", HeaderValue::from_static("b"));
        let mut out = Vec::new();
        encode_request_head(&Method::GET, "/p?q=1", &headers, &mut out);
        assert_eq!(out, b"GET /p?q=1 HTTP/1.1\r\nhost: shop\r\naccept: a\r\naccept: b\r\n\r\n");
    }

    /// Decodes `input` fed in pieces of `step` bytes; answers the body and the trailers.
    fn dechunk(input: &[u8], step: usize) -> Result<(Vec<u8>, Option<HeaderMap>), FramingError> {
        let mut d = ChunkedDecoder::new();
        let (mut buf, mut body, mut fed) = (BytesMut::new(), Vec::new(), 0);
        loop {
            match d.decode(&mut buf)? {
                Chunk::Data(b) => body.extend_from_slice(&b),
                Chunk::End(t) => return Ok((body, t)),
                Chunk::NeedMore => {
                    assert!(fed < input.len(), "decoder wants more than the input has");
                    let end = (fed + step).min(input.len());
                    buf.extend_from_slice(&input[fed..end]);
                    fed = end;
                }
            }
        }
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_read_sizes() {
        let input = b"5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
        for step in [1, 2, 3, 7, 64] {
            let (body, trailers) = dechunk(input, step).unwrap();
            assert_eq!(body, b"helloabcdefghijklmnopqrstuvwxyz".to_vec());
            assert!(trailers.is_none());
        }
    }

    #[test]
    fn chunked_trailers_are_kept() {
        let (body, trailers) = dechunk(b"3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n", 4).unwrap();
        assert_eq!(body, b"abc");
        assert_eq!(trailers.unwrap()["x-sum"], "42");
    }

    #[test]
    fn malformed_chunks_are_errors() {
        for bad in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"3\r\nabcX\r\n0\r\n\r\n",
            b"\r\n",
            b"-1\r\n",
            b"1234567890abcdef0\r\n",
        ] {
            assert!(
                matches!(dechunk(bad, 64), Err(FramingError::MalformedChunk(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long_line = vec![b'1'; MAX_CHUNK_LINE + 10];
        assert!(dechunk(&long_line, 8192).is_err());
    }
}
