//! Bulk import (CSV, NDJSON; streamed, per-line report) and export.

use http::Request;

use crate::support::client::{body, send};
use crate::support::doorman::TOKEN;
use crate::{Shop, StoreKind};

async fn import(shop: &Shop, token: &str, content_type: &str, payload: Vec<u8>) -> (u16, serde_json::Value) {
    let req = Request::post(shop.doorman.admin_url("/v1/blacklist/import"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(body(payload))
        .unwrap();
    let (resp, bytes) = send(req).await;
    (resp.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn export(shop: &Shop, query: &str) -> String {
    let req = Request::get(shop.doorman.admin_url(&format!("/v1/blacklist/export{query}")))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body(""))
        .unwrap();
    let (resp, bytes) = send(req).await;
    assert_eq!(resp.status(), 200);
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn rejected_lines(report: &serde_json::Value) -> Vec<u64> {
    report["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn csv_imports_good_rows_and_reports_every_bad_line() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let mut csv = b"account,email,organizer,reason,expires_in\n\
        eve,,,fraud,\n\
        ,mallory@example.com,harbour-hall,\"chargebacks, twice\",30d\n\
        ,not-an-address,,,\n\
        bob,bob@example.com,,,\n\
        too,few\n\
        \n\
        carol,,Bad Org,,\n\
        dave,,,,soon\n"
        .to_vec();
    csv.extend_from_slice(format!("x,,,{},\n", "r".repeat(10_000)).as_bytes()); // line 10: too long
    csv.extend_from_slice(b"\xff\xfe,,,,\n"); // line 11: not UTF-8
    csv.extend_from_slice(b"frank,,,,"); // line 12: no final newline
    let (status, report) = import(&shop, TOKEN, "text/csv", csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 3, "{report}");
    assert_eq!(report["rejected"], 7, "{report}");
    assert_eq!(rejected_lines(&report), [4, 5, 6, 8, 9, 10, 11], "{report}");
    let messages = report["errors"].to_string();
    for words in ["email", "exactly one", "fields", "organizer", "expires_in", "longer than", "UTF-8"] {
        assert!(messages.contains(words), "no `{words}` in {messages}");
    }
    assert!(!messages.contains("mallory"), "addresses are not echoed");

    shop.admin("PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#).await;
    assert_eq!(shop.checkout_form("spring-concert", "email=mallory%40example.com").await.0.status(), 303);
    assert_eq!(shop.checkout_form("summer-gala", "account=frank").await.0.status(), 303);
    assert_eq!(shop.checkout_form("summer-gala", "account=bob").await.0.status(), 200, "rejected row");
    let (_, audit) = shop.admin("GET", "/v1/audit", "").await;
    let adds = audit["records"].as_array().unwrap().iter().filter(|r| r["action"] == "add").count();
    assert_eq!(adds, 3, "each imported entry is audited: {audit}");
}

#[tokio::test]
async fn ndjson_imports_and_exports_round_trip() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let ndjson = concat!(
        r#"{"account": "eve", "reason": "fraud"}"#,
        "\n",
        r#"{"email": "mallory@example.com", "organizer": "harbour-hall", "expires_at": "2099-01-01T00:00:00Z"}"#,
        "\n",
        r#"{"email": "x@example.com", "colour": "red"}"#,
        "\n",
        r#"{"kind": "email_hash", "value": "0000000000000000000000000000000000000000000000000000000000000000"}"#,
        "\n",
        "not json\n",
    );
    let (status, report) = import(&shop, TOKEN, "application/x-ndjson", ndjson.as_bytes().to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!((report["added"].as_u64(), report["rejected"].as_u64()), (Some(3), Some(2)), "{report}");
    assert_eq!(rejected_lines(&report), [3, 5]);

    let csv = export(&shop, "").await;
    assert!(csv.starts_with("kind,value,organizer,reason,expires_at,added_by,added_at\n"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("2099-01-01T00:00:00Z"));
    let only_hh = export(&shop, "?format=ndjson&organizer=harbour-hall").await;
    assert_eq!(only_hh.lines().count(), 1, "{only_hh}");

    let copy = Shop::start(StoreKind::Embedded, "");
    let (status, report) = import(&copy, TOKEN, "text/csv", csv.clone().into_bytes()).await;
    assert_eq!((status, report["added"].as_u64()), (200, Some(3)), "an export imports again: {report}");
    let (_, a) = shop.admin("GET", "/v1/blacklist", "").await;
    let (_, b) = copy.admin("GET", "/v1/blacklist", "").await;
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{}|{}|{}|{}", e["kind"], e["value"], e["organizer"], e["expires_at"]))
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&a), keys(&b));
}

#[tokio::test]
async fn imports_are_streamed_in_batches_and_scoped_for_organizers() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let mut csv = String::from("account\n");
    for i in 0..5000 {
        csv.push_str(&format!("acct-{i}\n"));
    }
    let (status, report) = import(&shop, TOKEN, "text/csv", csv.into_bytes()).await;
    assert_eq!((status, report["added"].as_u64()), (200, Some(5000)));
    assert_eq!(shop.checkout_form("e1", "account=acct-4321").await.0.status(), 303);

    let (_, org) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    let token = org["token"].as_str().unwrap();
    let csv = "account,organizer\nown,\nalso-own,harbour-hall\nsneaky,city-arts\n";
    let (status, report) = import(&shop, token, "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!(report["added"], 2);
    assert_eq!(rejected_lines(&report), [4], "another organizer's row: {report}");

    assert_eq!(import(&shop, TOKEN, "application/json", b"{}".to_vec()).await.0, 415);
    let (status, report) = import(&shop, TOKEN, "text/csv", b"nonsense,columns\nx,y\n".to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!(report["added"], 0);
    assert!(report["errors"][0]["error"].as_str().unwrap().contains("name the columns"));
}

#[tokio::test]
async fn csv_exports_cannot_run_as_formulas_and_still_import_unchanged() {
    let shop = Shop::start(StoreKind::Embedded, "");
    for body in [
        r#"{"account": "=HYPERLINK(\"http://evil.example\",\"x\")", "reason": "+cmd|' /C calc'!A0"}"#,
        r#"{"account": "@alice", "reason": "-1"}"#,
        r#"{"account": "plain", "reason": "fine"}"#,
    ] {
        assert_eq!(shop.admin("POST", "/v1/blacklist", body).await.0, 201, "{body}");
    }
    let csv = export(&shop, "").await;
    for cell in ["'=HYPERLINK", "'+cmd", "'@alice", "'-1", ",plain,"] {
        assert!(csv.contains(cell), "no {cell} in {csv}");
    }
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            assert!(
                !cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']),
                "a live formula: {line}"
            );
        }
    }
    // Imported again, the same identities are blocked: the quote is taken off.
    let copy = Shop::start(StoreKind::Embedded, "");
    let (status, report) = import(&copy, TOKEN, "text/csv", csv.into_bytes()).await;
    assert_eq!((status, report["added"].as_u64()), (200, Some(3)), "{report}");
    assert_eq!(copy.checkout_form("summer-gala", "account=%40alice").await.0.status(), 303);
    assert_eq!(copy.checkout_form("summer-gala", "account=%27%40alice").await.0.status(), 200);
    let (_, listed) = copy.admin("GET", "/v1/blacklist", "").await;
    assert!(listed.to_string().contains("+cmd|' /C calc'!A0"), "reasons come back as written: {listed}");

    // A report names what is wrong with a line without repeating what it holds.
    let ndjson = concat!(
        r#"{"account": 42, "reason": "mallory@example.com"}"#,
        "\n",
        r#"{"email": "mallory@example.com", "colour": "mallory@example.com"}"#,
        "\n",
        r#"{"account": "eve", "expires_in": "mallory@example.com"}"#,
        "\n",
    );
    let (_, report) = import(&copy, TOKEN, "application/x-ndjson", ndjson.as_bytes().to_vec()).await;
    assert_eq!(report["rejected"], 3, "{report}");
    let messages = report["errors"].to_string();
    assert!(!messages.contains("mallory") && !messages.contains("42"), "{messages}");
    assert!(messages.contains("wrong type") && messages.contains("unknown field"), "{messages}");
}

/// Follows `next` through `GET /v1/blacklist` pages of at most `limit`; answers every entry's
/// value and the pages.
async fn list_all(shop: &Shop, token: &str, limit: usize) -> (Vec<String>, usize) {
    let (mut values, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let path = format!("/v1/blacklist?limit={limit}&cursor={cursor}");
        let (status, page) = crate::admin::call_as(shop, token, "GET", &path, "").await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= limit, "a page of {} for a limit of {limit}", entries.len());
        values.extend(entries.iter().map(|e| e["value"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return (values, pages),
        }
        assert!(pages < 5000, "the list never ends");
    }
}

pub async fn a_list_page_never_holds_more_than_its_limit(store: StoreKind) {
    let shop = Shop::start(store, "");
    let (_, org) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    let organizer = org["token"].as_str().unwrap().to_owned();
    for i in 0..5 {
        assert_eq!(shop.admin("POST", "/v1/blacklist", &format!(r#"{{"account": "p-{i}"}}"#)).await.0, 201);
    }
    for i in 0..3 {
        let entry = format!(r#"{{"account": "o-{i}", "organizer": "harbour-hall"}}"#);
        assert_eq!(shop.admin("POST", "/v1/blacklist", &entry).await.0, 201);
    }
    // All eight fit in one store page: a page of two must still be two, with a cursor.
    let (_, first) = shop.admin("GET", "/v1/blacklist?limit=2", "").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 2, "{first}");
    assert!(first["next"].is_string(), "{first}");
    let all: Vec<String> = (0..5).map(|i| format!("p-{i}")).chain((0..3).map(|i| format!("o-{i}"))).collect();
    for limit in [1, 2, 3, 7, 8, 1000] {
        let (mut values, pages) = list_all(&shop, TOKEN, limit).await;
        assert_eq!(values.len(), 8, "limit {limit}: every entry once: {values:?}");
        values.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(values, expected, "limit {limit}");
        assert!(pages >= 8usize.div_ceil(limit), "limit {limit}: {pages} pages");
    }
    let (mut own, _) = list_all(&shop, &organizer, 2).await;
    own.sort();
    assert_eq!(own, ["o-0", "o-1", "o-2"], "an organizer's pages of two");
}

pub async fn lists_page_through_every_entry_and_exports_stream_them_all(store: StoreKind) {
    let shop = Shop::start(store, "");
    let (_, org) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    let organizer = org["token"].as_str().unwrap().to_owned();
    let mut csv = String::from("account,organizer\n");
    for i in 0..3000 {
        csv.push_str(&format!("acct-{i:04},{}\n", if i % 10 == 0 { "harbour-hall" } else { "" }));
    }
    let (status, report) = import(&shop, TOKEN, "text/csv", csv.into_bytes()).await;
    assert_eq!((status, report["added"].as_u64()), (200, Some(3000)), "{report}");
    let expected = |filter: fn(&usize) -> bool| -> Vec<String> {
        (0..3000).filter(filter).map(|i| format!("acct-{i:04}")).collect()
    };

    // The operator's list, a page at a time: every entry once (a page boundary may repeat one on
    // Redis while its keyspace grows; nothing is ever missed).
    let (mut values, pages) = list_all(&shop, TOKEN, 700).await;
    assert!(pages >= 3, "3000 entries in pages of about 700 came in {pages} pages");
    values.sort();
    values.dedup();
    assert_eq!(values, expected(|_| true));
    // An organizer pages through their own entries only.
    let (mut own, _) = list_all(&shop, &organizer, 700).await;
    own.sort();
    assert_eq!(own, expected(|i| i % 10 == 0));
    for bad in ["cursor=%%%", "cursor=not-base64!", "limit=-1", "limit=x", "colour=red"] {
        let (status, answer) = shop.admin("GET", &format!("/v1/blacklist?{bad}"), "").await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    // A well-formed cursor the store never gave out ("forged" in base64) is never an outage:
    // the store reads it as a place to start from, or it is refused as the caller's mistake.
    let (status, answer) = shop.admin("GET", "/v1/blacklist?cursor=Zm9yZ2Vk", "").await;
    assert!(status == 200 || status == 400, "{status}: {answer}");

    // The export streams every entry, more than one store page of them.
    let ndjson = export(&shop, "?format=ndjson").await;
    let mut exported: Vec<String> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["value"].as_str().unwrap().to_owned())
        .collect();
    exported.sort();
    exported.dedup();
    assert_eq!(exported, expected(|_| true));
    let csv = export(&shop, "?format=csv&organizer=harbour-hall").await;
    assert_eq!(csv.lines().next(), Some("kind,value,organizer,reason,expires_at,added_by,added_at"));
    assert_eq!(csv.lines().filter(|l| l.contains(",harbour-hall,")).count(), 300, "{csv}");
}
