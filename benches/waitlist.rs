//! Waitlist spike benchmark: many concurrent signups for one event through a running Doorman
//! (`bench/waitlist.sh` starts it, on Redis or the embedded store), then their confirmations by
//! the links in the mails, then a check that every acknowledged signup is stored exactly once
//! with a unique place and had each of its two mails queued exactly once.
//!
//! With `--offers`, then: the event goes to automatic offers, the seats of every confirmed
//! signup are reported freed through the admin API (one report of up to 10,000 seats, as few as
//! it takes), and the benchmark waits until every offer mail has arrived, timing the reports and
//! the mails (by their files' times), and checks one offer and one offer mail per signup.
//!
//! With `--broadcast`, then (before the offers): a message to the whole list is written through
//! the admin API to go now, and the benchmark waits until every recipient's mail has arrived,
//! timing the wait (the nodes look for due messages every 5 s) and the mails' pace against the
//! confirmation mails' through the same outbox, and checks one mail per signup.
//!
//! ```sh
//! cargo bench --bench waitlist -- --public http://127.0.0.1:8080 --admin http://127.0.0.1:8081 \
//!     --token TOKEN --outbox DATA/outbox --signups 5000 --concurrency 64 [--broadcast] [--offers]
//! ```
//! Prints markdown rows: throughput and p50/p99 of each phase, and the check's result.

#[path = "support/stats.rs"]
mod stats;

use stats::percentile_ms;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp =
        client.request(req.body(Full::new(Bytes::from(body))).unwrap()).await.expect("doorman answers");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Runs `n` jobs with `concurrency` workers; answers each job's latency and the wall time.
async fn phase<F, Fut>(n: usize, concurrency: usize, job: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (job, next) = (job.clone(), next.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return lat;
                    }
                    let t = Instant::now();
                    job(i).await;
                    lat.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let wall = start.elapsed();
    all.sort();
    (all, wall)
}

/// The outbox's mails: recipient and subject and the body, quoted-printable decoded.
fn mails(dir: &str) -> Vec<(String, String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            let raw = std::fs::read(e.path()).ok()?;
            let text =
                String::from_utf8(quoted_printable::decode(&raw, quoted_printable::ParseMode::Robust).ok()?)
                    .ok()?;
            let header =
                |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("").to_owned();
            Some((header("To: "), header("Subject: "), text))
        })
        .collect()
}

/// How many mails the outbox holds (counted, not read: the poll must not take the CPU the mail
/// server shares with this generator).
fn count_mails(dir: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()
}

async fn wait_for_mails(dir: &str, n: usize) -> Duration {
    let start = Instant::now();
    while count_mails(dir) < n {
        assert!(start.elapsed() < Duration::from_secs(600), "the outbox never reached {n} mails");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    start.elapsed()
}

fn row(what: &str, n: usize, lat: &[Duration], wall: Duration) {
    println!(
        "| {what} | {n} | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms |",
        n as f64 / wall.as_secs_f64(),
        percentile_ms(lat, 0.5),
        percentile_ms(lat, 0.99),
        percentile_ms(lat, 1.0)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let public = arg("--public", "http://127.0.0.1:8080");
    let admin = arg("--admin", "http://127.0.0.1:8081");
    let token = arg("--token", "");
    let outbox = arg("--outbox", "outbox");
    let n: usize = arg("--signups", "5000").parse().unwrap();
    let concurrency: usize = arg("--concurrency", "64").parse().unwrap();
    let event = arg("--event", "spike");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(concurrency).build(connector);

    let auth = format!("Bearer {token}");
    let settings = r#"{"sold_out": true, "active": true, "max_tickets": 4}"#.to_owned();
    let url = format!("{admin}/v1/events/{event}/waitlist");
    let (status, body) = send(
        &client,
        Method::PATCH,
        &url,
        &[("authorization", &auth), ("content-type", "application/json")],
        settings,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // One form load for its CSRF cookie and token (each of the spike's browsers would load one).
    let form = client
        .request(Request::get(format!("{public}/waitlist/{event}")).body(Full::default()).unwrap())
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = String::from_utf8(form.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let csrf = page.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();

    let shared = Arc::new((client.clone(), public.clone(), event.clone(), cookie.clone(), csrf.clone()));
    let s = shared.clone();
    let (lat, wall) = phase(n, concurrency, move |i| {
        let s = s.clone();
        async move {
            let (client, public, event, cookie, csrf) = &*s;
            let body =
                format!("csrf={csrf}&email=spike{i}%40example.com&name=Spike+{i}&tickets={}", 1 + i % 4);
            let headers =
                [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
            let (status, html) =
                send(client, Method::POST, &format!("{public}/waitlist/{event}"), &headers, body).await;
            assert!(status == 200 && html.contains("Check your mail"), "signup {i}: {status}");
        }
    })
    .await;
    println!("| phase | requests | throughput | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    row("signups (acknowledged)", n, &lat, wall);
    let mailed = wait_for_mails(&outbox, n).await;

    // The confirmation links, as the customers find them in their mail.
    let tokens: Vec<String> = mails(&outbox)
        .into_iter()
        .filter(|(_, subject, _)| subject.starts_with("Confirm"))
        .map(|(_, _, text)| {
            let start = text.find("/waitlist/confirm?t=").unwrap() + "/waitlist/confirm?t=".len();
            text[start..].chars().take_while(|c| !c.is_whitespace()).collect()
        })
        .collect();
    assert_eq!(tokens.len(), n, "one confirmation mail per acknowledged signup");
    let tokens = Arc::new(tokens);
    let places = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
    let (s, t, p) = (shared.clone(), tokens.clone(), places.clone());
    let (lat, wall) = phase(n, concurrency, move |i| {
        let (s, t, p) = (s.clone(), t.clone(), p.clone());
        async move {
            let (client, public, ..) = &*s;
            let body = format!("t={}", t[i]);
            let headers = [("content-type", "application/x-www-form-urlencoded")];
            let (status, html) =
                send(client, Method::POST, &format!("{public}/waitlist/confirm"), &headers, body).await;
            let place: u64 = html
                .split("Your place in line: ")
                .nth(1)
                .and_then(|r| r.split('<').next()?.parse().ok())
                .unwrap_or_else(|| panic!("confirmation {i}: {status} {html}"));
            p.lock().unwrap().push(place);
        }
    })
    .await;
    row("confirmations", n, &lat, wall);
    let mailed_again = wait_for_mails(&outbox, 2 * n).await;

    // The check: every signup stored once, confirmed, with a unique place; each mail once.
    let mut places = places.lock().unwrap().clone();
    places.sort();
    let unique: HashSet<u64> = places.iter().copied().collect();
    let shown_ok = unique.len() == n && places.first() == Some(&1) && places.last() == Some(&(n as u64));
    let mut exported = Vec::new();
    let mut after = 0u64;
    loop {
        let url = format!("{admin}/v1/events/{event}/waitlist/signups?after={after}&limit=1000");
        let (status, body) =
            send(&client, Method::GET, &url, &[("authorization", &auth)], String::new()).await;
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        exported.extend(page["signups"].as_array().unwrap().iter().map(|r| {
            (
                r["email"].as_str().unwrap().to_owned(),
                r["place"].as_u64().unwrap_or(0),
                r["status"].as_str().unwrap().to_owned(),
            )
        }));
        match page["next"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let emails: HashSet<&str> = exported.iter().map(|(e, _, _)| e.as_str()).collect();
    let stored_places: HashSet<u64> = exported.iter().map(|(_, p, _)| *p).collect();
    let stored_ok = exported.len() == n
        && emails.len() == n
        && stored_places.len() == n
        && exported.iter().all(|(_, p, s)| s == "confirmed" && (1..=n as u64).contains(p));
    let mut per_recipient: HashMap<String, (usize, usize)> = HashMap::new();
    for (to, subject, _) in mails(&outbox) {
        let e = per_recipient.entry(to).or_default();
        if subject.starts_with("Confirm") {
            e.0 += 1;
        } else if subject.starts_with("You are on") {
            e.1 += 1;
        }
    }
    let mails_ok = per_recipient.len() == n && per_recipient.values().all(|c| *c == (1, 1));
    println!();
    println!(
        "Outbox: {n} confirmation mails written {:.1} s after the last signup was acknowledged, {n} \"on the list\" mails {:.1} s after the last confirmation.",
        mailed.as_secs_f64(),
        mailed_again.as_secs_f64()
    );
    println!(
        "Check: places shown unique 1..{n}: {shown_ok}; stored once each, confirmed, unique places: {stored_ok} ({} rows); each recipient one mail of each kind: {mails_ok}.",
        exported.len()
    );
    assert!(shown_ok && stored_ok && mails_ok, "the spike lost or doubled something");

    let mut mails_so_far = 2 * n;
    if std::env::args().any(|a| a == "--broadcast") {
        broadcast(&client, &admin, &auth, &event, &outbox, n).await;
        mails_so_far += n;
    }
    if std::env::args().any(|a| a == "--offers") {
        offers(&client, &admin, &auth, &event, &outbox, n, mails_so_far).await;
    }
}

/// The message-to-the-list phase: one service message to every waiting signup, now; every mail
/// waited for; one mail per signup checked, and the message's own count.
async fn broadcast(client: &HttpClient, admin: &str, auth: &str, event: &str, outbox: &str, n: usize) {
    let json = [("authorization", auth), ("content-type", "application/json")];
    let subject = "Doors open at 18:30";
    let body = format!(
        r#"{{"audience": "waiting", "purpose": "service", "texts": {{"en": {{"subject": "{subject}", "body": "The doors open half an hour early."}}}}}}"#
    );
    let url = format!("{admin}/v1/events/{event}/waitlist/broadcasts");
    let (started, clock) = (SystemTime::now(), Instant::now());
    let (status, written) = send(client, Method::POST, &url, &json, body).await;
    assert_eq!(status, 201, "{written}");
    let number = serde_json::from_str::<serde_json::Value>(&written).unwrap()["number"].as_u64().unwrap();
    let expected = 3 * n;
    while count_mails(outbox) < expected {
        assert!(clock.elapsed() < Duration::from_secs(600), "the message's mails never all arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let polled = clock.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await; // anything sent twice would arrive now
    let total_mails = count_mails(outbox);
    let (status, view) =
        send(client, Method::GET, &format!("{url}/{number}"), &[("authorization", auth)], String::new())
            .await;
    assert_eq!(status, 200, "{view}");
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();

    let mails = arrivals(outbox, subject);
    let first = mails.iter().map(|(_, t)| *t).min().unwrap_or(started);
    let last = mails.iter().map(|(_, t)| *t).max().unwrap_or(started);
    let mut per_recipient: HashMap<&str, usize> = HashMap::new();
    for (to, _) in &mails {
        *per_recipient.entry(to.as_str()).or_default() += 1;
    }
    let confirmations = arrivals(outbox, "Confirm");
    let c_first = confirmations.iter().map(|(_, t)| *t).min().unwrap_or(started);
    let c_last = confirmations.iter().map(|(_, t)| *t).max().unwrap_or(started);
    let pace = mails.len().saturating_sub(1) as f64 / secs(first, last);
    let c_pace = confirmations.len().saturating_sub(1) as f64 / secs(c_first, c_last);
    let ok = mails.len() == n
        && total_mails == expected
        && per_recipient.len() == n
        && per_recipient.values().all(|c| *c == 1)
        && view["status"] == "sent"
        && view["queued"] == n as u64;
    println!();
    println!(
        "Message to the whole list: the first mail arrived {:.2} s after it was written (the nodes look every 5 s), the last {:.2} s after (the poll saw all {:.1} s after): {} mails at {pace:.0}/s from the first to the last; the confirmation mails, through the same outbox, at {c_pace:.0}/s (ratio {:.2}).",
        secs(started, first),
        secs(started, last),
        polled.as_secs_f64(),
        mails.len(),
        pace / c_pace,
    );
    println!(
        "Check: each waiting signup exactly one mail, {total_mails} mails in all, the message `{}` with {} queued: {ok}.",
        view["status"].as_str().unwrap_or_default(),
        view["queued"]
    );
    assert!(ok, "the message to the list lost or doubled something");
}

/// Most seats one report may free (the admin API's limit).
const MAX_SEATS_PER_REPORT: i64 = 10_000;

/// The address of a `To:` header (`"Name" <a@b>` or `a@b`).
fn address(to: &str) -> String {
    match (to.rfind('<'), to.rfind('>')) {
        (Some(a), Some(b)) if a < b => to[a + 1..b].to_owned(),
        _ => to.trim().to_owned(),
    }
}

/// The mails in `dir` whose subject contains `subject`: their recipient's address and when their
/// file was written (the mail server's or the file transport's write, not this poll's).
fn arrivals(dir: &str, subject: &str) -> Vec<(String, SystemTime)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            let raw = std::fs::read(e.path()).ok()?;
            let text = String::from_utf8_lossy(&raw);
            let head = text.split("\r\n\r\n").next().unwrap_or("");
            let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name)).map(str::to_owned);
            header("Subject: ")?.contains(subject).then_some(())?;
            let written = e.metadata().ok()?.modified().ok()?;
            Some((address(&header("To: ").unwrap_or_default()), written))
        })
        .collect()
}

/// Seconds from `from` to `to` (negative if `to` came first).
fn secs(from: SystemTime, to: SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The offers phase: automatic mode, the seats of every confirmed signup reported freed, every
/// offer mail waited for; one offer and one offer mail per signup checked.
async fn offers(
    client: &HttpClient,
    admin: &str,
    auth: &str,
    event: &str,
    outbox: &str,
    n: usize,
    mails_before: usize,
) {
    let json = [("authorization", auth), ("content-type", "application/json")];
    let url = format!("{admin}/v1/events/{event}/waitlist");
    let settings = format!(
        r#"{{"mode": "automatic", "offer_link": "/events/{event}/claim?offer={{code}}", "offer_hours": 48}}"#
    );
    let (status, body) = send(client, Method::PATCH, &url, &json, settings).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let tickets = answer["confirmed_tickets"].as_i64().unwrap();
    assert_eq!(answer["confirmed_signups"].as_u64(), Some(n as u64), "{body}");

    // The reports: all the seats, as few reports as the limit allows, one after the other.
    let url = format!("{admin}/v1/events/{event}/waitlist/release");
    let mut offered: Vec<(String, String, u64)> = Vec::with_capacity(n);
    let mut calls = Vec::new();
    let (mut left, mut held) = (tickets, 0);
    let started = SystemTime::now();
    let clock = Instant::now();
    while left > 0 {
        let seats = left.min(MAX_SEATS_PER_REPORT);
        let t = Instant::now();
        let (status, body) =
            send(client, Method::POST, &url, &json, format!(r#"{{"seats": {seats}}}"#)).await;
        let took = t.elapsed();
        assert_eq!(status, 200, "{body}");
        let release: serde_json::Value = serde_json::from_str(&body).unwrap();
        calls.push((took, release["offers"].as_array().unwrap().len()));
        offered.extend(release["offers"].as_array().unwrap().iter().map(|o| {
            (
                o["signup"].as_str().unwrap().to_owned(),
                o["email"].as_str().unwrap().to_owned(),
                o["tickets"].as_u64().unwrap(),
            )
        }));
        held = release["seats_held"].as_u64().unwrap();
        left -= seats;
    }
    let answered = clock.elapsed();
    let answered_at = started + answered;
    let expected = mails_before + n;
    while count_mails(outbox) < expected {
        assert!(clock.elapsed() < Duration::from_secs(600), "the offer mails never all arrived");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let polled = clock.elapsed();
    // Anything sent twice would arrive after the count was reached: give it a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let total_mails = count_mails(outbox);

    let mails = arrivals(outbox, "are free for you");
    let first = mails.iter().map(|(_, t)| *t).min().unwrap_or(started);
    let last = mails.iter().map(|(_, t)| *t).max().unwrap_or(started);
    let mut per_recipient: HashMap<&str, usize> = HashMap::new();
    for (to, _) in &mails {
        *per_recipient.entry(to.as_str()).or_default() += 1;
    }
    let signups: HashSet<&str> = offered.iter().map(|(s, _, _)| s.as_str()).collect();
    let seats_offered: u64 = offered.iter().map(|(_, _, t)| t).sum();
    let offers_ok = offered.len() == n && signups.len() == n && seats_offered == tickets as u64 && held == 0;
    let mails_ok = mails.len() == n
        && total_mails == expected
        && per_recipient.len() == n
        && per_recipient.values().all(|c| *c == 1)
        && offered.iter().all(|(_, email, _)| per_recipient.get(email.as_str()) == Some(&1));

    // The confirmation mails' own pace, first to last, for comparison.
    let confirmations = arrivals(outbox, "Confirm");
    let c_first = confirmations.iter().map(|(_, t)| *t).min().unwrap_or(started);
    let c_last = confirmations.iter().map(|(_, t)| *t).max().unwrap_or(started);

    let each: Vec<String> =
        calls.iter().map(|(d, o)| format!("{:.1} ms for {o} offers", d.as_secs_f64() * 1e3)).collect();
    let to_last = secs(started, last);
    println!();
    println!(
        "Offers: {tickets} seats reported in {} report(s) (at most {MAX_SEATS_PER_REPORT} seats each), answered in {:.1} ms ({}): {} offers made, {seats_offered} seats offered, {held} held.",
        calls.len(),
        answered.as_secs_f64() * 1e3,
        each.join(", "),
        offered.len()
    );
    println!(
        "Offer mails: the first arrived {:.2} s after the report began, the last {to_last:.2} s after ({:.2} s after the last answer; the poll saw all {:.1} s after): {} offer mails at {:.0}/s from the report, {:.0}/s from the first to the last.",
        secs(started, first),
        secs(answered_at, last),
        polled.as_secs_f64(),
        mails.len(),
        mails.len() as f64 / to_last,
        mails.len().saturating_sub(1) as f64 / secs(first, last),
    );
    println!(
        "Confirmation mails, for comparison: {} from the first to the last at {:.0}/s.",
        confirmations.len(),
        confirmations.len().saturating_sub(1) as f64 / secs(c_first, c_last),
    );
    println!(
        "Check: one offer per confirmed signup, every seat offered: {offers_ok}; each recipient exactly one offer mail, {} mails in all: {mails_ok}.",
        total_mails
    );
    assert!(offers_ok && mails_ok, "the offers lost or doubled something");
}
