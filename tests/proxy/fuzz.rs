//! A seeded fuzz run through the binary: requests mutated from valid page loads and checkouts
//! (byte flips; inserted CR, LF and NUL; cut and doubled header lines; contradictory framing;
//! truncations), each on a fresh connection. Doorman must not panic, must keep serving, must not
//! answer 5xx while the backend is healthy, and must not count client faults as backend errors.
//!
//! `FUZZ_SEED` replays a run (the failure message prints the seed and the case);
//! `FUZZ_CASES` sets how many requests (default 3000).

use std::time::Duration;

use crate::client_faults::{exchange, metrics, sample};
use crate::support::backend::Backend;
use crate::support::doorman::{policy, Doorman};

const BLACKLIST: &str = "[blacklist]\nhash = \"sha256\"\nmax_body_bytes = 4096\n\
    [[blacklist.checkout]]\nroute = \"POST /echo/{event}/checkout\"\nredirect = \"/echo/{event}\"\n";

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    /// A non-zero state from any seed (splitmix64), so nearby seeds give unrelated runs.
    fn seeded(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let form = "email=ada%40example.com&quantity=2";
    let json = r#"{"email": "ada@example.com", "quantity": 2}"#;
    let multipart =
        "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@example.com\r\n--b--\r\n";
    vec![
        b"GET /echo/events?page=2 HTTP/1.1\r\nhost: shop\r\naccept: text/html\r\ncookie: a=1\r\n\r\n".to_vec(),
        format!("POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}", form.len()).into_bytes(),
        format!("POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}", json.len()).into_bytes(),
        format!("POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: {}\r\n\r\n{multipart}", multipart.len()).into_bytes(),
        b"POST /echo/upload HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec(),
        b"POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n9\r\nemail=a%4\r\n9\r\n0x.org&q=\r\n0\r\n\r\n".to_vec(),
    ]
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(2) {
        let at = rng.below(bytes.len() + 1).min(bytes.len());
        match rng.below(8) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => {
                let insert: &[u8] = [&b"\r"[..], b"\n", b"\0", b"\r\n", b" "][rng.below(5)];
                bytes.splice(at..at, insert.iter().copied());
            }
            2 => bytes.truncate(at),
            3 => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 | 5 => {
                // A framing field after the request line: duplicated or contradictory.
                let field = [
                    "content-length: 0\r\n".to_owned(),
                    format!("content-length: {}\r\n", rng.below(10_000)),
                    "transfer-encoding: chunked\r\n".to_owned(),
                    "transfer-encoding: gzip, chunked\r\n".to_owned(),
                    "content-length: 5, 6\r\n".to_owned(),
                    "expect: 100-continue\r\n".to_owned(),
                ][rng.below(6)]
                .clone();
                if let Some(line_end) = bytes.windows(2).position(|w| w == b"\r\n") {
                    bytes.splice(line_end + 2..line_end + 2, field.into_bytes());
                }
            }
            6 => {
                // Double a whole header line.
                let lines: Vec<usize> =
                    bytes.windows(2).enumerate().filter(|(_, w)| *w == b"\r\n").map(|(i, _)| i).collect();
                if lines.len() > 2 {
                    let k = 1 + rng.below(lines.len() - 2);
                    let line = bytes[lines[k - 1] + 2..lines[k] + 2].to_vec();
                    bytes.splice(lines[k] + 2..lines[k] + 2, line);
                }
            }
            _ => {
                let i = at.min(bytes.len().saturating_sub(1));
                if !bytes.is_empty() {
                    bytes[i] = rng.next() as u8;
                }
            }
        }
    }
    bytes
}

#[tokio::test]
async fn mutated_requests_never_crash_doorman_nor_pass_for_backend_errors() {
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_d00d);
    let cases: usize = std::env::var("FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let backend = Backend::start();
    let mut doorman = Doorman::start(&format!("{}{BLACKLIST}", policy(&backend.url(), "", "")));
    let addr = doorman.public;
    let seeds = seeds();
    let results = tokio::task::spawn_blocking(move || {
        let mut rng = Rng::seeded(seed);
        let mut out = Vec::with_capacity(cases);
        for case in 0..cases {
            let request = mutate(&mut rng, seeds[case % seeds.len()].clone());
            let answer = exchange(addr, &request, Duration::from_secs(3));
            out.push((case, request, answer));
        }
        out
    })
    .await
    .unwrap();
    let mut statuses = std::collections::BTreeMap::new();
    for (case, request, answer) in &results {
        let text = String::from_utf8_lossy(answer);
        // The final answer's status: interim 1xx answers (100 Continue) come first.
        let status: Option<u16> = text
            .split("\r\n")
            .filter_map(|line| line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok())
            .find(|s: &u16| *s >= 200)
            .or_else(|| text.strip_prefix("HTTP/1.1 ").and_then(|t| t.get(..3)?.parse().ok()));
        *statuses.entry(status).or_insert(0) += 1;
        assert!(
            status.is_none_or(|s| s < 500),
            "seed {seed}, case {case}: {status:?} for {:?}\n{text:.300}",
            String::from_utf8_lossy(request)
        );
    }
    assert!(doorman.child.try_wait().unwrap().is_none(), "doorman exited during the run (seed {seed})");
    let (resp, _) = crate::support::client::get(&doorman.url("/echo")).await;
    assert_eq!(resp.status(), 200, "still serving after the run");
    let m = metrics(&doorman).await;
    for kind in ["connect", "timeout", "protocol"] {
        let n = sample(&m, &format!("doorman_backend_errors_total{{kind=\"{kind}\"}}"));
        assert_eq!(n, 0, "seed {seed}: {n} backend errors of kind {kind} from client faults");
    }
    assert!(!doorman.log().contains("panicked"), "a panic (seed {seed}):\n{}", doorman.log());
    eprintln!("fuzz seed {seed}, {cases} cases, answers by status: {statuses:?}");
    doorman.terminate();
    assert!(doorman.wait_exit(Duration::from_secs(10)).success());
}
