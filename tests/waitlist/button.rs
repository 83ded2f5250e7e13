//! The "Join the waitlist" button, put into the backend's event page as it streams through.

use http::Request;

use crate::support::backend::{GZ_PAGE, PAGE_CHUNKS};
use crate::support::client::{body, send};
use crate::{Shop, StoreKind};

const BUTTON: &str =
    "[waitlist.button]\nroute = \"GET /page/{event}\"\nselector = \"#tickets\"\nplace = \"append\"\n";

async fn page(shop: &Shop, path: &str, headers: &[(&str, &str)]) -> (http::Response<()>, bytes::Bytes) {
    let mut req = Request::get(shop.doorman.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req.body(body("")).unwrap()).await
}

#[tokio::test]
async fn event_pages_of_open_waitlists_get_the_button_and_others_stay_the_backends() {
    let shop = Shop::start_with(StoreKind::Embedded, BUTTON, &[], None);
    let original = PAGE_CHUNKS.concat();
    // Not sold out yet: the page is the backend's, byte for byte, headers and all.
    let (resp, bytes) = page(&shop, "/page/gala", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(bytes, original.as_bytes());
    assert_eq!(resp.headers()["content-length"], original.len().to_string().as_str());
    assert_eq!(resp.headers()["x-seen-accept-encoding"], "gzip, br", "the request was not touched");

    shop.open("gala", r#", "languages": ["en", "nl"]"#).await;
    let (resp, bytes) =
        page(&shop, "/page/gala", &[("accept-encoding", "gzip, br"), ("accept-language", "nl-NL")]).await;
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    let button = "<p class=\"doorman-waitlist\" lang=\"nl\"><a class=\"doorman-waitlist-button\" href=\"/waitlist/gala?lang=nl\">Op de wachtlijst</a></p>";
    assert_eq!(html, original.replace("<p>Sold out</p></div>", &format!("<p>Sold out</p>{button}</div>")));
    assert_eq!(resp.headers()["x-seen-accept-encoding"], "none", "asked for an uncompressed page");
    assert!(resp.headers().get("content-length").is_none() && resp.headers().get("etag").is_none());
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");

    // The button leads to the form.
    let form = crate::support::client::get(&shop.doorman.url("/waitlist/gala?lang=nl")).await;
    assert_eq!(form.0.status(), 200);

    // A backend that compresses anyway keeps its page as it is.
    let (resp, bytes) = page(&shop, "/gzpage/gala", &[]).await;
    assert_eq!(bytes, GZ_PAGE);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    // Other events, other methods and HEAD are untouched.
    let (_, bytes) = page(&shop, "/page/jazz", &[]).await;
    assert_eq!(bytes, original.as_bytes());
    let req = Request::post(shop.doorman.url("/page/gala")).body(body("")).unwrap();
    assert_eq!(send(req).await.1, original.as_bytes());
    let req = Request::head(shop.doorman.url("/page/gala")).body(body("")).unwrap();
    let (resp, _) = send(req).await;
    assert_eq!(resp.headers()["content-length"], original.len().to_string().as_str());
}
