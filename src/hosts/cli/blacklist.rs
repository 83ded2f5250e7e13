//! `doorman blacklist …` and `doorman hash-email`: the organizers' command line, a client of
//! the admin API.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{load_email_hasher, load_policy, Failure};
use crate::core::email_hash::EmailHasher;
use crate::core::text::url_component;

/// Who an entry is about: exactly one of the three.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// A customer account id.
    #[arg(long)]
    pub account: Option<String>,
    /// A guest e-mail address (hashed by Doorman on arrival); `-` reads it from standard
    /// input, so it stays out of the shell's history.
    #[arg(long)]
    pub email: Option<String>,
    /// A ready-made e-mail hash (64 hex digits).
    #[arg(long)]
    pub email_hash: Option<String>,
}

/// An account and one of its addresses (`doorman blacklist attach` and `detach`).
#[derive(Debug, clap::Args)]
pub struct AccountAddress {
    /// The customer's account id.
    #[arg(long)]
    pub account: String,
    /// One of the customer's addresses (`-`: read it from standard input).
    #[arg(long, required_unless_present = "email_hash", conflicts_with = "email_hash")]
    pub email: Option<String>,
    /// Or its hash (64 hex digits).
    #[arg(long)]
    pub email_hash: Option<String>,
}

/// `doorman blacklist …`
#[derive(Debug, Subcommand)]
pub enum BlacklistAction {
    /// Add an entry.
    Add {
        #[command(flatten)]
        /// Who.
        who: Who,
        /// Limit the entry to one organizer's events (default: the whole platform).
        #[arg(long)]
        organizer: Option<String>,
        /// Why (kept with the entry).
        #[arg(long)]
        reason: Option<String>,
        /// Let the entry lapse after this long (e.g. 30d, 12h).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// Remove an entry: the customer is free again at once.
    Remove {
        #[command(flatten)]
        /// Who.
        who: Who,
        /// The organizer the entry was made for (default: the platform-wide entry).
        #[arg(long)]
        organizer: Option<String>,
    },
    /// Whether an entry applies to one customer for an organizer, and which.
    Status {
        #[command(flatten)]
        /// Who.
        who: Who,
        /// The organizer asking (an organizer token: its own; without it, the operator asks
        /// about platform-wide entries only).
        #[arg(long, conflicts_with = "event")]
        organizer: Option<String>,
        /// Or the event the customer wants to buy for (its organizer asks).
        #[arg(long)]
        event: Option<String>,
    },
    /// Attach an address to a customer's account: the account's entries then also turn back
    /// guest checkouts with it (operator token).
    Attach {
        #[command(flatten)]
        /// The account and the address.
        to: AccountAddress,
        /// Take the address from the account it is attached to now.
        #[arg(long = "move")]
        move_it: bool,
    },
    /// Detach an address from a customer's account (operator token).
    Detach {
        #[command(flatten)]
        /// The account and the address.
        from: AccountAddress,
    },
    /// The addresses attached to a customer's account, as hashes (operator token).
    Addresses {
        /// The customer's account id.
        #[arg(long)]
        account: String,
    },
    /// Import entries from a CSV (header row naming the columns) or NDJSON file, streamed as it
    /// is read; prints what was added and every rejected line.
    Import {
        /// The file.
        file: PathBuf,
        /// `csv` or `ndjson` (default: from the file name, else csv).
        #[arg(long)]
        format: Option<String>,
    },
    /// Export entries as CSV or NDJSON to standard output.
    Export {
        /// `csv` (default) or `ndjson`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Only this organizer's entries.
        #[arg(long)]
        organizer: Option<String>,
    },
    /// List entries.
    List {
        /// Only this organizer's entries.
        #[arg(long)]
        organizer: Option<String>,
        /// At most this many (the CLI pages through the API until it has them or the list ends).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
}

/// `text`, or for `-` the first line of standard input (trimmed): addresses typed on the command
/// line end up in the shell's history.
pub(super) fn or_stdin(text: &str) -> Result<String, Failure> {
    if text != "-" {
        return Ok(text.to_owned());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?;
    let line = line.trim();
    if line.is_empty() {
        return Err(Failure::Usage("standard input holds no address".into()));
    }
    Ok(line.to_owned())
}

pub(super) fn hash_email_cmd(address: &str, policy_path: Option<&Path>) -> Result<(), Failure> {
    let address = or_stdin(address)?;
    let address = address.as_str();
    let (hasher, rules) = match policy_path {
        Some(path) => {
            let policy = load_policy(path)?;
            let rules = policy.blacklist.as_ref().map(|b| b.rules).unwrap_or_default();
            match load_email_hasher(&policy, path)? {
                Some(h) => (h, rules),
                None => {
                    return Err(Failure::Usage(format!(
                        "{}: the policy has no [blacklist] section",
                        path.display()
                    )))
                }
            }
        }
        None => {
            let key = std::env::var("DOORMAN_HASH_KEY").map_err(|_| {
                Failure::Usage(
                    "set DOORMAN_HASH_KEY, or give --policy to use the policy's key and rules".into(),
                )
            })?;
            let hasher = EmailHasher::hmac(key.trim().as_bytes())
                .map_err(|e| Failure::Usage(format!("DOORMAN_HASH_KEY: {e}")))?;
            (hasher, Default::default())
        }
    };
    let canonical =
        crate::core::email::canonicalize(address, rules).map_err(|e| Failure::Usage(e.to_string()))?;
    println!("{}", hasher.hash_hex(&canonical));
    Ok(())
}

pub(super) fn blacklist_cmd(mut action: BlacklistAction) -> Result<(), Failure> {
    use serde_json::json;

    if let BlacklistAction::Attach { to: AccountAddress { email: Some(email), .. }, .. }
    | BlacklistAction::Detach { from: AccountAddress { email: Some(email), .. } } = &mut action
    {
        *email = or_stdin(email)?;
    }
    if let BlacklistAction::Add { who, .. }
    | BlacklistAction::Remove { who, .. }
    | BlacklistAction::Status { who, .. } = &mut action
    {
        if let Some(email) = &who.email {
            who.email = Some(or_stdin(email)?);
        }
    }
    let (client, runtime) = super::admin_client()?;
    let fail = super::client_failure;
    let who = |w: &Who| json!({ "account": w.account, "email": w.email, "email_hash": w.email_hash });
    let (method, path, body) = match &action {
        BlacklistAction::Import { file, format } => {
            let ndjson = match format.as_deref() {
                Some("ndjson") => true,
                Some("csv") => false,
                Some(other) => return Err(Failure::Usage(format!("--format `{other}`: csv or ndjson"))),
                None => file.extension().is_some_and(|e| e == "ndjson" || e == "jsonl"),
            };
            let content_type = if ndjson { "application/x-ndjson" } else { "text/csv" };
            // Streamed from the file as it is sent: an import of millions of lines is never
            // held in memory.
            let answer = runtime.block_on(async {
                let opened = tokio::fs::File::open(file)
                    .await
                    .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
                let size = opened.metadata().await.map(|m| m.len()).unwrap_or(0);
                let bar = super::progress::bytes(size, "importing");
                let body = crate::hosts::admin_client::file_body(opened, {
                    let bar = bar.clone();
                    move |n| bar.inc(n as u64)
                });
                let answer = client
                    .call_streaming(http::Method::POST, "/v1/blacklist/import", content_type, body)
                    .await
                    .map_err(fail);
                bar.finish_and_clear();
                answer
            })?;
            let report: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            println!("added {}, rejected {}", report["added"], report["rejected"]);
            for e in report["errors"].as_array().into_iter().flatten() {
                eprintln!("line {}: {}", e["line"], e["error"].as_str().unwrap_or(""));
            }
            return Ok(());
        }
        BlacklistAction::Export { format, organizer } => {
            let mut path = format!("/v1/blacklist/export?format={}", url_component(format));
            if let Some(o) = organizer {
                path.push_str(&format!("&organizer={}", url_component(o)));
            }
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let bar = super::progress::count("entries exported");
            let written = runtime.block_on(client.get_streaming(&path, |chunk| {
                bar.inc(memchr::memchr_iter(b'\n', chunk).count() as u64);
                out.write_all(chunk)
            }));
            bar.finish_and_clear();
            written.map_err(fail)?;
            out.flush().map_err(|e| Failure::Runtime(format!("cannot write the export: {e}")))?;
            return Ok(());
        }
        BlacklistAction::Add { who: w, organizer, reason, expires_in } => {
            let mut body = who(w);
            body["organizer"] = json!(organizer);
            body["reason"] = json!(reason);
            body["expires_in"] = json!(expires_in);
            (http::Method::POST, "/v1/blacklist".to_owned(), Some(body))
        }
        BlacklistAction::Remove { who: w, organizer } => {
            let mut body = who(w);
            body["organizer"] = json!(organizer);
            (http::Method::POST, "/v1/blacklist/remove".to_owned(), Some(body))
        }
        BlacklistAction::List { organizer, limit } => {
            return runtime.block_on(list(&client, organizer.as_deref(), *limit)).map_err(fail);
        }
        BlacklistAction::Attach { to, move_it } => {
            let body = json!({"account": to.account, "email": to.email, "email_hash": to.email_hash, "move": move_it});
            (http::Method::POST, "/v1/customers/attach".to_owned(), Some(body))
        }
        BlacklistAction::Detach { from } => {
            let body = json!({"account": from.account, "email": from.email, "email_hash": from.email_hash});
            (http::Method::POST, "/v1/customers/detach".to_owned(), Some(body))
        }
        BlacklistAction::Addresses { account } => {
            (http::Method::POST, "/v1/customers/addresses".to_owned(), Some(json!({"account": account})))
        }
        BlacklistAction::Status { who: w, organizer, event } => {
            let mut body = who(w);
            body["organizer"] = json!(organizer);
            body["event"] = json!(event);
            (http::Method::POST, "/v1/blacklist/status".to_owned(), Some(body))
        }
    };
    // JSON null fields are dropped so the API sees only what was given.
    let body = body.map(|mut b| {
        if let Some(map) = b.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        b
    });
    let answer = runtime.block_on(client.call(method, &path, body)).map_err(fail)?;
    match action {
        BlacklistAction::Add { .. } => {
            println!(
                "added {} {} ({})",
                answer["kind"].as_str().unwrap_or(""),
                answer["value"].as_str().unwrap_or(""),
                answer["organizer"]
                    .as_str()
                    .map(|o| format!("organizer {o}"))
                    .unwrap_or_else(|| "platform-wide".into()),
            );
            if let Some(warning) = answer["warning"].as_str() {
                eprintln!("warning: {warning}");
            }
        }
        BlacklistAction::Remove { .. } => println!("removed"),
        BlacklistAction::Status { .. } => print_status(&answer),
        BlacklistAction::Attach { .. } => {
            let moved =
                answer["moved_from"].as_str().map(|m| format!(" (moved from {m})")).unwrap_or_default();
            println!(
                "attached {} to {} {}{moved}",
                answer["email_hash"].as_str().unwrap_or(""),
                answer["kind"].as_str().unwrap_or(""),
                answer["account"].as_str().unwrap_or("")
            );
        }
        BlacklistAction::Detach { .. } => println!("detached"),
        BlacklistAction::Addresses { .. } => {
            for hash in answer["email_hashes"].as_array().into_iter().flatten() {
                println!("{}", hash.as_str().unwrap_or(""));
            }
        }
        BlacklistAction::Import { .. } | BlacklistAction::Export { .. } | BlacklistAction::List { .. } => {}
    }
    Ok(())
}

/// Prints a status answer: the verdict, then each entry that applies on a line of its own.
fn print_status(answer: &serde_json::Value) {
    let whose =
        answer["organizer"].as_str().map_or("platform-wide entries".to_owned(), |o| format!("organizer {o}"));
    let verdict = if answer["blacklisted"] == true { "blacklisted" } else { "not blacklisted" };
    println!(
        "{} {}: {verdict} ({whose})",
        answer["kind"].as_str().unwrap_or(""),
        answer["value"].as_str().unwrap_or("")
    );
    for e in answer["entries"].as_array().into_iter().flatten() {
        let scope = e["organizer"].as_str().map_or("platform-wide".to_owned(), |o| format!("organizer {o}"));
        let until = e["expires_at"].as_str().unwrap_or("never");
        println!(
            "  {scope}: since {}, until {until}, by {}, reason: {}",
            e["added_at"].as_str().unwrap_or(""),
            e["added_by"].as_str().unwrap_or(""),
            e["reason"].as_str().filter(|r| !r.is_empty()).unwrap_or("(none given)")
        );
    }
}

/// Prints up to `limit` entries a line each, paging through the API as it goes.
async fn list(
    client: &crate::hosts::admin_client::AdminClient,
    organizer: Option<&str>,
    limit: usize,
) -> Result<(), crate::hosts::admin_client::ClientError> {
    let (mut printed, mut cursor) = (0, String::new());
    while printed < limit {
        let mut path = format!(
            "/v1/blacklist?limit={}&cursor={}",
            (limit - printed).min(10_000),
            url_component(&cursor)
        );
        if let Some(o) = organizer {
            path.push_str(&format!("&organizer={}", url_component(o)));
        }
        let page = client.call(http::Method::GET, &path, None).await?;
        for e in page["entries"].as_array().into_iter().flatten().take(limit - printed) {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                e["kind"].as_str().unwrap_or(""),
                e["value"].as_str().unwrap_or(""),
                e["organizer"].as_str().unwrap_or("*"),
                e["expires_at"].as_str().unwrap_or("never"),
                e["reason"].as_str().unwrap_or(""),
            );
            printed += 1;
        }
        match page["next"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    Ok(())
}
