#!/usr/bin/env bash
# Blacklist benchmark: the checkout decision and the latency a checkout adds, with N entries on
# the embedded store and on Redis. Starts its own redis-server on a free loopback port and stops
# it by PID. Output: markdown on stdout and in bench/results/blacklist-latest.md.
#
#   bench/blacklist.sh                     # 1M and 10M entries, both stores
#   SIZES="100000" bench/blacklist.sh      # a quick look
#   STORES=redis bench/blacklist.sh        # only Redis
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000000 10000000"}
SAMPLES=${SAMPLES:-10000}
ROUNDS=${ROUNDS:-5}
STORES=${STORES:-"embedded redis"}
OUT=${OUT:-bench/results/blacklist-latest.md}
CPU=${CPU:-1}

command -v redis-server >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
cargo build --release --bench blacklist >&2 2>/dev/null || true
bin=$(ls -t target/release/deps/blacklist-* 2>/dev/null | grep -v '\.d$' | head -1)
[ -x "$bin" ] || { cargo bench --bench blacklist --no-run >&2; bin=$(ls -t target/release/deps/blacklist-* | grep -v '\.d$' | head -1); }

work=$(mktemp -d)
redis_pid=""
cleanup() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" >/dev/null &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

{
  echo "# Blacklist benchmark"
  echo
  echo "- date: $(date -u)"
  echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)"
  echo "- $(redis-server --version | cut -d' ' -f1-3), on CPU 0; the benchmark (one thread) on CPU $CPU"
  echo "- $ROUNDS rounds of $SAMPLES requests per kind, the kinds taking turns; sequential, in-process through the Doorman layer around a trivial inner service; figures are medians over the rounds"
  echo
  for n in $SIZES; do
    for store in $STORES; do
      [ "$store" = redis ] && store="redis://127.0.0.1:$port/"
      redis-cli -p "$port" flushall >/dev/null
      taskset -c "$CPU" "$bin" --entries "$n" --store "$store" --samples "$SAMPLES" --rounds "$ROUNDS"
      if [ "$store" != embedded ]; then
        # The peer: Redis's own client timing one GET at a time, pinned the same way, right
        # after the rows (the entries still in Redis): what one round trip costs on this
        # machine at this moment.
        taskset -c "$CPU" redis-benchmark -p "$port" -c 1 -n 20000 -t get --csv |
          awk -F'"' '/^"GET"/ && NF >= 15 { printf "peer: redis-benchmark GET, one client: p50 %.0f µs, p99 %.0f µs\n", $10*1000, $14*1000 }'
      fi
      echo
    done
  done
} | tee "$OUT"
