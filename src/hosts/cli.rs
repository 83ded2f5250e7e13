//! The `doorman` command line: `serve`, `check-policy`, `demo`.
//!
//! Exit status: 0 on success, 2 for an unusable policy or secret (the message names the file,
//! the field and what is wrong), 1 when starting fails for another reason (a port in use).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    let running = serve::start(policy, ServeOptions { data_dir, admin_token, tls })
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
