#!/usr/bin/env bash
# Edge benchmark: the WebAssembly component under the release wasmtime test host
# (tests/edge/host.rs) beside the native tower layer, in one run (benches/edge.rs).
#
# Builds the component (spin.toml's command) and the benchmark in release, starts redis-server
# and the loopback backend (the benchmark binary with --serve-backend) on CPU 0, runs the
# benchmark (host, component and native layer: one thread) on CPU 1, and stops what it started
# by PID. Output: markdown on stdout and in bench/results/edge-latest.md.
#
#   bench/edge.sh                          # 2000 requests per row (~30 s once built)
#   SAMPLES=500 bench/edge.sh              # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${SAMPLES:-2000}
WARMUP=${WARMUP:-200}
ROUNDS=${ROUNDS:-4}
OUT=${OUT:-bench/results/edge-latest.md}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
TIMEOUT=${TIMEOUT:-170}

command -v redis-server >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

echo "building the component and the benchmark (release; the first wasmtime build takes minutes)" >&2
cargo build --locked -p doorman-edge --target wasm32-wasip2 --profile edge >&2
bin=$(cargo build --locked --release --bench edge --message-format=json |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "edge" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { cargo build --locked --release --bench edge >&2; echo "no benchmark binary" >&2; exit 1; }

work=$(mktemp -d)
redis_pid=""
backend_pid=""
cleanup() {
  [ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2; exit 1
}

redis_port=$(free_port)
taskset -c "$SERVER_CPU" redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --dir "$work" >/dev/null &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
backend_port=$(free_port)
taskset -c "$SERVER_CPU" "$bin" --serve-backend --port "$backend_port" &
backend_pid=$!
wait_port "$backend_port"

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src edge tests/edge benches Cargo.toml Cargo.lock 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo "# Edge benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)"
  echo "- commit: $commit; $(rustc --version); wasmtime 48.0.8 (release host, pooling allocator)"
  echo "- $(redis-server --version | cut -d' ' -f1-3) and the hyper backend on CPU $SERVER_CPU; the benchmark (host, component, native layer; one thread) on CPU $BENCH_CPU"
  echo
  # The guest's own log lines (one per request of the "no policy" row) go to a file.
  taskset -c "$BENCH_CPU" timeout "$TIMEOUT" "$bin" --redis "redis://127.0.0.1:$redis_port/" \
    --backend "http://127.0.0.1:$backend_port" --samples "$SAMPLES" --warmup "$WARMUP" --rounds "$ROUNDS" \
    2>"$work/bench.err" || { tail -20 "$work/bench.err" >&2; exit 1; }
} | tee "$OUT"
