//! The neutral error pages every runtime answers with: the status and one sentence, nothing
//! internal (no backend address, no error text). Hosts add the request id.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

/// A neutral error page as a response.
pub fn error_response(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(error_html(status)));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTML of a neutral error page.
pub fn error_html(status: StatusCode) -> String {
    let (title, sentence) = match status {
        StatusCode::GATEWAY_TIMEOUT => {
            ("Gateway Timeout", "The shop is taking too long to answer. Please try again in a moment.")
        }
        StatusCode::BAD_GATEWAY => {
            ("Bad Gateway", "The shop cannot be reached right now. Please try again in a moment.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("Payload Too Large", "The request is too large."),
        StatusCode::REQUEST_TIMEOUT => ("Request Timeout", "The request took too long to arrive."),
        StatusCode::BAD_REQUEST => ("Bad Request", "The request could not be understood."),
        _ => ("Error", "Something went wrong. Please try again in a moment."),
    };
    let code = status.as_u16();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{code} {title}</title></head>\
         <body><h1>{title}</h1><p>{sentence}</p></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_neutral_and_typed() {
        let r = error_response(StatusCode::BAD_GATEWAY);
        assert_eq!(r.status(), 502);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let text = std::str::from_utf8(r.body()).unwrap();
        assert!(text.contains("<title>502 Bad Gateway</title>") && text.contains("cannot be reached"));
        assert!(error_html(StatusCode::IM_A_TEAPOT).contains("<title>418 Error</title>"));
    }
}
