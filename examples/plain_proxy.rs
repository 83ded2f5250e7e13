//! The plainest hyper reverse proxy: the reference peer `bench/proxy.sh` measures next to nginx
//! and Doorman, so the figures show what hyper itself costs on the same machine in the same run.
//!
//! One thread, one current-thread runtime, HTTP/1.1 only, hyper-util's pooled client to the
//! backend, no policy, no forwarding headers, no logging, no metrics. Not a product: it forwards
//! hop-by-hop fields, writes no `X-Forwarded-For`, and has no timeouts.
//!
//! ```sh
//! cargo run --release --example plain_proxy -- 127.0.0.1:8090 127.0.0.1:8091
//! ```

use std::net::SocketAddr;

use http::{Request, Uri};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(backend)) = (args.next(), args.next()) else {
        eprintln!("usage: plain_proxy LISTEN_ADDR BACKEND_ADDR   (e.g. 127.0.0.1:8090 127.0.0.1:8091)");
        std::process::exit(2);
    };
    let listen: SocketAddr = listen.parse().unwrap_or_else(|e| {
        eprintln!("plain_proxy: bad listen address {listen:?}: {e}");
        std::process::exit(2)
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(serve(listen, backend));
}

async fn serve(listen: SocketAddr, backend: String) {
    let listener = tokio::net::TcpListener::bind(listen).await.unwrap_or_else(|e| {
        eprintln!("plain_proxy: cannot listen on {listen}: {e}");
        std::process::exit(1)
    });
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let (client, backend) = (client.clone(), backend.clone());
        tokio::spawn(async move {
            let service = service_fn(move |mut req: Request<Incoming>| {
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                let uri: Uri = format!("http://{backend}{path}").parse().expect("a valid URI");
                *req.uri_mut() = uri;
                client.request(req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
