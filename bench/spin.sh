#!/usr/bin/env bash
# Clean checkouts through a real Spin (`spin up` with the repository's spin.toml and
# spin-runtime.toml) beside native Doorman (`doorman serve`, release), both on the same Redis in
# front of the same nginx backend (`return 200`): wrk, one connection, keep-alive, POSTing a
# guest checkout with an address that is not blacklisted. Prints p50/p99 per target, the
# ratios, and the Redis commands per checkout (INFO commandstats before and after).
#
#   SPIN=/path/to/spin bench/spin.sh          # 10 s per target, 3 rounds
#   DURATION=5 ROUNDS=1 SPIN=... bench/spin.sh
#
# Redis, nginx, Doorman and Spin on CPU 0, wrk on CPU 1. Without a spin binary it says so and
# stops (Spin's CLI is not in the Rust package registry; ../shared/tools/spin-build.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
spin=${SPIN:-$(command -v spin || true)}
[ -n "$spin" ] && [ -x "$spin" ] || { echo "bench/spin.sh: skipped: no spin binary (set SPIN=/path/to/spin)"; exit 0; }
for tool in redis-server redis-cli nginx wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench/spin.sh: $tool is missing" >&2; exit 1; }
done

cargo build --locked --release --bin doorman >&2
cargo build --locked -p doorman-edge --target wasm32-wasip2 --profile edge >&2

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing on port $1" >&2; exit 1; }

redis_port=$(free_port)
taskset -c "$SERVER_CPU" redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" >/dev/null &
pids+=($!)
wait_port "$redis_port"

backend_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
daemon off; worker_processes 1; pid $work/nginx/pid; error_log $work/nginx/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path $work/nginx;
  server { listen 127.0.0.1:$backend_port; location / { return 200 "ordered\n"; } } }
NGINX
taskset -c "$SERVER_CPU" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
wait_port "$backend_port"

hash_key=bench-hash-key-0123456789abcdef0123456789
cat >"$work/policy.toml" <<POLICY
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
workers = 1
[backend]
url = "http://127.0.0.1:$backend_port"
[store]
url = "redis://127.0.0.1:$redis_port/0"
[blacklist]
email_fields = ["email"]
match_timing = false
[[blacklist.checkout]]
route = "POST /e/{event}/checkout"
redirect = "/e/{event}"
POLICY

DOORMAN_HASH_KEY=$hash_key DOORMAN_ADMIN_TOKEN=bench-admin-token-0123456789abcdef \
  taskset -c "$SERVER_CPU" target/release/doorman serve --policy "$work/policy.toml" --data-dir "$work" \
  >"$work/doorman.out" 2>"$work/doorman.err" &
pids+=($!)
for _ in $(seq 200); do grep -q "listening" "$work/doorman.out" 2>/dev/null && break; sleep 0.05; done
native_port=$(sed -n 's|^doorman: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$work/doorman.out")
[ -n "$native_port" ] || { cat "$work/doorman.err" >&2; echo "doorman did not start" >&2; exit 1; }
for _ in $(seq 200); do [ "$(redis-cli -p "$redis_port" get doorman:meta:blacklist-index)" = 1 ] && break; sleep 0.05; done

spin_port=$(free_port)
sed "s|url = \"redis://127.0.0.1:6379/0\"|url = \"redis://127.0.0.1:$redis_port/0\"|" spin-runtime.toml >"$work/spin-runtime.toml"
SPIN_VARIABLE_POLICY="$(target/release/doorman compile-policy "$work/policy.toml")" SPIN_VARIABLE_BACKEND_URL="http://127.0.0.1:$backend_port" \
  SPIN_VARIABLE_HASH_KEY=$hash_key taskset -c "$SERVER_CPU" "$spin" up --from spin.toml \
  --runtime-config-file "$work/spin-runtime.toml" --listen "127.0.0.1:$spin_port" --state-dir "$work/spin" \
  >"$work/spin.out" 2>&1 &
pids+=($!)
wait_port "$spin_port"

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "email=ada%40example.com&quantity=2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
for port in "$native_port" "$spin_port"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -d 'email=ada%40example.com' "http://127.0.0.1:$port/e/gala/checkout")
  [ "$code" = 200 ] || { echo "a clean checkout on port $port got $code" >&2; cat "$work/spin.out" >&2; exit 1; }
done

commands() { redis-cli -p "$redis_port" info commandstats | awk -F'[=,]' '/calls=/ {n += $2} END {print n + 0}'; }
parse() { awk '
  function us(v, n, u) { n = v + 0; u = v; sub(/^[0-9.]+/, "", u); return u == "ms" ? n * 1000 : (u == "s" ? n * 1e6 : n) }
  $1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
  /requests in/ { reqs = $1 } /Non-2xx/ { bad = $NF }
  END { printf "%d %.0f %.0f %d\n", reqs, p50, p99, bad + 0 }' "$1"; }

echo '' >"$work/get.lua"
echo "| round | request | target | requests | p50 µs | p99 µs | Redis commands / request |"
echo "|---|---|---|---:|---:|---:|---:|"
declare -A sum50 sum99
for round in $(seq "$ROUNDS"); do
  for request in checkout page; do
    script=$work/post.lua path=/e/gala/checkout
    [ "$request" = page ] && script=$work/get.lua path=/e/gala
    for target in native spin; do
      port=$native_port; [ "$target" = spin ] && port=$spin_port
      taskset -c "$WRK_CPU" wrk -t1 -c1 -d2s -s "$script" "http://127.0.0.1:$port$path" >/dev/null
      sleep 1
      before=$(commands)
      taskset -c "$WRK_CPU" wrk -t1 -c1 -d"${DURATION}s" --latency -s "$script" \
        "http://127.0.0.1:$port$path" >"$work/wrk.out"
      sleep 1
      after=$(commands)
      read -r reqs p50 p99 bad < <(parse "$work/wrk.out")
      [ "$bad" = 0 ] || { echo "$bad answers were not 2xx/3xx" >&2; exit 1; }
      per=$(awk -v a="$after" -v b="$before" -v r="$reqs" 'BEGIN { printf "%.2f", (a - b - 1) / r }')
      echo "| $round | $request | $target | $reqs | $p50 | $p99 | $per |"
      key="$request $target"
      sum50[$key]=$(( ${sum50[$key]:-0} + p50 )); sum99[$key]=$(( ${sum99[$key]:-0} + p99 ))
    done
  done
done
echo
for request in checkout page; do
  awk -v r="$request" -v n50="${sum50[$request native]}" -v n99="${sum99[$request native]}" \
    -v s50="${sum50[$request spin]}" -v s99="${sum99[$request spin]}" \
    'BEGIN { printf "%s: spin / native over the rounds: p50 %.2f×, p99 %.2f×\n", r, s50 / n50, s99 / n99 }'
done
echo "$("$spin" --version); $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; commit $(git rev-parse --short HEAD)"
