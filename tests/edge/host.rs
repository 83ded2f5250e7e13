//! The wasmtime host of Doorman's edge component in tests: the very `.wasm` that `spin.toml`
//! builds, instantiated per request (pooling allocator), with `wasi:http` from
//! `wasmtime-wasi-http`, and `wasi:keyvalue` and `wasi:config` written here the way Spin provides
//! them: key-value on a real `redis-server` with keys as given, values as raw strings and
//! `INCRBY` counters (as Spin's Redis store does), config from a variable map.
//!
//! This is not a mock of Doorman: it is the runtime the component runs on, so the component's
//! own code (and the application tier inside it) is what the tests exercise.
//!
//! How outgoing requests are sent is the host's choice (`EdgeHost::outgoing`): by default as
//! wasmtime-wasi-http sends them, one new TCP connection per request; `Outgoing::pooled()` sends
//! them over one keep-alive pool shared by every instance of the host, as an edge runtime
//! would. `benches/edge.rs` includes this file and measures both.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use redis::AsyncCommands;
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

mod kv {
    wasmtime::component::bindgen!({
        path: "edge/wit",
        world: "doorman:edge/imports",
        imports: { default: async },
        with: {
            "wasi:keyvalue/store.bucket": super::Bucket,
            "wasi:keyvalue/atomics.cas": super::Cas,
        },
    });
}

use kv::wasi::config::store as config;
use kv::wasi::keyvalue::{atomics, store};

/// An open bucket: which store label it came from.
pub struct Bucket;
/// A compare-and-swap handle (the component never uses one).
pub struct Cas;

/// Where the built component is (`spin.toml`'s `source`).
pub fn component_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/wasm32-wasip2/edge/doorman_edge.wasm")
}

/// The engine and the compiled component, once per test binary.
fn compiled() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let path = component_path();
        assert!(
            path.exists(),
            "{} is missing: build it with the command in spin.toml (bash .ci/run does)",
            path.display()
        );
        let mut config = Config::new();
        config.allocation_strategy(InstanceAllocationStrategy::pooling());
        let engine = Engine::new(&config).expect("a wasmtime engine");
        let component = Component::from_file(&engine, &path).expect("the component compiles");
        (engine, component)
    })
}

/// The component, ready to serve requests with the given variables on the given Redis.
pub struct EdgeHost {
    pre: ProxyPre<State>,
    redis: redis::aio::ConnectionManager,
    variables: HashMap<String, String>,
    /// Labels the component may open (Spin: the component's `key_value_stores`).
    pub stores: Vec<String>,
    /// When set, every key-value call waits this long first (a stalled store).
    pub kv_stall: Option<Duration>,
    /// When set, every key-value call fails as a store that is down does.
    pub kv_down: bool,
    /// How the component's outgoing requests are sent.
    pub outgoing: Outgoing,
    /// The `spin-client-addr` the host gives every request, as Spin does (`None`: a platform
    /// that gives none).
    pub client_addr: Option<http::HeaderValue>,
    /// What the component wrote to standard error (Spin's log of it), every instance's.
    log: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
}

/// How the component's outgoing `wasi:http` requests are sent (`WasiHttpHooks::send_request`).
#[derive(Clone, Default)]
pub enum Outgoing {
    /// wasmtime-wasi-http's default outgoing handler: a new TCP connection for every request.
    #[default]
    PerRequest,
    /// hyper-util's legacy `Client` with keep-alive, one pool shared by every instance of the
    /// host (`http://` only; `https://` goes the default way). The guest's connect and
    /// first-byte timeouts bound the whole exchange; the between-bytes timeout is not applied.
    Pooled(std::sync::Arc<PooledClient>),
}

/// The keep-alive client behind `Outgoing::Pooled`.
pub type PooledClient = hyper_util::client::legacy::Client<HttpConnector, WasiBody>;

impl Outgoing {
    /// A fresh keep-alive pool (call it inside the tokio runtime that serves the requests).
    #[allow(dead_code)] // used by benches/edge.rs
    pub fn pooled() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Self::Pooled(std::sync::Arc::new(client))
    }
}

/// The `wasi:http` hooks of one instance: only `send_request` differs from the defaults.
struct Hooks {
    outgoing: Outgoing,
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        match &self.outgoing {
            Outgoing::Pooled(client) if request.uri().scheme() == Some(&http::uri::Scheme::HTTP) => {
                Box::new(pooled_send(std::sync::Arc::clone(client), request, options))
            }
            _ => Box::new(async move {
                let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
                Ok((
                    response.map(BodyExt::boxed_unsync),
                    Box::new(io) as Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
                ))
            }),
        }
    }
}

/// One request over the shared pool, with the error codes the default handler gives.
async fn pooled_send(
    client: std::sync::Arc<PooledClient>,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)> {
    use wasmtime_wasi_http::Error;
    let connect = options.and_then(|o| o.connect_timeout).unwrap_or(Duration::from_secs(600));
    let first_byte = options.and_then(|o| o.first_byte_timeout).unwrap_or(Duration::from_secs(600));
    let response = match tokio::time::timeout(connect + first_byte, client.request(request)).await {
        Err(_) => return Err(Error::ConnectionReadTimeout),
        Ok(Err(e)) if e.is_connect() => return Err(Error::ConnectionRefused),
        Ok(Err(e)) => {
            return Err(match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<hyper::Error>()) {
                Some(h) if h.is_timeout() => Error::HttpResponseTimeout,
                _ => Error::HttpProtocolError,
            })
        }
        Ok(Ok(response)) => response,
    };
    let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
    Ok((response, Box::new(async { Ok(()) })))
}

/// Per-request state of one instance.
pub struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    redis: redis::aio::ConnectionManager,
    variables: HashMap<String, String>,
    stores: Vec<String>,
    kv_stall: Option<Duration>,
    kv_down: bool,
    hooks: Hooks,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// What the component may read of `given`, as `spin.toml` grants it.
fn granted(given: &[(&str, &str)]) -> HashMap<String, String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spin.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let declared = manifest["variables"].as_table().unwrap();
    let grants = manifest["component"]["doorman"]["variables"].as_table().unwrap();
    grants
        .keys()
        .filter_map(|name| {
            let value = given.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_string());
            let default = declared.get(name).and_then(|d| d.get("default")).and_then(|d| d.as_str());
            value.or(default.map(str::to_owned)).map(|v| (name.clone(), v))
        })
        .collect()
}

/// The compiled form of a policy TOML, as `doorman compile-policy` prints it for the
/// component's `policy` variable.
pub fn compiled_policy(policy_toml: &str) -> String {
    doorman::core::policy::compile_toml("test policy", policy_toml).expect("the test's policy compiles")
}

impl EdgeHost {
    /// A host on the Redis at `redis_url` with the component's `variables`, granted as Spin
    /// grants them: only those `spin.toml` gives the component (the others are dropped, as Spin
    /// drops environment variables no manifest declares), and a declared default for those unset.
    pub async fn new(redis_url: &str, variables: &[(&str, &str)]) -> Self {
        let variables = granted(variables);
        let (engine, component) = compiled();
        let mut linker: Linker<State> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("wasi links");
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("wasi:http links");
        kv::Imports::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .expect("keyvalue and config link");
        let pre = ProxyPre::new(linker.instantiate_pre(component).expect("every import is provided"))
            .expect("the component exports wasi:http/incoming-handler");
        let client = redis::Client::open(redis_url).expect("a redis url");
        let redis = client.get_connection_manager().await.expect("redis answers");
        Self {
            pre,
            redis,
            variables,
            stores: vec!["default".into()],
            kv_stall: None,
            kv_down: false,
            outgoing: Outgoing::default(),
            client_addr: Some(http::HeaderValue::from_static("127.0.0.1:40000")),
            log: wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(64 << 20),
        }
    }

    /// What the component has written to standard error so far.
    #[allow(dead_code)] // used by some test modules only
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.contents()).into_owned()
    }

    /// The state of a fresh instance.
    fn state(&self) -> State {
        State {
            wasi: WasiCtx::builder().stderr(self.log.clone()).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            redis: self.redis.clone(),
            variables: self.variables.clone(),
            stores: self.stores.clone(),
            kv_stall: self.kv_stall,
            kv_down: self.kv_down,
            hooks: Hooks { outgoing: self.outgoing.clone() },
        }
    }

    /// A new store and instance, as every request gets, dropped at once (what instantiation
    /// costs on its own).
    #[allow(dead_code)] // used by benches/edge.rs
    pub async fn instantiate(&self) -> wasmtime::Result<()> {
        let mut store = Store::new(self.pre.engine(), self.state());
        self.pre.instantiate_async(&mut store).await.map(drop)
    }

    /// Serves one request through a fresh instance and collects the whole answer. A trap or a
    /// guest that never answers is an `Err`.
    pub async fn handle(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>, String> {
        let (response, rest) = self.answer(req).await?;
        rest.finish().await?;
        Ok(response)
    }

    /// Serves one request through a fresh instance and collects the whole answer, as the client
    /// has it; what the guest does after answering (audit writes) is in `Rest`.
    pub async fn answer(&self, req: http::Request<Bytes>) -> Result<(http::Response<Bytes>, Rest), String> {
        let req = req
            .map(|b| Full::new(b).map_err(|never: std::convert::Infallible| -> ErrorCode { match never {} }));
        self.answer_body(req).await
    }

    /// Like [`EdgeHost::handle`], with a request body of any kind (one that breaks off, say).
    pub async fn handle_body<B>(&self, req: http::Request<B>) -> Result<http::Response<Bytes>, String>
    where
        B: hyper::body::Body<Data = Bytes, Error = ErrorCode> + Send + 'static,
    {
        let (response, rest) = self.answer_body(req).await?;
        rest.finish().await?;
        Ok(response)
    }

    async fn answer_body<B>(&self, req: http::Request<B>) -> Result<(http::Response<Bytes>, Rest), String>
    where
        B: hyper::body::Body<Data = Bytes, Error = ErrorCode> + Send + 'static,
    {
        let mut store = Store::new(self.pre.engine(), self.state());
        // As Spin does, the host tells the component who the client is (overwriting any value a
        // client sent).
        let mut req = req;
        match &self.client_addr {
            Some(addr) => req.headers_mut().insert("spin-client-addr", addr.clone()),
            None => req.headers_mut().remove("spin-client-addr"),
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming =
            store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(|e| e.to_string())?;
        let out = store.data_mut().http().new_response_outparam(sender).map_err(|e| e.to_string())?;
        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, out).await
        });
        let response = match receiver.await {
            Ok(Ok(response)) => response,
            Ok(Err(code)) => return Err(format!("the guest answered an error: {code:?}")),
            Err(_) => {
                return Err(match task.await {
                    Ok(Ok(())) => "the guest never answered".to_string(),
                    Ok(Err(e)) => format!("the guest trapped: {e:?}"),
                    Err(e) => format!("the host task failed: {e}"),
                })
            }
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map_err(|e| format!("the answer's body failed: {e:?}"))?.to_bytes();
        Ok((http::Response::from_parts(parts, bytes), Rest(task)))
    }
}

/// The rest of an instance's work after its answer.
pub struct Rest(tokio::task::JoinHandle<wasmtime::Result<()>>);

impl Rest {
    /// Waits for the guest to finish; a trap after answering is an `Err`.
    pub async fn finish(self) -> Result<(), String> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("the guest trapped after answering: {e:?}")),
            Err(e) => Err(format!("the host task failed: {e}")),
        }
    }
}

// === wasi:keyvalue, as Spin's Redis store provides it ===

fn other(e: impl std::fmt::Display) -> store::Error {
    store::Error::Other(e.to_string())
}

/// Waits `stall` first, when set (a stalled store); fails when the store is `down`.
async fn stall(stall: Option<Duration>, down: bool) -> Result<(), store::Error> {
    if let Some(d) = stall {
        tokio::time::sleep(d).await;
    }
    if down {
        return Err(other("connection refused (the store is down)"));
    }
    Ok(())
}

impl store::Host for State {
    async fn open(&mut self, identifier: String) -> Result<Resource<Bucket>, store::Error> {
        if !self.stores.contains(&identifier) {
            return Err(store::Error::AccessDenied);
        }
        self.table.push(Bucket).map_err(other)
    }
}

impl store::HostBucket for State {
    async fn get(&mut self, _b: Resource<Bucket>, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        stall(self.kv_stall, self.kv_down).await?;
        self.redis.get(key).await.map_err(other)
    }

    async fn set(&mut self, _b: Resource<Bucket>, key: String, value: Vec<u8>) -> Result<(), store::Error> {
        stall(self.kv_stall, self.kv_down).await?;
        self.redis.set(key, value).await.map_err(other)
    }

    async fn delete(&mut self, _b: Resource<Bucket>, key: String) -> Result<(), store::Error> {
        stall(self.kv_stall, self.kv_down).await?;
        self.redis.del(key).await.map_err(other)
    }

    async fn exists(&mut self, _b: Resource<Bucket>, key: String) -> Result<bool, store::Error> {
        stall(self.kv_stall, self.kv_down).await?;
        self.redis.exists(key).await.map_err(other)
    }

    async fn list_keys(
        &mut self,
        _b: Resource<Bucket>,
        _cursor: Option<String>,
    ) -> Result<store::KeyResponse, store::Error> {
        Err(other("list-keys is not offered by this host"))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for State {
    async fn increment(
        &mut self,
        _b: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> Result<i64, store::Error> {
        stall(self.kv_stall, self.kv_down).await?;
        self.redis.incr(key, delta).await.map_err(other)
    }

    async fn swap(&mut self, _cas: Resource<Cas>, _value: Vec<u8>) -> Result<(), atomics::CasError> {
        Err(atomics::CasError::StoreError(other("compare-and-swap is not offered by this host")))
    }
}

impl atomics::HostCas for State {
    async fn new(&mut self, _b: Resource<Bucket>, _key: String) -> Result<Resource<Cas>, store::Error> {
        Err(other("compare-and-swap is not offered by this host"))
    }

    async fn current(&mut self, _cas: Resource<Cas>) -> Result<Option<Vec<u8>>, store::Error> {
        Err(other("compare-and-swap is not offered by this host"))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

// === wasi:config, as Spin's variables provide it ===

impl config::Host for State {
    async fn get(&mut self, key: String) -> Result<Option<String>, config::Error> {
        Ok(self.variables.get(&key).cloned())
    }

    async fn get_all(&mut self) -> Result<Vec<(String, String)>, config::Error> {
        Ok(self.variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}
