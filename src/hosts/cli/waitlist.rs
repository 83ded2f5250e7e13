//! `doorman waitlist …`: an event's waitlist through the admin API (DOORMAN_ADMIN_URL,
//! DOORMAN_ADMIN_TOKEN). Exports page through the list and write each page as it arrives, so
//! no list is ever held whole.

use std::io::Write;

use clap::Subcommand;

use super::Failure;
use crate::core::text::url_component;

/// What `doorman waitlist` does.
#[derive(Debug, Subcommand)]
pub enum WaitlistAction {
    /// Write an event's list in line order to stdout.
    Export {
        /// The event.
        event: String,
        /// `csv` (default) or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Signups fetched per request (1 to 1000).
        #[arg(long, default_value_t = 500)]
        page: usize,
    },
    /// Show an event's waitlist settings and totals.
    Show {
        /// The event.
        event: String,
    },
    /// Report seats freed at an event (automatic mode): the longest waiting receive offers.
    Release {
        /// The event.
        event: String,
        /// Seats freed (1 to 10000).
        #[arg(long)]
        seats: i64,
        /// Show who would receive offers, storing and sending nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List an event's offers and how they stand.
    Offers {
        /// The event.
        event: String,
    },
    /// List every message of an event: to whom, which, when, and whether it went out.
    History {
        /// The event.
        event: String,
    },
    /// Show a message as customers receive it: subject and text (or its HTML), nothing sent.
    Preview {
        /// The event.
        event: String,
        /// `confirm`, `confirmed`, `already`, `offer` or `erased`.
        #[arg(long)]
        template: String,
        /// `en`, `de`, `nl` or `nb` (default: the event's first language).
        #[arg(long)]
        lang: Option<String>,
        /// Fill it from this signup (default: a sample signup).
        #[arg(long)]
        signup: Option<String>,
        /// Print the HTML part instead of the text.
        #[arg(long)]
        html: bool,
    },
    /// Messages to the whole list: write one (now, at a time, or before the event's start),
    /// list them, cancel one, preview or test-send a draft.
    Broadcast {
        /// What to do.
        #[command(subcommand)]
        action: BroadcastAction,
    },
    /// Send a message, filled from a sample signup, to one address as a test (marked in the
    /// history as `test:<template>`).
    TestSend {
        /// The event.
        event: String,
        /// `confirm`, `confirmed`, `already`, `offer` or `erased`.
        #[arg(long)]
        template: String,
        /// `en`, `de`, `nl` or `nb` (default: the event's first language).
        #[arg(long)]
        lang: Option<String>,
        /// Where it goes.
        #[arg(long)]
        to: String,
    },
}

/// What `doorman waitlist broadcast` does.
#[derive(Debug, Subcommand)]
pub enum BroadcastAction {
    /// Write a message to the list: sent now, `--at` a time, or `--before-start` the event.
    Send {
        /// The event.
        event: String,
        #[command(flatten)]
        draft: DraftArgs,
    },
    /// List an event's messages to the list and how they stand.
    List {
        /// The event.
        event: String,
    },
    /// Cancel a message to the list (before it is sent, or before its next page).
    Cancel {
        /// The event.
        event: String,
        /// The message's number.
        number: u64,
    },
    /// Show a draft as a signup receives it, and how many it would reach now; nothing sent.
    Preview {
        /// The event.
        event: String,
        #[command(flatten)]
        draft: DraftArgs,
        /// The language to show (default: the event's first).
        #[arg(long)]
        show: Option<String>,
        /// Print the HTML part instead of the text.
        #[arg(long)]
        html: bool,
    },
    /// Send a draft, filled from a sample signup, to one address as a test (`test:message` in
    /// the history).
    TestSend {
        /// The event.
        event: String,
        #[command(flatten)]
        draft: DraftArgs,
        /// The language to send (default: the event's first).
        #[arg(long)]
        show: Option<String>,
        /// Where it goes.
        #[arg(long)]
        to: String,
    },
}

/// A message to the list as the command line writes it.
#[derive(Debug, clap::Args)]
pub struct DraftArgs {
    /// `waiting` (in line or holding an offer) or `confirmed` (every confirmed signup).
    #[arg(long)]
    audience: String,
    /// `service` (every signup of the audience needs it) or `news` (only those who ticked
    /// "keep me informed").
    #[arg(long)]
    purpose: String,
    /// `LANG=FILE`, once per language: the file's first line is the subject, then an empty
    /// line, then the message.
    #[arg(long = "text", required = true)]
    texts: Vec<String>,
    /// Only to signups in these languages (`de,en`; default: all).
    #[arg(long, value_delimiter = ',')]
    languages: Vec<String>,
    /// Send at this time (UTC, `2027-03-01T18:00:00Z`).
    #[arg(long, conflicts_with = "before_start")]
    at: Option<String>,
    /// Send this long before the event's start (`24h`, `2days`).
    #[arg(long)]
    before_start: Option<String>,
}

impl DraftArgs {
    /// The draft as the admin API takes it, its texts read from their files.
    fn to_json(&self) -> Result<serde_json::Value, Failure> {
        let mut texts = serde_json::Map::new();
        for spec in &self.texts {
            let Some((lang, path)) = spec.split_once('=') else {
                return Err(Failure::Usage(format!("--text `{spec}`: LANG=FILE")));
            };
            let content = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--text {lang}: cannot read {path}: {e}")))?;
            let content = content.replace("\r\n", "\n");
            let (subject, body) = content.split_once('\n').unwrap_or((content.as_str(), ""));
            texts.insert(lang.to_owned(), serde_json::json!({ "subject": subject, "body": body }));
        }
        Ok(serde_json::json!({
            "audience": self.audience,
            "purpose": self.purpose,
            "texts": texts,
            "languages": self.languages,
            "at": self.at,
            "before_start": self.before_start,
        }))
    }
}

fn broadcast_cmd(
    action: BroadcastAction,
    client: &crate::hosts::admin_client::AdminClient,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), Failure> {
    let fail = super::client_failure;
    let base = |event: &str| format!("/v1/events/{}/waitlist/broadcasts", url_component(event));
    let post = |path: String, body: serde_json::Value| {
        runtime.block_on(client.call(http::Method::POST, &path, Some(body))).map_err(fail)
    };
    let answer = match action {
        BroadcastAction::Send { event, draft } => post(base(&event), draft.to_json()?)?,
        BroadcastAction::List { event } => {
            runtime.block_on(client.call(http::Method::GET, &base(&event), None)).map_err(fail)?
        }
        BroadcastAction::Cancel { event, number } => {
            post(format!("{}/{number}/cancel", base(&event)), serde_json::json!({}))?
        }
        BroadcastAction::Preview { event, draft, show, html } => {
            let body = serde_json::json!({ "message": draft.to_json()?, "lang": show });
            let answer = post(format!("{}/preview", base(&event)), body)?;
            let field = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
            if html {
                println!("{}", field("html"));
            } else {
                println!(
                    "To: {} signups now\nSubject: {}\n\n{}",
                    answer["recipients"],
                    field("subject"),
                    field("text")
                );
            }
            return Ok(());
        }
        BroadcastAction::TestSend { event, draft, show, to } => {
            let body = serde_json::json!({ "message": draft.to_json()?, "lang": show, "to": to });
            let answer = post(format!("{}/test", base(&event)), body)?;
            println!("queued as message {} of the history (test:message)", answer["message"]);
            return Ok(());
        }
    };
    println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
    Ok(())
}

pub(super) fn waitlist_cmd(action: WaitlistAction) -> Result<(), Failure> {
    let (client, runtime) = super::admin_client()?;
    let fail = super::client_failure;
    let write_failed = |e: std::io::Error| Failure::Runtime(format!("cannot write the export: {e}"));
    match action {
        WaitlistAction::Show { event } => {
            let path = format!("/v1/events/{}/waitlist", url_component(&event));
            let answer = runtime.block_on(client.call(http::Method::GET, &path, None)).map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            Ok(())
        }
        WaitlistAction::Release { event, seats, dry_run } => {
            let path = format!("/v1/events/{}/waitlist/release", url_component(&event));
            let body = serde_json::json!({ "seats": seats, "dry_run": dry_run });
            let answer =
                runtime.block_on(client.call(http::Method::POST, &path, Some(body))).map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            Ok(())
        }
        WaitlistAction::Preview { event, template, lang, signup, html } => {
            let path = format!("/v1/events/{}/waitlist/messages/preview", url_component(&event));
            let body = serde_json::json!({ "template": template, "lang": lang, "signup": signup });
            let answer =
                runtime.block_on(client.call(http::Method::POST, &path, Some(body))).map_err(fail)?;
            let field = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
            if html {
                println!("{}", field("html"));
            } else {
                println!("Subject: {}\n\n{}", field("subject"), field("text"));
            }
            Ok(())
        }
        WaitlistAction::TestSend { event, template, lang, to } => {
            let path = format!("/v1/events/{}/waitlist/messages/test", url_component(&event));
            let body = serde_json::json!({ "template": template, "lang": lang, "to": to });
            let answer =
                runtime.block_on(client.call(http::Method::POST, &path, Some(body))).map_err(fail)?;
            println!("queued as message {} of the history (test:{template})", answer["message"]);
            Ok(())
        }
        WaitlistAction::Broadcast { action } => broadcast_cmd(action, &client, &runtime),
        WaitlistAction::Offers { event } => print_all(&client, &runtime, &event, "offers"),
        WaitlistAction::History { event } => print_all(&client, &runtime, &event, "messages"),
        WaitlistAction::Export { event, format, page } => {
            let csv = match format.as_str() {
                "csv" => true,
                "json" => false,
                other => return Err(Failure::Usage(format!("--format `{other}`: csv or json"))),
            };
            let mut out = std::io::stdout().lock();
            let mut after = 0u64;
            let mut first = true;
            if !csv {
                out.write_all(b"[").map_err(write_failed)?;
            }
            loop {
                let path = format!(
                    "/v1/events/{}/waitlist/signups?after={after}&limit={page}&format={format}",
                    url_component(&event)
                );
                let (headers, body) = runtime.block_on(client.get_with_headers(&path)).map_err(fail)?;
                let next = if csv {
                    out.write_all(&body).map_err(write_failed)?;
                    headers.get("doorman-next").and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                } else {
                    let page: serde_json::Value = serde_json::from_slice(&body)
                        .map_err(|e| Failure::Runtime(format!("the admin API answered no JSON: {e}")))?;
                    for row in page["signups"].as_array().into_iter().flatten() {
                        let sep: &[u8] = if first { b"\n" } else { b",\n" };
                        first = false;
                        out.write_all(sep).map_err(write_failed)?;
                        out.write_all(row.to_string().as_bytes()).map_err(write_failed)?;
                    }
                    page["next"].as_u64()
                };
                match next {
                    Some(n) if n > after => after = n,
                    _ => break,
                }
            }
            if !csv {
                out.write_all(b"\n]\n").map_err(write_failed)?;
            }
            out.flush().map_err(write_failed)
        }
    }
}

/// Pages through `/v1/events/{event}/waitlist/{what}` and prints every item, as one JSON array.
fn print_all(
    client: &crate::hosts::admin_client::AdminClient,
    runtime: &tokio::runtime::Runtime,
    event: &str,
    what: &str,
) -> Result<(), Failure> {
    let mut all = Vec::new();
    let mut after = 0u64;
    loop {
        let path = format!("/v1/events/{}/waitlist/{what}?after={after}&limit=500", url_component(event));
        let page =
            runtime.block_on(client.call(http::Method::GET, &path, None)).map_err(super::client_failure)?;
        all.extend(page[what].as_array().cloned().unwrap_or_default());
        match page["next"].as_u64() {
            Some(n) if n > after => after = n,
            _ => break,
        }
    }
    println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    Ok(())
}
