#!/usr/bin/env bash
# Waitlist spike benchmark: N concurrent signups for one event through `doorman serve`, then
# their confirmations by the links in the mails, then a check that nothing was lost or doubled
# (benches/waitlist.rs). Runs on Redis and on the embedded store. Doorman (one worker, and its
# admin thread with the mail sender) on CPU 0; Redis and the load generator on CPU 1. Mail goes
# to the file outbox, or with TRANSPORT=smtp to a real SMTP server (aiosmtpd, the tests' own
# tests/support/smtp_server.py, on CPU 1), whose own pace is measured first with Python's
# smtplib as the peer. With OFFERS=1 (--offers), the event then goes to automatic offers, the
# seats of every confirmed signup are reported freed through the admin API, and the release's
# latency and the offer mails' arrival are timed (one offer and one offer mail per signup
# checked). Starts and stops (by PID) its own redis-server, SMTP server and Doorman.
#
#   bench/waitlist.sh                       # 5000 signups, 64 at a time
#   SIGNUPS=20000 CONCURRENCY=128 bench/waitlist.sh
#   TRANSPORT=smtp bench/waitlist.sh        # the outbox's throughput to a real SMTP server
#   TRANSPORT=smtp OFFERS=1 bench/waitlist.sh   # and then the offer mails of freed seats
#   BROADCAST=1 bench/waitlist.sh           # and a message to the whole list (before any offers)
set -euo pipefail
cd "$(dirname "$0")/.."
SIGNUPS=${SIGNUPS:-5000}
CONCURRENCY=${CONCURRENCY:-64}
OUT=${OUT:-bench/results/waitlist-latest.md}
STORES=${STORES:-"redis embedded"}
TRANSPORT=${TRANSPORT:-file}
OFFERS=${OFFERS:-0}
BROADCAST=${BROADCAST:-0}
phase_flags=()
if [ "$BROADCAST" = 1 ]; then phase_flags+=(--broadcast); fi
if [ "$OFFERS" = 1 ]; then phase_flags+=(--offers); fi

command -v redis-server >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
cargo build --release --bin doorman >&2
cargo bench --bench waitlist --no-run >&2 2>/dev/null
bench=$(ls -t target/release/deps/waitlist-* | grep -v '\.d$' | head -1)

work=$(mktemp -d)
# The runs happen in a pipeline (a subshell): their PIDs are kept in a file for the cleanup.
cleanup() { [ -f "$work/pids" ] && while read -r p; do kill "$p" 2>/dev/null || true; done < "$work/pids"; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
token=bench-operator-token-0123456789

# Starts the tests' SMTP server on CPU 1 writing into $1; prints its port once it is ready.
start_smtp() {
  local sport; sport=$(free_port)
  mkfifo "$work/smtp-ready-$sport"
  taskset -c 1 /usr/bin/python3 tests/support/smtp_server.py --port "$sport" --maildir "$1" \
    > "$work/smtp-ready-$sport" 2>/dev/null &
  echo $! >> "$work/pids"
  head -1 "$work/smtp-ready-$sport" > /dev/null
  echo "$sport"
}

# The SMTP server's own pace: Python's smtplib sends 2000 messages over one connection.
smtp_peer() {
  local dir="$work/peer"; local sport; sport=$(start_smtp "$dir")
  taskset -c 0 /usr/bin/python3 - "$sport" <<'PY'
import smtplib, sys, time
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
msg = "From: a@bench.example\r\nTo: b@example.com\r\nSubject: peer\r\n\r\n" + ("x" * 75 + "\r\n") * 20
n = 2000
t = time.monotonic()
for i in range(n):
    s.sendmail("a@bench.example", ["b%d@example.com" % i], msg)
dt = time.monotonic() - t
s.quit()
print("Peer: Python's smtplib sends %d messages to this SMTP server over one connection in %.2f s: %.0f messages/s." % (n, dt, n / dt))
PY
  echo
}

run_one() {
  local store=$1 store_toml="" dir="$work/$1" redis=""
  mkdir -p "$dir"
  if [ "$store" = redis ]; then
    local rport; rport=$(free_port)
    taskset -c 1 redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$dir" >/dev/null &
    redis=$!
    echo "$redis" >> "$work/pids"
    for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
    store_toml="[store]
url = \"redis://127.0.0.1:$rport/\""
  fi
  local port admin mail_toml maildir="$dir/data/outbox"; port=$(free_port); admin=$(free_port)
  mail_toml='transport = "file"'
  if [ "$TRANSPORT" = smtp ]; then
    maildir="$dir/smtp"
    local sport; sport=$(start_smtp "$maildir")
    mail_toml="transport = \"smtp\"
host = \"127.0.0.1\"
port = $sport
security = \"none\""
  fi
  cat > "$dir/policy.toml" <<POLICY
[server]
listen = "127.0.0.1:$port"
admin_listen = "127.0.0.1:$admin"
workers = 1
[backend]
url = "http://127.0.0.1:9"
$store_toml
[waitlist]
public_url = "http://127.0.0.1:$port"
from = "Bench <waitlist@bench.example>"
posts_per_client_per_10_minutes = 10000000
posts_per_network_per_10_minutes = 10000000
[waitlist.mail]
$mail_toml
POLICY
  DOORMAN_ADMIN_TOKEN=$token DOORMAN_LINK_KEY=bench-link-key-0123456789abcdef0123456789 \
    DOORMAN_DATA_KEY=bench-data-key-0123456789abcdef0123456789 DOORMAN_LOG=warn \
    taskset -c 0 target/release/doorman serve --policy "$dir/policy.toml" --data-dir "$dir/data" > "$dir/out.log" 2>&1 &
  local doorman=$!
  echo "$doorman" >> "$work/pids"
  for _ in $(seq 100); do grep -q listening "$dir/out.log" 2>/dev/null && break; sleep 0.1; done
  echo "### $store store"
  echo
  taskset -c 1 "$bench" --public "http://127.0.0.1:$port" --admin "http://127.0.0.1:$admin" --token "$token" \
    --outbox "$maildir" --signups "$SIGNUPS" --concurrency "$CONCURRENCY" "${phase_flags[@]}"
  echo
  kill "$doorman"; wait "$doorman" 2>/dev/null || true
  if [ -n "$redis" ]; then kill "$redis"; wait "$redis" 2>/dev/null || true; fi
}

{
  echo "# Waitlist spike benchmark"
  echo
  echo "- date: $(date -u)"
  echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)"
  echo "- $(redis-server --version | cut -d' ' -f1-3); Doorman (1 worker + admin thread) on CPU 0; Redis and the load generator on CPU 1"
  echo "- $SIGNUPS signups of one event, $CONCURRENCY at a time over keep-alive connections, then their confirmations"
  echo "- mail: $TRANSPORT transport"
  if [ "$BROADCAST" = 1 ]; then echo "- then: a message to the whole list, now, its mails waited for"; fi
  if [ "$OFFERS" = 1 ]; then echo "- then: automatic offers, the seats of every confirmed signup reported freed, the offer mails waited for"; fi
  echo
  if [ "$TRANSPORT" = smtp ]; then smtp_peer; fi
  for s in $STORES; do run_one "$s"; done
} | tee "$OUT"
