//! The wasmtime host of Doorman's edge component in tests: the very `.wasm` that `spin.toml`
//! builds, instantiated per request (pooling allocator), with `wasi:http` from
//! `wasmtime-wasi-http`, and `wasi:keyvalue` and `wasi:config` written here the way Spin provides
//! them: key-value on a real `redis-server` with keys as given, values as raw strings and
//! `INCRBY` counters (as Spin's Redis store does), config from a variable map.
//!
//! This is not a mock of Doorman: it is the runtime the component runs on, so the component's
//! own code (and the application tier inside it) is what the tests exercise.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use redis::AsyncCommands;
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

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
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

impl EdgeHost {
    /// A host on the Redis at `redis_url` with the component's `variables`.
    pub async fn new(redis_url: &str, variables: &[(&str, &str)]) -> Self {
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
            variables: variables.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            stores: vec!["default".into()],
            kv_stall: None,
            kv_down: false,
        }
    }

    /// Serves one request through a fresh instance and collects the whole answer. A trap or a
    /// guest that never answers is an `Err`.
    pub async fn handle(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>, String> {
        let state = State {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            redis: self.redis.clone(),
            variables: self.variables.clone(),
            stores: self.stores.clone(),
            kv_stall: self.kv_stall,
            kv_down: self.kv_down,
        };
        let mut store = Store::new(self.pre.engine(), state);
        // As Spin does, the host tells the component who the client is (overwriting any value a
        // client sent).
        let mut req = req;
        req.headers_mut().insert("spin-client-addr", http::HeaderValue::from_static("127.0.0.1:40000"));
        let req = req
            .map(|b| Full::new(b).map_err(|never: std::convert::Infallible| -> ErrorCode { match never {} }));
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
        // The guest may go on after its answer (audit writes): let it finish.
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("the guest trapped after answering: {e:?}")),
            Err(e) => return Err(format!("the host task failed: {e}")),
        }
        Ok(http::Response::from_parts(parts, bytes))
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
