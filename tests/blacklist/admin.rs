//! The blacklist's admin API: tokens, bad input, and what it never reveals.

use http::Request;

use crate::support::client::{body, send};
use crate::{Shop, StoreKind};

#[tokio::test]
async fn every_blacklist_endpoint_needs_the_token() {
    let shop = Shop::start(StoreKind::Embedded, "");
    for (method, path) in [
        ("POST", "/v1/blacklist"),
        ("GET", "/v1/blacklist"),
        ("POST", "/v1/blacklist/remove"),
        ("PUT", "/v1/events/e1"),
        ("GET", "/v1/events/e1"),
        ("POST", "/v1/hash-email"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/organizers"),
        ("POST", "/v1/organizers"),
        ("POST", "/v1/organizers/x/token"),
    ] {
        for auth in [None, Some("Bearer wrong-token-wrong-token"), Some("bearer")] {
            let mut req = Request::builder().method(method).uri(shop.doorman.admin_url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let req =
                req.header("content-type", "application/json").body(body(r#"{"account":"x"}"#)).unwrap();
            assert_eq!(send(req).await.0.status(), 401, "{method} {path} with {auth:?}");
        }
    }
    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0, "nothing was added by the refused calls");
}

#[tokio::test]
async fn bad_admin_input_gets_a_400_that_says_why() {
    let shop = Shop::start(StoreKind::Embedded, "");
    for (payload, words) in [
        ("", "JSON"),
        ("{", "JSON"),
        ("[]", "deserialize"),
        (r#"{}"#, "exactly one"),
        (r#"{"account": "a", "email": "a@b.c"}"#, "exactly one"),
        (r#"{"account": ""}"#, "account"),
        (r#"{"account": "a\nb"}"#, "account"),
        (r#"{"email": "not-an-address"}"#, "email"),
        (r#"{"email": "a@b.c\r\nBcc: x@y.z"}"#, "email"),
        (r#"{"email_hash": "ABC"}"#, "email_hash"),
        (r#"{"account": "a", "organizer": "Not A Slug"}"#, "organizer"),
        (r#"{"account": "a", "expires_in": "soon"}"#, "expires_in"),
        (r#"{"account": "a", "colour": "red"}"#, "unknown field"),
        (r#"{"account": 42}"#, "invalid type"),
    ] {
        let (status, answer) = shop.admin("POST", "/v1/blacklist", payload).await;
        assert_eq!(status, 400, "{payload}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{payload}: {message}");
        assert!(!message.contains("a@b.c\r\n"), "hostile input is not echoed raw");
    }
    let huge = format!(r#"{{"account": "a", "reason": "{}"}}"#, "x".repeat(100_000));
    assert_eq!(shop.admin("POST", "/v1/blacklist", &huge).await.0, 413);
    let long_reason = format!(r#"{{"account": "a", "reason": "{}"}}"#, "x".repeat(600));
    assert_eq!(shop.admin("POST", "/v1/blacklist", &long_reason).await.0, 400);
    assert_eq!(shop.admin("PUT", "/v1/events/Bad%20Event", r#"{"organizer": "x"}"#).await.0, 400);
    assert_eq!(shop.admin("GET", "/v1/events/nope", "").await.0, 404);
    assert_eq!(shop.admin("GET", "/v1/blacklist?limit=abc", "").await.0, 400);
    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0, "nothing half-added");
}

#[tokio::test]
async fn addresses_are_hashed_on_arrival_and_never_stored_or_returned() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (status, hash) = shop.admin("POST", "/v1/hash-email", r#"{"email": "Victor+x@Example.com"}"#).await;
    assert_eq!(status, 200);
    let hash = hash["email_hash"].as_str().unwrap().to_owned();
    let (_, entry) =
        shop.admin("POST", "/v1/blacklist", r#"{"email": "victor@example.com", "reason": "r"}"#).await;
    assert_eq!(entry["value"], hash.as_str(), "same canonical form, same hash (plus tags stripped)");
    assert_eq!(entry["kind"], "email_hash");
    // A ready-made hash blocks the same customer.
    let (status, _) = shop.admin("POST", "/v1/blacklist/remove", r#"{"email": "victor@example.com"}"#).await;
    assert_eq!(status, 200);
    let (status, _) = shop.admin("POST", "/v1/blacklist", &format!(r#"{{"email_hash": "{hash}"}}"#)).await;
    assert_eq!(status, 201);
    assert_eq!(shop.checkout_form("e1", "email=victor%40example.com").await.0.status(), 303);

    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert!(!list.to_string().contains("victor"), "{list}");
    let db = std::fs::read(shop.doorman.data_dir().join("data/doorman.redb")).unwrap();
    assert!(
        !db.windows(6).any(|w| w.eq_ignore_ascii_case(b"victor")),
        "the raw address is in the store file"
    );
    assert!(!shop.doorman.log().to_lowercase().contains("victor"), "the raw address is in the log");
}

pub(crate) async fn call_as(
    shop: &Shop,
    token: &str,
    method: &str,
    path: &str,
    json: &str,
) -> (u16, serde_json::Value) {
    shop.doorman.admin_as(token, method, path, json).await
}

#[tokio::test]
async fn organizer_tokens_reach_only_their_own_organizer() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (status, hh) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    assert_eq!(status, 201, "{hh}");
    let hh = hh["token"].as_str().unwrap().to_owned();
    let (_, ca) = shop.admin("POST", "/v1/organizers", r#"{"id": "city-arts", "name": "City Arts"}"#).await;
    let ca = ca["token"].as_str().unwrap().to_owned();
    assert_eq!(shop.admin("POST", "/v1/organizers", r#"{"id": "city-arts", "name": "again"}"#).await.0, 409);

    let (status, entry) =
        call_as(&shop, &hh, "POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["organizer"], "harbour-hall", "an organizer's entry is scoped to it by default");
    assert_eq!(entry["added_by"], "organizer:harbour-hall");

    let other = r#"{"email": "x@example.com", "organizer": "city-arts"}"#;
    assert_eq!(call_as(&shop, &hh, "POST", "/v1/blacklist", other).await.0, 403, "write another's");
    let theirs = r#"{"email": "mallory@example.com", "organizer": "harbour-hall"}"#;
    assert_eq!(call_as(&shop, &ca, "POST", "/v1/blacklist/remove", theirs).await.0, 403, "remove another's");
    let own = r#"{"email": "mallory@example.com"}"#;
    assert_eq!(call_as(&shop, &ca, "POST", "/v1/blacklist/remove", own).await.0, 404, "not in its own scope");
    let (_, list) = call_as(&shop, &ca, "GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0, "cannot read another's: {list}");
    assert_eq!(call_as(&shop, &ca, "GET", "/v1/blacklist?organizer=harbour-hall", "").await.0, 403);
    let (_, audit) = call_as(&shop, &ca, "GET", "/v1/audit", "").await;
    let records = audit["records"].as_array().unwrap();
    assert!(records.iter().all(|r| r["scope"] == "city-arts"), "nor another's audit log: {audit}");
    assert!(records.iter().all(|r| r["action"] != "add"), "{audit}");
    assert_eq!(call_as(&shop, &ca, "GET", "/v1/audit?organizer=harbour-hall", "").await.0, 403);

    for (method, path, json) in [
        ("GET", "/metrics", ""),
        ("PUT", "/v1/events/spring-concert", r#"{"organizer": "city-arts"}"#),
        ("GET", "/v1/organizers", ""),
        ("POST", "/v1/organizers", r#"{"id": "x", "name": "x"}"#),
        ("POST", "/v1/organizers/harbour-hall/token", ""),
    ] {
        assert_eq!(call_as(&shop, &ca, method, path, json).await.0, 403, "{method} {path} is the operator's");
    }

    let (_, list) = call_as(&shop, &hh, "GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 1);
    let (status, rotated) = shop.admin("POST", "/v1/organizers/harbour-hall/token", "").await;
    assert_eq!(status, 200);
    assert_eq!(call_as(&shop, &hh, "GET", "/v1/blacklist", "").await.0, 401, "the old token stops at once");
    let new = rotated["token"].as_str().unwrap();
    assert_eq!(call_as(&shop, new, "GET", "/v1/blacklist", "").await.0, 200);
    assert_eq!(shop.admin("POST", "/v1/organizers/nobody/token", "").await.0, 404);
    for bad in [r#"{"id": "Bad Id", "name": "x"}"#, r#"{"id": "ok", "name": ""}"#, r#"{"id": "ok"}"#] {
        assert_eq!(shop.admin("POST", "/v1/organizers", bad).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn organizers_are_created_once_when_raced_and_deleted_with_their_tokens() {
    let shop = Shop::start(StoreKind::Embedded, "");
    // Ten creations of one organizer at once: exactly one wins.
    let tries = (0..10).map(|i| {
        let body = format!(r#"{{"id": "river-club", "name": "River Club {i}"}}"#);
        let shop = &shop;
        async move { shop.admin("POST", "/v1/organizers", &body).await }
    });
    let answers = futures_util::future::join_all(tries).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
    let token = answers.iter().find(|(s, _)| *s == 201).unwrap().1["token"].as_str().unwrap().to_owned();
    assert_eq!(call_as(&shop, &token, "GET", "/v1/blacklist", "").await.0, 200, "the winner's token works");
    let (_, issued) = call_as(&shop, &token, "POST", "/v1/organizers/river-club/box-office-token", "").await;
    let box_office = issued["token"].as_str().unwrap().to_owned();

    // Only the operator deletes; then both tokens stop at once, and the id is free again.
    assert_eq!(call_as(&shop, &token, "DELETE", "/v1/organizers/river-club", "").await.0, 403);
    let (status, deleted) = shop.admin("DELETE", "/v1/organizers/river-club", "").await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)), "{deleted}");
    assert_eq!(call_as(&shop, &token, "GET", "/v1/blacklist", "").await.0, 401);
    assert_eq!(call_as(&shop, &box_office, "GET", "/v1/events/x/waitlist", "").await.0, 401);
    assert_eq!(shop.admin("DELETE", "/v1/organizers/river-club", "").await.0, 404);
    assert_eq!(shop.admin("DELETE", "/v1/organizers/Bad%20Id", "").await.0, 400);
    let (status, again) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "river-club", "name": "River Club"}"#).await;
    assert_eq!(status, 201, "{again}");
    let (_, audit) = shop.admin("GET", "/v1/audit?organizer=river-club", "").await;
    assert!(audit.to_string().contains("delete_organizer"), "{audit}");
}

#[tokio::test]
async fn the_audit_log_records_changes_and_blocked_attempts_without_addresses() {
    let shop = Shop::start(StoreKind::Embedded, "");
    shop.admin("PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#).await;
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com", "organizer": "harbour-hall"}"#)
        .await;
    assert_eq!(shop.checkout_form("spring-concert", "email=mallory%40example.com").await.0.status(), 303);
    shop.admin(
        "POST",
        "/v1/blacklist/remove",
        r#"{"email": "mallory@example.com", "organizer": "harbour-hall"}"#,
    )
    .await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let records = loop {
        let (status, audit) = shop.admin("GET", "/v1/audit?organizer=harbour-hall", "").await;
        assert_eq!(status, 200);
        let records = audit["records"].as_array().unwrap().clone();
        if records.len() >= 4 || std::time::Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let actions: Vec<_> = records.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["remove", "block", "add", "map_event"], "newest first: {records:?}");
    assert_eq!(records[1]["event"], "spring-concert");
    assert_eq!(records[1]["route"], "POST /echo/{event}/checkout");
    assert_eq!(records[1]["kind"], "email_hash");
    assert_eq!(records[2]["actor"], "operator");
    assert!(records[0]["at"].as_str().unwrap().ends_with('Z'));
    assert!(!serde_json::to_string(&records).unwrap().contains("mallory"));

    // Paged: two at a time, newest first, each page going on below the last.
    let (_, first) = shop.admin("GET", "/v1/audit?organizer=harbour-hall&limit=2", "").await;
    let next = first["next"].as_str().expect("a cursor while older records remain").to_owned();
    let (_, second) =
        shop.admin("GET", &format!("/v1/audit?organizer=harbour-hall&limit=2&before={next}"), "").await;
    let paged: Vec<_> = [&first, &second]
        .iter()
        .flat_map(|p| {
            p["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(paged, actions, "two pages hold what one did, in the same order");
    assert!(second["next"].is_null(), "the oldest page says it is the last: {second}");
    for bad in ["before=x", "before=0", "before=-1", "limit=x"] {
        let (status, answer) = shop.admin("GET", &format!("/v1/audit?{bad}"), "").await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
}

/// The committed `openapi/admin.json` is the document the code generates.
#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/admin.json");
    let committed = std::fs::read_to_string(path).unwrap();
    let generated = format!("{}\n", doorman::hosts::admin::openapi());
    assert!(
        committed == generated,
        "openapi/admin.json is not the generated document: regenerate it with \
         `cargo run --quiet -- openapi > openapi/admin.json`"
    );
}

/// The generated document holds together as OpenAPI 3.1, as far as is cheap to check: every
/// `$ref` names a component, every operation has an operationId (unique), declared tags and
/// responses, every path parameter is declared, every security requirement names a scheme.
#[test]
fn the_openapi_document_is_well_formed() {
    let doc: serde_json::Value = serde_json::from_str(doorman::hosts::admin::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert!(doc["info"]["description"].as_str().is_some_and(|d| d.contains("Bearer")));

    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r}: not a local reference"));
        assert!(pointer.starts_with("/components/"), "{r}: not a component");
        assert!(doc.pointer(pointer).is_some(), "{r}: no such component");
    }

    let tags: Vec<&str> =
        doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let requirements = |security: &serde_json::Value| {
        for requirement in security.as_array().unwrap() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "security scheme {name} is not defined");
            }
        }
    };
    requirements(&doc["security"]);
    let mut ids = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let at = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at}: no operationId"));
            assert!(ids.insert(id.to_owned()), "{at}: operationId {id} is used twice");
            let op_tags = op["tags"].as_array().unwrap_or_else(|| panic!("{at}: no tags"));
            assert!(!op_tags.is_empty(), "{at}: no tags");
            for tag in op_tags {
                assert!(tags.contains(&tag.as_str().unwrap()), "{at}: tag {tag} is not declared");
            }
            assert!(op["summary"].is_string() && op["description"].is_string(), "{at}: undescribed");
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{at}: no responses"));
            assert!(responses.keys().any(|s| s.starts_with('2')), "{at}: no success response");
            for (status, response) in responses {
                assert!(
                    response.get("$ref").is_some() || response["description"].is_string(),
                    "{at} {status}: a response needs a description"
                );
            }
            if let Some(security) = op.get("security") {
                requirements(security);
            }
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect()
                })
                .unwrap_or_default();
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(declared.contains(&name), "{at}: path parameter {name} is not declared");
            }
        }
    }
}

/// The served document is the generated one, every documented operation answers (open ones
/// 200, the others 401 without a token: neither 404 nor 405), and the router has no method on a
/// documented path that the document lacks (405 even with the operator's token). (Routes are registered together with their
/// descriptions, `utoipa_axum::routes!`, so there is no undocumented path either.)
#[tokio::test]
async fn the_served_openapi_document_matches_the_routes() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (resp, bytes) = crate::support::client::get(&shop.doorman.admin_url("/openapi.json")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap(),
        doorman::hosts::admin::openapi(),
        "the served document is the generated one"
    );
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{event}", "e1").replace("{id}", "x");
        for method in METHODS {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(shop.doorman.admin_url(&concrete));
            let Some(op) = ops.get(method) else {
                // With the operator's token, past the authentication that answers first.
                let req = req
                    .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
                    .body(body(""))
                    .unwrap();
                let status = send(req).await.0.status().as_u16();
                assert_eq!(status, 405, "{method} {path}: not documented but answered {status}");
                continue;
            };
            let status = send(req.body(body("")).unwrap()).await.0.status().as_u16();
            let open = op.get("security").is_some_and(|s| s.as_array().is_some_and(Vec::is_empty));
            let expected = if open { 200 } else { 401 };
            assert_eq!(status, expected, "{method} {path}: documented but answered {status}");
            checked += 1;
        }
    }
    assert!(checked >= 23, "only {checked} operations documented");
    for undocumented in ["/", "/v1", "/v1/blacklist/x", "/v1/organizers/x/y", "/swagger-ui"] {
        let (resp, _) = crate::support::client::get(&shop.doorman.admin_url(undocumented)).await;
        assert_eq!(resp.status(), 404, "GET {undocumented}");
    }
}

#[tokio::test]
async fn platform_matches_stay_out_of_organizers_audit_logs() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (_, org) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    let token = org["token"].as_str().unwrap().to_owned();
    shop.admin("PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#).await;
    shop.admin("POST", "/v1/blacklist", r#"{"account": "eve"}"#).await;
    assert_eq!(shop.checkout_form("spring-concert", "account=eve").await.0.status(), 303);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, all) = shop.admin("GET", "/v1/audit", "").await;
        if all["records"].as_array().unwrap().iter().any(|r| r["action"] == "block" && r["scope"] == "*") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the block was never audited: {all}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, own) = call_as(&shop, &token, "GET", "/v1/audit", "").await;
    let leaked = own["records"].as_array().unwrap().iter().any(|r| r["value"] == "eve");
    assert!(!leaked, "a platform entry leaked to the organizer: {own}");
}

/// With `account_ids = "hashed"` account ids are hashed on arrival (admin API, imports, every
/// checkout reading): neither the store nor the audit log nor any answer holds a readable one,
/// and the customer is turned back all the same.
#[tokio::test]
async fn hashed_account_ids_block_without_a_readable_id_anywhere() {
    let blacklist = crate::BLACKLIST.replace("[blacklist]\n", "[blacklist]\naccount_ids = \"hashed\"\n");
    let shop =
        Shop::start_with(StoreKind::Redis(crate::support::redis::RedisServer::start()), &blacklist, "");
    let (status, added) =
        shop.admin("POST", "/v1/blacklist", r#"{"account": "eve-42", "reason": "fraud"}"#).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["kind"], "account_hash");
    let hash = added["value"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);

    // Every way a checkout names an account finds the hashed entry.
    assert_eq!(shop.checkout_form("e1", "account=eve-42").await.0.status(), 303);
    let by_header = Request::post(shop.doorman.url("/echo/e1/checkout"))
        .header("x-account", "eve-42")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body("quantity=1"))
        .unwrap();
    assert_eq!(send(by_header).await.0.status(), 303);
    assert_eq!(shop.checkout_form("e1", "account=bob").await.0.status(), 200);

    // Nothing readable: not in answers, the audit log, an export, or anywhere in the store.
    let (_, listed) = shop.admin("GET", "/v1/blacklist", "").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let audit = loop {
        let (_, audit) = shop.admin("GET", "/v1/audit", "").await;
        if audit["records"].as_array().unwrap().iter().any(|r| r["action"] == "block") {
            break audit;
        }
        assert!(std::time::Instant::now() < deadline, "the block was never audited: {audit}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let export = {
        let req = Request::get(shop.doorman.admin_url("/v1/blacklist/export?format=csv"))
            .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
            .body(body(""))
            .unwrap();
        String::from_utf8(send(req).await.1.to_vec()).unwrap()
    };
    assert!(export.contains(&format!("account_hash,{hash},")), "{export}");
    let redis = shop.redis_ref();
    let keys = redis.cli(&["KEYS", "*"]);
    let values: Vec<String> = keys.lines().map(|k| redis.cli(&["GET", k])).collect();
    for (what, text) in [
        ("list", listed.to_string()),
        ("audit", audit.to_string()),
        ("export", export.clone()),
        ("keys", keys.clone()),
    ]
    .into_iter()
    .chain([("values", values.join("\n"))])
    {
        assert!(!text.contains("eve-42"), "a readable account id in the {what}: {text}");
    }
    assert!(audit.to_string().contains(&hash), "the audit log names the hash: {audit}");

    // The export imports back; removing by the account id finds the hashed entry.
    assert_eq!(shop.admin("POST", "/v1/blacklist/remove", r#"{"account": "eve-42"}"#).await.0, 200);
    assert_eq!(shop.checkout_form("e1", "account=eve-42").await.0.status(), 200);
    let import = Request::post(shop.doorman.admin_url("/v1/blacklist/import"))
        .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
        .header("content-type", "text/csv")
        .body(body(export))
        .unwrap();
    let (resp, report) = send(import).await;
    assert_eq!(resp.status(), 200, "{}", String::from_utf8_lossy(&report));
    assert_eq!(shop.checkout_form("e1", "account=eve-42").await.0.status(), 303, "imported back");

    // A plain-id policy refuses hashes it could never match.
    let plain = Shop::start(StoreKind::Embedded, "");
    let (status, answer) =
        plain.admin("POST", "/v1/blacklist", &format!(r#"{{"account_hash": "{hash}"}}"#)).await;
    assert_eq!(status, 400, "{answer}");
}
