//! Starting and stopping a whole Doorman: store, workers, admin listener.
//!
//! [`start`] binds everything before it returns (so callers can print or test the real
//! addresses), and [`Running::shutdown`] stops accepting, drains in-flight requests up to the
//! policy's grace period, and joins every thread.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::adapters::mail::{FileMailer, SmtpMailer};
use crate::adapters::sms::WebhookGateway;
use crate::adapters::store::AnyStore;
use crate::adapters::store::StoreFactory;
use crate::app::admin::{Admin, BlacklistAdmin};
use crate::app::outbox::Sender;
use crate::app::vault::{KeysProblem, Vault};
use crate::app::waitlist::usecases::offers::EXPIRY_SWEEP_EVERY;
use crate::app::{assemble, AppSpec, Lifecycle, Ports, SpecError};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::email_hash::EmailHasher;
use crate::core::policy::{MailTransport, Policy};
use crate::core::waitlist::link::Signer;
use crate::hosts::admin::{self, AdminState, AdminToken};
use crate::hosts::layer::{DoormanLayer, TokioTasks};
use crate::hosts::metrics::Metrics;
use crate::hosts::proxy::server::{self, WorkerContext};
use crate::ports::mail::Mailer;
use crate::ports::sms::SmsGateway;
use crate::ports::store::StoreError;

/// What [`start`] needs besides the policy.
#[derive(Clone)]
pub struct ServeOptions {
    /// Folder of the embedded store.
    pub data_dir: PathBuf,
    /// The operator token for the admin API.
    pub admin_token: Option<AdminToken>,
    /// TLS for the public listener (built by the caller from the policy's files).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// TLS towards an `https://` backend (built by the caller from the policy).
    pub backend_tls: Option<crate::hosts::proxy::tls::BackendConnector>,
    /// How guest e-mail addresses are hashed (required when the policy has a blacklist).
    pub email_hasher: Option<EmailHasher>,
    /// Verifies session-cookie JWTs, when the policy's blacklist names a session cookie.
    pub session: Option<SessionVerifier>,
    /// Signs the waitlist's links and forms (required when the policy has a waitlist).
    pub link_signer: Option<Signer>,
    /// The data keys the waitlist seals personal data with (required when the policy has a
    /// waitlist).
    pub data_keys: Option<Vault>,
    /// The SMTP transport, when the waitlist mails through SMTP (built with its secrets by the
    /// caller).
    pub smtp: Option<SmtpMailer>,
    /// The SMS webhook, when the waitlist sends text messages (built with its token by the
    /// caller).
    pub sms: Option<Arc<WebhookGateway>>,
}

/// How the outbox's messages leave this node: mail, text messages, and the first retry's delay.
struct Couriers {
    mailer: Arc<dyn Mailer>,
    sms: Option<Arc<dyn SmsGateway>>,
    retry_after: Duration,
}

/// Why Doorman could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the policy.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The policy has a blacklist but no e-mail hasher was given.
    #[error("the blacklist needs an e-mail hash key (DOORMAN_HASH_KEY or blacklist.hash_key_file)")]
    NoHasher,
    /// The policy has a waitlist but no link key was given.
    #[error("the waitlist needs a link key (DOORMAN_LINK_KEY or waitlist.link_key_file)")]
    NoLinkKey,
    /// The policy has a waitlist but no data key was given.
    #[error("the waitlist needs a data key (DOORMAN_DATA_KEY or waitlist.data_key_file)")]
    NoDataKey,
    /// The data keys do not open what the store holds.
    #[error(transparent)]
    DataKeys(#[from] KeysProblem),
    /// The mail outbox folder cannot be used.
    #[error("cannot use the mail outbox {0}")]
    Outbox(String),
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// A started Doorman.
pub struct Running {
    /// The public address actually bound.
    pub public_addr: SocketAddr,
    /// The admin address actually bound.
    pub admin_addr: SocketAddr,
    /// Whether the public listener speaks TLS.
    pub tls: bool,
    stop: watch::Sender<bool>,
    draining: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Opens the store, binds both listeners and starts the workers and the admin listener.
pub fn start(policy: Policy, options: ServeOptions) -> Result<Running, StartError> {
    let policy = Arc::new(policy);
    let stores = StoreFactory::open(&policy.store, &options.data_dir)?;
    let metrics = Metrics::new();
    let workers = match policy.server.workers {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n as usize,
    };
    let bind_err = |addr| move |source| StartError::Bind { addr, source };
    let public = server::bind(policy.server.listen, workers).map_err(bind_err(policy.server.listen))?;
    let admin_listener = std::net::TcpListener::bind(policy.server.admin_listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(bind_err(policy.server.admin_listen))?;
    let public_addr = public[0].local_addr().map_err(bind_err(policy.server.listen))?;
    let admin_addr = admin_listener.local_addr().map_err(bind_err(policy.server.admin_listen))?;

    let (stop, stop_rx) = watch::channel(false);
    let draining = Arc::new(AtomicBool::new(false));
    let blacklist_admin = match (&policy.blacklist, &options.email_hasher) {
        (Some(b), Some(hasher)) => {
            Some(BlacklistAdmin { hasher: hasher.clone(), rules: b.rules, hash_accounts: b.hash_accounts })
        }
        _ => None,
    };
    let data_keys = options.data_keys.clone().unwrap_or_default();
    let spec = AppSpec::from_policy(
        &policy,
        options.email_hasher,
        options.session,
        options.link_signer,
        options.data_keys,
    )
    .map_err(|e| match e {
        SpecError::NoHasher => StartError::NoHasher,
        SpecError::NoLinkKey => StartError::NoLinkKey,
        SpecError::NoDataKey => StartError::NoDataKey,
    })?;
    if policy.waitlist.is_some() {
        check_data_keys(&stores, &data_keys)?;
    }
    let couriers = match &policy.waitlist {
        None => None,
        Some(w) => {
            let mailer = match &w.mail {
                MailTransport::File { dir } => {
                    let dir = options.data_dir.join(dir);
                    let mailer = FileMailer::new(&dir)
                        .map_err(|e| StartError::Outbox(format!("{}: {e}", dir.display())))?;
                    tracing::info!(outbox = %dir.display(), "waitlist mail goes to a folder of .eml files");
                    Arc::new(mailer) as Arc<dyn Mailer>
                }
                MailTransport::Smtp(smtp) => {
                    let mailer =
                        options.smtp.ok_or(StartError::Outbox("the SMTP transport was not set up".into()))?;
                    tracing::info!(server = %format!("{}:{}", smtp.host, smtp.port), "waitlist mail goes through SMTP");
                    Arc::new(mailer) as Arc<dyn Mailer>
                }
            };
            let sms = match &w.sms {
                None => None,
                Some(policy) => {
                    let gateway = options
                        .sms
                        .clone()
                        .ok_or(StartError::Outbox("the SMS webhook was not set up".into()))?;
                    tracing::info!(webhook = %policy.url, "waitlist text messages go through the SMS webhook");
                    Some(gateway as Arc<dyn SmsGateway>)
                }
            };
            Some(Couriers { mailer, sms, retry_after: w.retry_after })
        }
    };
    let admin_spec = spec.clone();
    let make_layer = {
        let (stores, metrics) = (stores.clone(), metrics.clone());
        move || -> Result<DoormanLayer<AnyStore>, StoreError> {
            Ok(DoormanLayer::from_spec(spec.clone(), stores.connect()?)
                .events(Arc::new(metrics.clone()))
                .build())
        }
    };
    let tls = options.tls.is_some();
    let ctx = WorkerContext {
        policy: policy.clone(),
        metrics: metrics.clone(),
        make_layer: Arc::new(make_layer),
        tls: options.tls,
        backend_tls: options.backend_tls,
    };
    let mut threads = server::spawn_workers(public, ctx, stop_rx.clone()).map_err(StartError::Thread)?;

    let admin_stores = stores.clone();
    let admin_draining = draining.clone();
    let admin_events = metrics.clone();
    let admin_state = move || -> Result<AdminState, StoreError> {
        let ports = Ports::new(admin_stores.connect()?, Arc::new(TokioTasks))
            .with_events(Arc::new(admin_events))
            .with_vault(data_keys);
        // The admin API's offers run in the same waitlist and blacklist the workers serve.
        let app = Arc::new(assemble(&admin_spec, ports.clone(), Lifecycle::Resident));
        Ok(AdminState {
            admin: Arc::new(Admin::new(ports, blacklist_admin).with_app(app)),
            metrics,
            token: options.admin_token,
            draining: admin_draining,
        })
    };
    let admin_thread = std::thread::Builder::new()
        .name("doorman-admin".into())
        .spawn(move || run_admin(admin_listener, admin_state, couriers, stop_rx))
        .map_err(StartError::Thread)?;
    threads.push(admin_thread);
    tracing::info!(%public_addr, %admin_addr, workers, backend = %policy.backend.url, "doorman started");
    Ok(Running { public_addr, admin_addr, tls, stop, draining, threads })
}

/// Checks that the data keys open what the store holds, and registers the sealing one, before
/// anything is sealed ([`crate::app::vault::check_and_register`]). A store that does not answer
/// within a few seconds is not fatal (as everywhere at start-up): the check is then skipped,
/// with a warning, and a record this node cannot open answers 503 and is never overwritten.
fn check_data_keys(stores: &StoreFactory, vault: &Vault) -> Result<(), StartError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(StartError::Thread)?;
    let checked = runtime.block_on(async {
        let store = stores.connect()?;
        let check = crate::app::vault::check_and_register(&store, vault);
        match tokio::time::timeout(Duration::from_secs(5), check).await {
            Ok(checked) => checked,
            Err(_) => Err(StoreError::Unavailable("no answer within 5 s".into())),
        }
    });
    match checked {
        Ok(Ok(())) => {
            let ids: Vec<String> = vault.ids().iter().map(|k| k.hex()).collect();
            tracing::info!(data_keys = %ids.join(","), "personal data is sealed with the first data key");
            Ok(())
        }
        Ok(Err(problem)) => Err(problem.into()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot check the data keys against the store now; records sealed with other keys answer 503");
            Ok(())
        }
    }
}

/// Drains the mail outbox every second until `stop`, then once more; counts what each pass did.
async fn send_mail(
    sender: Sender<AnyStore>,
    mailer: Arc<dyn Mailer>,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let drained = sender.drain(&*mailer).await;
        if let Ok(d) = &drained {
            metrics.outbox_drained(d.sent, d.retried, d.failed);
        }
        match drained {
            Ok(d) if d.sent + d.retried + d.failed > 0 => {
                tracing::debug!(sent = d.sent, retried = d.retried, failed = d.failed, "outbox drained");
                continue; // more may be waiting
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: store unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    let _ = sender.drain(&*mailer).await;
}

/// Logs what the store promises about acknowledged writes once it answers (a warning when a
/// restart of it could lose some); tries for a minute.
async fn report_durability(store: AnyStore) {
    for _ in 0..60 {
        match store.durability().await {
            Ok(d) if d.safe => return tracing::info!(store = store.kind(), level = d.level, "{}", d.detail),
            Ok(d) => return tracing::warn!(store = store.kind(), level = d.level, "{}", d.detail),
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Deletes the keys edge instances wrote with a lifetime once it has passed
/// ([`crate::app::sweep`]), a pass every [`crate::app::sweep::SWEEP_EVERY`]; and builds the
/// identity index again if the store lost it (a Redis emptied or restarted without persistence),
/// so the edge finds its store again within a pass.
async fn sweep_edge_keys(store: AnyStore, index: bool) {
    use crate::app::Clock;
    let mut tick = tokio::time::interval(crate::app::sweep::SWEEP_EVERY);
    tick.tick().await; // the first tick is now: start-up settles the store first
    loop {
        tick.tick().await;
        if index {
            match crate::app::blacklist::index::rebuild_if_lost(&store).await {
                Ok(Some(built)) if !built.already => {
                    tracing::warn!(
                        identities = built.indexed,
                        "the blacklist identity index was missing: built again"
                    )
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "checking the blacklist identity index failed; next pass")
                }
            }
        }
        match crate::app::sweep::sweep_expired(&store, crate::app::SystemClock.unix_ms()).await {
            Ok(swept) if swept.expired > 0 => {
                tracing::info!(expired = swept.expired, pending = swept.pending, "edge-written keys swept")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweeping edge-written keys failed; trying again next pass"),
        }
    }
}

/// Runs `pass` every `period`, the first time after `first_after`; a pass that overruns delays
/// the next rather than stacking them.
async fn every<F, Fut>(first_after: Duration, period: Duration, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    tokio::time::sleep(first_after).await;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        pass().await;
    }
}

/// Anonymises the signups whose retention is over, once an hour (the first pass a minute after
/// start).
async fn forget_due(admin: Arc<Admin<AnyStore>>) {
    every(Duration::from_secs(60), RETENTION_SWEEP_EVERY, || async {
        match admin.forget_due().await {
            Ok(done) if done.signups + done.messages > 0 => {
                tracing::info!(
                    events = done.events,
                    signups = done.signups,
                    messages = done.messages,
                    "retention pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the retention pass failed; trying again next hour"),
        }
    })
    .await
}

/// How often a node anonymises what is past retention.
const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Queues the messages to whole lists that are due, every [`BROADCAST_PASS_EVERY`].
async fn send_broadcasts(admin: Arc<Admin<AnyStore>>) {
    every(Duration::ZERO, BROADCAST_PASS_EVERY, || async {
        match admin.send_broadcasts().await {
            Ok(done) if done.mails + done.finished > 0 => {
                tracing::info!(
                    mails = done.mails,
                    finished = done.finished,
                    "messages to whole lists queued"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "sending messages to whole lists failed; trying again shortly")
            }
        }
    })
    .await
}

/// How often a node looks for messages to whole lists that are due (a message "now" goes
/// within this).
const BROADCAST_PASS_EVERY: Duration = Duration::from_secs(5);

/// Ends the offers whose time ran out, once a minute (their seats passed on in automatic mode).
async fn expire_offers(admin: Arc<Admin<AnyStore>>) {
    every(Duration::ZERO, EXPIRY_SWEEP_EVERY, || async {
        match admin.expire_offers().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(ended = n, "waitlist offers expired"),
            Err(e) => tracing::warn!(error = %e, "expiring waitlist offers failed; trying again next minute"),
        }
    })
    .await
}

fn run_admin(
    listener: std::net::TcpListener,
    state: impl FnOnce() -> Result<AdminState, StoreError>,
    couriers: Option<Couriers>,
    mut stop: watch::Receiver<bool>,
) {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async move {
        let state = match state() {
            Ok(s) => s,
            Err(e) => return tracing::error!(error = %e, "admin listener cannot reach the store"),
        };
        let metrics = state.metrics.clone();
        tokio::spawn(report_durability(state.admin.ports.store.clone()));
        if state.admin.blacklist.is_some() {
            let admin = state.admin.clone();
            state.admin.set_entries_moving(true);
            let mover = tokio::spawn(async move { admin.settle_key_layout().await });
            let _ = tokio::time::timeout(crate::app::admin::LAYOUT_WAIT, mover).await;
        }
        tokio::spawn(sweep_edge_keys(state.admin.ports.store.clone(), state.admin.blacklist.is_some()));
        tokio::spawn(expire_offers(state.admin.clone()));
        tokio::spawn(forget_due(state.admin.clone()));
        tokio::spawn(send_broadcasts(state.admin.clone()));
        let mail_task = couriers.map(|couriers| {
            let mut sender = Sender::new(&state.admin.ports).retry_after(couriers.retry_after);
            if let Some(gateway) = couriers.sms {
                sender = sender.sms_gateway(gateway);
            }
            tokio::spawn(send_mail(sender, couriers.mailer, metrics.clone(), stop.clone()))
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.upkeep();
            }
        });
        let listener = tokio::net::TcpListener::from_std(listener).expect("a bound listener registers");
        let app = admin::router(state);
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "admin listener failed");
        }
        if let Some(task) = mail_task {
            let _ = task.await;
        }
    });
}

impl Running {
    /// Stops accepting, finishes in-flight requests (up to the grace period) and joins all threads.
    pub fn shutdown(self) {
        self.draining.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        for t in self.threads {
            let _ = t.join();
        }
        tracing::info!("doorman stopped");
    }
}

/// Waits for SIGTERM or SIGINT.
pub fn wait_for_signal() {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    });
}
