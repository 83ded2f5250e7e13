//! Real parts for the integration tests, each on a free loopback port and stopped on drop:
//! the `doorman` binary as a child process, a real HTTP backend, Redis (one server, or a cluster
//! of six), an SMTP server, a webhook receiver, Chromium.
#![allow(dead_code)]

/// Runs each listed case of a module against the embedded store and against Redis (the cases
/// take a [`stores::StoreKind`], which the test binary's root re-exports).
#[macro_export]
macro_rules! both_stores {
    // The two modules every store list starts with (shared with `every_store!`).
    (@embedded_and_redis $module:ident: $($case:ident),*) => {
        mod embedded {
            $(#[tokio::test] async fn $case() { $crate::$module::$case($crate::StoreKind::Embedded).await; })*
        }
        mod on_redis {
            $(#[tokio::test] async fn $case() {
                $crate::$module::$case($crate::StoreKind::Redis($crate::support::redis::RedisServer::start())).await;
            })*
        }
    };
    ($module:ident => $name:ident: $($case:ident),* $(,)?) => {
        mod $name {
            $crate::both_stores!(@embedded_and_redis $module: $($case),*);
        }
    };
}

/// Like [`both_stores!`], and against a Redis Cluster too.
#[macro_export]
macro_rules! every_store {
    ($module:ident => $name:ident: $($case:ident),* $(,)?) => {
        mod $name {
            $crate::both_stores!(@embedded_and_redis $module: $($case),*);
            mod on_cluster {
                $(#[tokio::test] async fn $case() {
                    let cluster = $crate::support::redis_cluster::RedisCluster::start();
                    $crate::$module::$case($crate::StoreKind::Cluster(cluster)).await;
                })*
            }
        }
    };
}

pub mod backend;
pub mod browser;
pub mod client;
pub mod doorman;
pub mod redis;
pub mod redis_cluster;
pub mod shops;
pub mod smtp;
pub mod stores;
pub mod webhook;

/// A loopback port that serves nothing, held for the rest of the test process: a listener that
/// closes every connection at once. A port merely found free and let go could be taken by a
/// server another test starts meanwhile, and the "dead" service would answer.
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || listener.incoming().for_each(drop));
    port
}

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Frame;

/// A body fed chunk by chunk through a channel: lets tests control exactly when bytes flow.
pub struct ChannelBody(pub tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}
