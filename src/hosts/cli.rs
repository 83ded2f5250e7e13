//! The `doorman` command line: `serve`, `check-policy`, `demo`.
//!
//! Exit status: 0 on success, 2 for an unusable policy or secret (the message names the file,
//! the field and what is wrong), 1 when starting fails for another reason (a port in use).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::core::blacklist::session::{JwtAlgorithm, SessionVerifier};
use crate::core::blacklist::HashMode;
use crate::core::email_hash::EmailHasher;
use crate::core::policy::Policy;
use crate::hosts::admin::AdminToken;
use crate::hosts::serve::{self, ServeOptions};

/// Doorman: edge middleware for ticket shops.
#[derive(Debug, Parser)]
#[command(name = "doorman", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reverse proxy with a policy file.
    Serve {
        /// The policy file (TOML).
        #[arg(long, env = "DOORMAN_POLICY")]
        policy: PathBuf,
        /// Folder for the embedded store.
        #[arg(long, env = "DOORMAN_DATA_DIR", default_value = "./doorman-data")]
        data_dir: PathBuf,
    },
    /// Check a policy file and exit: 0 when valid, 2 with the reason when not.
    CheckPolicy {
        /// The policy file (TOML).
        file: PathBuf,
    },
    /// Print the hash the blacklist stores for an e-mail address.
    HashEmail {
        /// The address.
        address: String,
        /// Take the hash mode, key and canonicalization rules from this policy (default:
        /// HMAC with DOORMAN_HASH_KEY, no provider rules).
        #[arg(long, env = "DOORMAN_POLICY")]
        policy: Option<PathBuf>,
    },
    /// Manage blacklist entries through the admin API (DOORMAN_ADMIN_URL, DOORMAN_ADMIN_TOKEN).
    Blacklist {
        /// What to do.
        #[command(subcommand)]
        action: BlacklistAction,
    },
    /// Run a demo ticket shop with Doorman in front of it, on the embedded store.
    Demo {
        /// Public address of Doorman.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Address of the admin and operations listener.
        #[arg(long, default_value = "127.0.0.1:8081")]
        admin_listen: String,
        /// Folder for the embedded store (default: a fresh temporary folder).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// Who an entry is about: exactly one of the three.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// A customer account id.
    #[arg(long)]
    pub account: Option<String>,
    /// A guest e-mail address (hashed by Doorman on arrival).
    #[arg(long)]
    pub email: Option<String>,
    /// A ready-made e-mail hash (64 hex digits).
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
    /// Import entries from a CSV (header row naming the columns) or NDJSON file; prints what
    /// was added and every rejected line.
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
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
}

/// Runs the command line and answers the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve { policy, data_dir } => serve_cmd(&policy, data_dir),
        Command::CheckPolicy { file } => load_policy(&file).map(|p| {
            println!(
                "{}: ok (backend {}, listen {}, admin {})",
                file.display(),
                p.backend.url,
                p.server.listen,
                p.server.admin_listen
            );
        }),
        Command::Demo { listen, admin_listen, data_dir } => {
            crate::demo::run(&listen, &admin_listen, data_dir)
        }
        Command::HashEmail { address, policy } => hash_email_cmd(&address, policy.as_deref()),
        Command::Blacklist { action } => blacklist_cmd(action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("doorman: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("doorman: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Why a command failed, which decides the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad policy, secret or argument: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Runtime(String),
}

fn serve_cmd(policy_path: &Path, data_dir: PathBuf) -> Result<(), Failure> {
    let policy = load_policy(policy_path)?;
    let admin_token = load_admin_token(&policy, policy_path)?;
    let policy_dir = policy_path.parent().unwrap_or(Path::new("."));
    let tls = match &policy.server.tls {
        Some(files) => Some(
            crate::hosts::proxy::tls::acceptor(files, policy_dir, policy.server.http2)
                .map_err(|e| Failure::Usage(format!("{}: {e}", policy_path.display())))?,
        ),
        None => None,
    };
    let email_hasher = load_email_hasher(&policy, policy_path)?;
    let session = load_session_verifier(&policy, policy_path)?;
    let running = serve::start(policy, ServeOptions { data_dir, admin_token, tls, email_hasher, session })
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let scheme = if running.tls { "https" } else { "http" };
    println!(
        "doorman: listening on {scheme}://{} (admin http://{})",
        running.public_addr, running.admin_addr
    );
    serve::wait_for_signal();
    running.shutdown();
    Ok(())
}

/// Reads and validates a policy file, with `DOORMAN_*` overrides from the environment.
pub fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read policy {}: {e}", path.display())))?;
    Policy::from_toml_str(&path.display().to_string(), &text, std::env::vars())
        .map_err(|e| Failure::Usage(e.to_string()))
}

/// The operator token: `DOORMAN_ADMIN_TOKEN`, else the file named by `admin.token_file`
/// (relative to the policy file's folder).
pub fn load_admin_token(policy: &Policy, policy_path: &Path) -> Result<Option<AdminToken>, Failure> {
    if let Ok(token) = std::env::var("DOORMAN_ADMIN_TOKEN") {
        return AdminToken::new(&token)
            .map(Some)
            .map_err(|e| Failure::Usage(format!("DOORMAN_ADMIN_TOKEN: {e}")));
    }
    let Some(file) = &policy.admin.token_file else {
        tracing::warn!("no admin token (DOORMAN_ADMIN_TOKEN or admin.token_file): the admin API refuses everything but health checks");
        return Ok(None);
    };
    let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
    let what = format!("{}: field `admin.token_file`", policy_path.display());
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::Usage(format!("{what}: cannot read {}: {e}", file.display())))?;
    AdminToken::new(&text).map(Some).map_err(|e| Failure::Usage(format!("{what}: {}: {e}", file.display())))
}

/// The e-mail hasher the policy asks for: HMAC with `DOORMAN_HASH_KEY` or the file named by
/// `blacklist.hash_key_file`, or plain SHA-256. `None` when the policy has no blacklist.
pub fn load_email_hasher(policy: &Policy, policy_path: &Path) -> Result<Option<EmailHasher>, Failure> {
    let Some(blacklist) = &policy.blacklist else {
        return Ok(None);
    };
    if blacklist.hash == HashMode::Sha256 {
        return Ok(Some(EmailHasher::PlainSha256));
    }
    let (key, source) = if let Ok(key) = std::env::var("DOORMAN_HASH_KEY") {
        (key.into_bytes(), "DOORMAN_HASH_KEY".to_owned())
    } else if let Some(file) = &blacklist.hash_key_file {
        let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
        let what = format!("{}: field `blacklist.hash_key_file`: {}", policy_path.display(), file.display());
        let bytes = std::fs::read(&file).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
        (bytes.trim_ascii().to_vec(), what)
    } else {
        return Err(Failure::Usage(format!(
            "{}: the blacklist hashes e-mail addresses with HMAC and needs a key: set DOORMAN_HASH_KEY or \
             blacklist.hash_key_file (or choose blacklist.hash = \"sha256\")",
            policy_path.display()
        )));
    };
    EmailHasher::hmac(&key).map(Some).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// The session-cookie verifier the policy asks for. The HS256 secret comes from
/// `DOORMAN_SESSION_KEY` or `blacklist.session_key_file`; public keys from the file.
pub fn load_session_verifier(
    policy: &Policy,
    policy_path: &Path,
) -> Result<Option<SessionVerifier>, Failure> {
    let Some(settings) = policy.blacklist.as_ref().and_then(|b| b.session.clone()) else {
        return Ok(None);
    };
    let env_secret = (settings.algorithm == JwtAlgorithm::Hs256)
        .then(|| std::env::var("DOORMAN_SESSION_KEY").ok())
        .flatten();
    let (key, source) = match (env_secret, &settings.key_file) {
        (Some(secret), _) => (secret.into_bytes(), "DOORMAN_SESSION_KEY".to_owned()),
        (None, Some(file)) => {
            let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
            let what =
                format!("{}: field `blacklist.session_key_file`: {}", policy_path.display(), file.display());
            let bytes = std::fs::read(&file).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
            let bytes =
                if settings.algorithm == JwtAlgorithm::Hs256 { bytes.trim_ascii().to_vec() } else { bytes };
            (bytes, what)
        }
        (None, None) => {
            return Err(Failure::Usage(format!(
                "{}: the session cookie is HS256 and needs its secret: set DOORMAN_SESSION_KEY or \
                 blacklist.session_key_file",
                policy_path.display()
            )))
        }
    };
    SessionVerifier::new(settings, &key).map(Some).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

fn hash_email_cmd(address: &str, policy_path: Option<&Path>) -> Result<(), Failure> {
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
            let hasher = EmailHasher::hmac(key.as_bytes())
                .map_err(|e| Failure::Usage(format!("DOORMAN_HASH_KEY: {e}")))?;
            (hasher, Default::default())
        }
    };
    let canonical =
        crate::core::email::canonicalize(address, rules).map_err(|e| Failure::Usage(e.to_string()))?;
    println!("{}", hasher.hash_hex(&canonical));
    Ok(())
}

fn blacklist_cmd(action: BlacklistAction) -> Result<(), Failure> {
    use crate::hosts::admin_client::{AdminClient, ClientError};
    use serde_json::json;

    let client = AdminClient::from_env().map_err(|e| Failure::Usage(e.to_string()))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let fail = |e: ClientError| match e {
        ClientError::Config(m) => Failure::Usage(m),
        other => Failure::Runtime(other.to_string()),
    };
    let who = |w: &Who| json!({ "account": w.account, "email": w.email, "email_hash": w.email_hash });
    let (method, path, body) = match &action {
        BlacklistAction::Import { file, format } => {
            let ndjson = match format.as_deref() {
                Some("ndjson") => true,
                Some("csv") => false,
                Some(other) => return Err(Failure::Usage(format!("--format `{other}`: csv or ndjson"))),
                None => file.extension().is_some_and(|e| e == "ndjson" || e == "jsonl"),
            };
            let bytes = std::fs::read(file)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
            let content_type = if ndjson { "application/x-ndjson" } else { "text/csv" };
            let answer = runtime
                .block_on(client.call_raw(
                    http::Method::POST,
                    "/v1/blacklist/import",
                    content_type,
                    bytes.into(),
                ))
                .map_err(fail)?;
            let report: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            println!("added {}, rejected {}", report["added"], report["rejected"]);
            for e in report["errors"].as_array().into_iter().flatten() {
                eprintln!("line {}: {}", e["line"], e["error"].as_str().unwrap_or(""));
            }
            return Ok(());
        }
        BlacklistAction::Export { format, organizer } => {
            let mut path = format!("/v1/blacklist/export?format={}", urlencode(format));
            if let Some(o) = organizer {
                path.push_str(&format!("&organizer={}", urlencode(o)));
            }
            let answer = runtime
                .block_on(client.call_raw(http::Method::GET, &path, "text/plain", Default::default()))
                .map_err(fail)?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&answer)
                .map_err(|e| Failure::Runtime(format!("cannot write the export: {e}")))?;
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
            let mut path = format!("/v1/blacklist?limit={limit}");
            if let Some(o) = organizer {
                path.push_str(&format!("&organizer={}", urlencode(o)));
            }
            (http::Method::GET, path, None)
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
        BlacklistAction::List { .. } => {
            for e in answer["entries"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    e["kind"].as_str().unwrap_or(""),
                    e["value"].as_str().unwrap_or(""),
                    e["organizer"].as_str().unwrap_or("*"),
                    e["expires_at"].as_str().unwrap_or("never"),
                    e["reason"].as_str().unwrap_or(""),
                );
            }
        }
        BlacklistAction::Add { .. } => println!(
            "added {} {} ({})",
            answer["kind"].as_str().unwrap_or(""),
            answer["value"].as_str().unwrap_or(""),
            answer["organizer"]
                .as_str()
                .map(|o| format!("organizer {o}"))
                .unwrap_or_else(|| "platform-wide".into()),
        ),
        BlacklistAction::Remove { .. } => println!("removed"),
        BlacklistAction::Import { .. } | BlacklistAction::Export { .. } => {}
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("DOORMAN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("DOORMAN_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
