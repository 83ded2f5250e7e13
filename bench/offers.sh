#!/usr/bin/env bash
# Freed-seats benchmark (benches/offers.rs): an event with SIGNUPS (100000) confirmed signups,
# then reports of freed seats through the waitlist's use case, on Redis and on the embedded
# store, each against the store's own floor for the same round trips (the peer, same run). The
# benchmark on CPU 0, Redis on CPU 1. Starts and stops (by PID) its own redis-server.
#
#   bench/offers.sh
#   SIGNUPS=20000 REPORTS=100 bench/offers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIGNUPS=${SIGNUPS:-100000}
REPORTS=${REPORTS:-300}
OUT=${OUT:-bench/results/offers-latest.md}

command -v redis-server >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
cargo bench --bench offers --no-run >&2 2>/dev/null
bench=$(ls -t target/release/deps/offers-* | grep -v '\.d$' | head -1)

work=$(mktemp -d)
redis=""
cleanup() { [ -n "$redis" ] && kill "$redis" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 1 redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" >/dev/null &
redis=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

{
  echo "# Freed seats: $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  for store in "redis://127.0.0.1:$port/" embedded; do
    taskset -c 0 "$bench" --signups "$SIGNUPS" --reports "$REPORTS" --store "$store"
    echo
  done
} | tee "$OUT"
