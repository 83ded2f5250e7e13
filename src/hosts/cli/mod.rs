//! The `doorman` command line: `serve`, `check-policy`, `demo`, `hash-email`, `blacklist`,
//! `waitlist`, `data`, `openapi`.
//!
//! Exit status: 0 on success, 2 for an unusable policy or secret (the message names the file,
//! the field and what is wrong), 1 when starting fails for another reason (a port in use).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::hosts::serve::{self, ServeOptions};

mod blacklist;
mod data;
mod progress;
mod secrets;
mod waitlist;

use blacklist::{blacklist_cmd, hash_email_cmd};
pub use blacklist::{BlacklistAction, Who};
pub use secrets::{
    load_admin_token, load_data_keys, load_email_hasher, load_link_signer, load_policy,
    load_session_verifier, load_sms, load_smtp, load_tls, SERVICE_LINK,
};

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
    /// Check a policy file as written and print its compiled form, one line of JSON, for the edge
    /// component's `policy` variable (`DOORMAN_*` variables are not applied: the edge has its own).
    CompilePolicy {
        /// The policy file (TOML).
        file: PathBuf,
    },
    /// Print the hash the blacklist stores for an e-mail address.
    HashEmail {
        /// The address (`-`: read it from standard input, out of the shell's history).
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
    /// An event's waitlist through the admin API (DOORMAN_ADMIN_URL, DOORMAN_ADMIN_TOKEN).
    Waitlist {
        /// What to do.
        #[command(subcommand)]
        action: waitlist::WaitlistAction,
    },
    /// The data keys personal data is sealed with, through the admin API (DOORMAN_ADMIN_URL,
    /// DOORMAN_ADMIN_TOKEN).
    Data {
        /// What to do.
        #[command(subcommand)]
        action: data::DataAction,
    },
    /// Print the admin API's OpenAPI 3.1 document (as served at `/openapi.json`; kept in
    /// `openapi/admin.json`: `doorman openapi > openapi/admin.json`).
    Openapi,
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

/// Runs the command line and answers the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve { policy, data_dir } => serve_cmd(&policy, data_dir),
        Command::CheckPolicy { file } => {
            load_policy(&file).and_then(|p| load_tls(&p, &file).map(|_| p)).map(|p| {
                println!(
                    "{}: ok (backend {}, listen {}, admin {})",
                    file.display(),
                    p.backend.url,
                    p.server.listen,
                    p.server.admin_listen
                );
                for variable in &p.ignored_env {
                    println!("ignored {variable}: {SERVICE_LINK}");
                }
            })
        }
        Command::CompilePolicy { file } => compile_policy_cmd(&file),
        Command::Demo { listen, admin_listen, data_dir } => {
            crate::demo::run(&listen, &admin_listen, data_dir)
        }
        Command::HashEmail { address, policy } => hash_email_cmd(&address, policy.as_deref()),
        Command::Blacklist { action } => blacklist_cmd(action),
        Command::Waitlist { action } => waitlist::waitlist_cmd(action),
        Command::Data { action } => data::data_cmd(action),
        Command::Openapi => {
            println!("{}", crate::hosts::admin::openapi());
            Ok(())
        }
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

pub use crate::hosts::Failure;

/// `doorman compile-policy FILE`: the compiled form on standard output, or why not.
fn compile_policy_cmd(file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read policy {}: {e}", file.display())))?;
    let compiled = crate::core::policy::compile_toml(&file.display().to_string(), &text)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    println!("{compiled}");
    Ok(())
}

/// The admin API's client from `DOORMAN_ADMIN_URL` and `DOORMAN_ADMIN_TOKEN`, and a runtime to
/// call it on (the `blacklist` and `waitlist` commands).
fn admin_client() -> Result<(crate::hosts::admin_client::AdminClient, tokio::runtime::Runtime), Failure> {
    let client =
        crate::hosts::admin_client::AdminClient::from_env().map_err(|e| Failure::Usage(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start a runtime: {e}")))?;
    Ok((client, runtime))
}

/// A failed admin API call: a usage error when the client was set up wrong, else a runtime one.
fn client_failure(e: crate::hosts::admin_client::ClientError) -> Failure {
    match e {
        crate::hosts::admin_client::ClientError::Config(m) => Failure::Usage(m),
        other => Failure::Runtime(other.to_string()),
    }
}

fn serve_cmd(policy_path: &Path, data_dir: PathBuf) -> Result<(), Failure> {
    let policy = load_policy(policy_path)?;
    let admin_token = load_admin_token(&policy, policy_path)?;
    let (tls, backend_tls) = load_tls(&policy, policy_path)?;
    let email_hasher = load_email_hasher(&policy, policy_path)?;
    let session = load_session_verifier(&policy, policy_path)?;
    let link_signer = load_link_signer(&policy, policy_path)?;
    let data_keys = load_data_keys(&policy, policy_path)?;
    let smtp = load_smtp(&policy, policy_path)?;
    let sms = load_sms(&policy, policy_path)?;
    let options = ServeOptions {
        data_dir,
        admin_token,
        tls,
        backend_tls,
        email_hasher,
        session,
        link_signer,
        data_keys,
        smtp,
        sms,
    };
    let running = serve::start(policy, options).map_err(|e| Failure::Runtime(e.to_string()))?;
    let scheme = if running.tls { "https" } else { "http" };
    println!(
        "doorman: listening on {scheme}://{} (admin http://{})",
        running.public_addr, running.admin_addr
    );
    serve::wait_for_signal();
    running.shutdown();
    Ok(())
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
