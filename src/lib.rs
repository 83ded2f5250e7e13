//! Doorman: edge middleware for ticket shops.
//!
//! It sits in front of a ticketing webshop, forwards what it does not handle itself to the
//! ticketing backend, and runs as a reverse proxy, as a tower layer, or (later) as a WebAssembly
//! component. See `ARCHITECTURE.md` for the map of this crate.
//!
//! - [`core`]: the sans-I/O rules (policy, forwarding headers). No sockets, files or runtime.
//! - [`app`]: the flows (the checkout, the audit log), runtime-free, shared by every host.
//! - [`ports`]: the traits the core and the app need from the world (store, clock, tasks, ...).
//! - [`testkit`]: ports tests drive by hand (a manual clock, seeded randomness, an in-memory store).
//! - `adapters`: store implementations (embedded redb file, Redis).
//! - `hosts`: the tower layer, the reverse-proxy server, the admin API, the demo and the CLI.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod core;
pub mod ports;
pub mod testkit;

#[cfg(feature = "native")]
pub mod adapters;
#[cfg(feature = "native")]
pub mod demo;
#[cfg(feature = "native")]
pub mod hosts;

#[cfg(test)]
mod layering {
    //! The layers' import rules, checked on the sources (CI's `wasm32-wasip2` build checks that
    //! no runtime reaches `core`, `ports`, `app` and `testkit`; this checks the rest).

    use std::path::Path;

    /// Every `.rs` file under `dir`, with its text up to its test module (tests may use more).
    fn sources(dir: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)];
        while let Some(path) = stack.pop() {
            for entry in std::fs::read_dir(&path).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.split("\n#[cfg(test)]\nmod tests").next().unwrap_or_default();
                    let code: String = code
                        .lines()
                        .filter(|l| !l.trim_start().starts_with("//"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.push((path.display().to_string(), code));
                }
            }
        }
        out
    }

    fn forbid(dir: &str, names: &[&str], whole_files: bool) {
        for (file, code) in sources(dir) {
            let text = if whole_files { std::fs::read_to_string(&file).unwrap() } else { code };
            for name in names {
                let used = text.lines().any(|l| !l.trim_start().starts_with("//") && l.contains(name));
                assert!(!used, "{file} uses {name}");
            }
        }
    }

    #[test]
    fn each_layer_imports_only_what_it_may() {
        let runtimes = ["tokio", "hyper::", "redis::", "redb::", "wasmtime", "axum"];
        let outer = ["crate::hosts", "crate::adapters", "crate::demo"];
        forbid("core", &["crate::app", "crate::ports", "crate::testkit"], true);
        forbid("core", &runtimes, false);
        forbid("core", &outer, true);
        forbid("ports", &["crate::app", "crate::testkit"], true);
        forbid("ports", &outer, true);
        forbid("app", &outer, true);
        forbid("app", &runtimes, true);
        forbid("testkit", &outer, true);
        forbid("testkit", &runtimes, true);
        // The waitlist's use cases know nothing of pages, forms or cookies.
        forbid("app/waitlist/usecases", &["web::", "request::Parts", "Response<", "askama"], false);
    }
}
