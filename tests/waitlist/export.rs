//! Exports: the list in line order, paged through the API, CSV and JSON, and the CLI streaming
//! every page.

use std::process::Command;

use crate::support::doorman::{binary, TOKEN};
use crate::{Jar, Shop, StoreKind};

/// Signs `who` up for `event` and confirms through the mail; answers the mail's manage token.
async fn join(
    shop: &Shop,
    event: &str,
    email: &str,
    name: &str,
    tickets: &str,
    mails_before: usize,
) -> String {
    let mut jar = Jar::default();
    let form = shop.get(&mut jar, &format!("/waitlist/{event}")).await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let page = shop
        .post(
            &mut jar,
            &format!("/waitlist/{event}"),
            &[("csrf", &csrf), ("email", email), ("name", name), ("tickets", tickets)],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    let mails = shop.wait_mails(mails_before + 1).await;
    let mail = mails.iter().find(|m| m.to.contains(email) && m.subject.starts_with("Confirm")).unwrap();
    let done = shop.post(&mut jar, "/waitlist/confirm", &[("t", &mail.token("confirm"))]).await;
    assert!(done.html.contains("Your place in line"), "{}", done.html);
    mail.token("manage")
}

pub async fn the_list_in_line_order_paged_as_json_and_csv_and_by_the_cli(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    let mut mails = 0;
    let mut manage = Vec::new();
    for (email, name) in [
        ("a@example.com", "Ann"),
        ("b@example.com", "=HYPERLINK(\"http://x\")"),
        ("c@example.com", "Cy"),
        ("d@example.com", "Di, \"the\" second"),
    ] {
        manage.push(join(&shop, "gala", email, name, "2", mails).await);
        mails += 2; // the confirmation and "you are on the list"
    }
    // Ann cancels: she stays in the export as cancelled, everyone behind moves up.
    let mut jar = Jar::default();
    let csrf = shop.get(&mut jar, &format!("/waitlist/manage?t={}", manage[0])).await.csrf();
    assert_eq!(
        shop.post(&mut jar, "/waitlist/cancel", &[("t", &manage[0]), ("csrf", &csrf)]).await.status,
        200
    );

    let (status, first) = shop.admin("GET", "/v1/events/gala/waitlist/signups?limit=2", "").await;
    assert_eq!(status, 200, "{first}");
    let rows = first["signups"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["status"].as_str(), rows[0]["place"].as_u64()), (Some("cancelled"), None));
    assert_eq!((rows[1]["email"].as_str(), rows[1]["place"].as_u64()), (Some("b@example.com"), Some(1)));
    assert_eq!(rows[1]["tickets"], 2);
    assert!(rows[1]["confirmed"].as_str().unwrap().ends_with('Z'));
    let next = first["next"].as_u64().unwrap();
    let (_, second) =
        shop.admin("GET", &format!("/v1/events/gala/waitlist/signups?limit=2&after={next}"), "").await;
    let rows = second["signups"].as_array().unwrap();
    let places: Vec<_> =
        rows.iter().map(|r| (r["name"].as_str().unwrap().to_owned(), r["place"].as_u64())).collect();
    assert_eq!(places, [("Cy".to_owned(), Some(2)), ("Di, \"the\" second".to_owned(), Some(3))]);
    assert!(second["next"].is_null(), "the last page says so");

    // Bad queries are named.
    for bad in ["format=xml", "after=abc", "limit=-1", "other=1"] {
        assert_eq!(
            shop.admin("GET", &format!("/v1/events/gala/waitlist/signups?{bad}"), "").await.0,
            400,
            "{bad}"
        );
    }

    // The CLI streams every page; CSV neutralises formulas and quotes what needs it.
    let cli = |format: &str| {
        let out = Command::new(binary())
            .args(["waitlist", "export", "gala", "--format", format, "--page", "1"])
            .env("DOORMAN_ADMIN_URL", format!("http://{}", shop.doorman.admin))
            .env("DOORMAN_ADMIN_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = cli("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "a header and four rows, from pages of one: {csv}");
    assert!(lines[0]
        .starts_with("place,status,tickets,name,email,phone,note,language,account,box_office,created"));
    assert!(lines[1].starts_with(",cancelled,2,Ann,a@example.com"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("1,confirmed,2,\"'=HYPERLINK(\"\"http://x\"\")\",b@example.com"),
        "{}",
        lines[2]
    );
    assert!(lines[4].starts_with("3,confirmed,2,\"Di, \"\"the\"\" second\""), "{}", lines[4]);
    let json: serde_json::Value = serde_json::from_str(&cli("json")).unwrap();
    let names: Vec<_> =
        json.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        names,
        ["Ann", "=HYPERLINK(\"http://x\")", "Cy", "Di, \"the\" second"],
        "JSON keeps values as typed"
    );
}

pub async fn only_the_events_organizer_and_the_operator_may_export(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    for org in ["harbour", "other"] {
        let (status, _) =
            shop.admin("POST", "/v1/organizers", &format!(r#"{{"id": "{org}", "name": "{org}"}}"#)).await;
        assert_eq!(status, 201);
    }
    let (_, harbour) = shop.admin("POST", "/v1/organizers/harbour/token", "").await;
    let (_, other) = shop.admin("POST", "/v1/organizers/other/token", "").await;
    assert_eq!(shop.admin("PUT", "/v1/events/gala", r#"{"organizer": "harbour"}"#).await.0, 200);
    let call = |token: String| {
        let url = shop.doorman.admin_url("/v1/events/gala/waitlist/signups");
        async move {
            let req = http::Request::get(url)
                .header("authorization", format!("Bearer {token}"))
                .body(crate::support::client::body(""))
                .unwrap();
            crate::support::client::send(req).await.0.status().as_u16()
        }
    };
    assert_eq!(call(harbour["token"].as_str().unwrap().to_owned()).await, 200);
    assert_eq!(call(other["token"].as_str().unwrap().to_owned()).await, 403);
    assert_eq!(call("wrong".into()).await, 401);
    let (status, _) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(status, 200, "the operator");
}
