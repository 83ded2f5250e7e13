#!/usr/bin/env bash
# Reverse-proxy benchmark: wrk against a static nginx backend directly, through nginx as a
# reverse proxy, through the plainest hyper proxy (examples/plain_proxy.rs) and through Doorman,
# all on 127.0.0.1 with fresh free ports. A second Doorman build (doorman-b) can run in the same
# rounds, to compare two builds against the same peers.
#
# wrk runs on one CPU, every server (backend, nginx proxy, Doorman) on the other.
# Each round measures every target on /small.html and /body100k.bin at 64 connections (after a
# warm-up run that is thrown away) and on /small.html at 1 connection; the report shows the
# median of the rounds. The markdown report goes to stdout and to bench/results/proxy-latest.md;
# progress goes to stderr.
#
# Knobs (environment):
#   TARGETS      targets to measure, default "backend nginx doorman"; known: backend nginx hyper
#                doorman doorman-b
#   DURATION     seconds per measured wrk run, default 10
#   LAT_DURATION seconds per 1-connection run, default $DURATION
#   WARMUP       seconds of the discarded warm-up before each 64-connection run, default 2
#   ROUNDS       rounds of the whole matrix, default 3 (median reported)
#   CONNECTIONS  connections for the throughput runs, default 64
#   DOORMAN_BIN  Doorman binary, default target/release/doorman (relative to the repo root)
#   DOORMAN_BIN_B  the second Doorman binary, for the doorman-b target (no default)
#   PLAIN_PROXY_BIN  the plain hyper proxy, default target/release/examples/plain_proxy
#                (cargo build --release --example plain_proxy)
#   READY_TIMEOUT seconds to wait for each server to answer, default 10
#   WRK_CPU / SERVER_CPU  CPUs for wrk and for the servers, default 0 / 1
#   OUT          report file, default bench/results/proxy-latest.md
set -euo pipefail

export LC_ALL=C
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGETS="${TARGETS:-backend nginx doorman}"
DURATION="${DURATION:-10}"
LAT_DURATION="${LAT_DURATION:-$DURATION}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
DOORMAN_BIN="${DOORMAN_BIN:-target/release/doorman}"
DOORMAN_BIN_B="${DOORMAN_BIN_B:-}"
PLAIN_PROXY_BIN="${PLAIN_PROXY_BIN:-target/release/examples/plain_proxy}"
READY_TIMEOUT="${READY_TIMEOUT:-10}"
WRK_CPU="${WRK_CPU:-0}"
SERVER_CPU="${SERVER_CPU:-1}"
OUT="${OUT:-bench/results/proxy-latest.md}"
PATHS=(/small.html /body100k.bin)

log() { printf '[proxy.sh] %s\n' "$*" >&2; }
die() { printf '[proxy.sh] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------- arguments
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in DURATION LAT_DURATION WARMUP ROUNDS CONNECTIONS READY_TIMEOUT WRK_CPU SERVER_CPU; do
    is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
for v in DURATION LAT_DURATION ROUNDS CONNECTIONS READY_TIMEOUT; do
    (( ${!v} > 0 )) || die "$v must be at least 1"
done
read -r -a TARGET_LIST <<<"$TARGETS"
(( ${#TARGET_LIST[@]} > 0 )) || die "TARGETS is empty"
WANT_NGINX=0 WANT_DOORMAN=0 WANT_DOORMAN_B=0 WANT_HYPER=0
for t in "${TARGET_LIST[@]}"; do
    case "$t" in
        backend) ;;
        nginx) WANT_NGINX=1 ;;
        hyper) WANT_HYPER=1 ;;
        doorman) WANT_DOORMAN=1 ;;
        doorman-b) WANT_DOORMAN_B=1 ;;
        *) die "unknown target '$t' in TARGETS (known: backend nginx hyper doorman doorman-b)" ;;
    esac
done
(( WRK_CPU != SERVER_CPU )) || die "WRK_CPU and SERVER_CPU must differ"
NCPU="$(nproc --all 2>/dev/null || nproc)"
(( WRK_CPU < NCPU && SERVER_CPU < NCPU )) ||
    die "this machine has $NCPU CPU(s); WRK_CPU=$WRK_CPU / SERVER_CPU=$SERVER_CPU need at least 2"

need_binary() {   # need_binary VAR HINT: make $VAR absolute and check it is executable
    local var="$1" hint="$2" path="${!1}"
    [[ -n $path ]] || die "$var is not set ($hint)"
    [[ $path == /* ]] || path="$ROOT/$path"
    [[ -f $path && -x $path ]] || die "binary not found or not executable: $path ($hint)"
    printf -v "$var" '%s' "$path"
}
if (( WANT_DOORMAN )); then
    need_binary DOORMAN_BIN "build it (cargo build --release), point DOORMAN_BIN at it, or leave it out: TARGETS=\"backend nginx\""
fi
if (( WANT_DOORMAN_B )); then
    need_binary DOORMAN_BIN_B "the doorman-b target needs DOORMAN_BIN_B, a second Doorman build"
fi
if (( WANT_HYPER )); then
    need_binary PLAIN_PROXY_BIN "cargo build --release --example plain_proxy, or point PLAIN_PROXY_BIN at it"
fi

# ---------------------------------------------------------------------------- dependencies
# Debian packages only. The nginx package would start a system-wide nginx on port 80 at install
# time; a temporary policy-rc.d (when none exists) keeps it from doing so.
POLICY_RC_CREATED=0
remove_policy_rc() {
    if (( POLICY_RC_CREATED )); then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}
install_missing() {
    local pkgs=()
    command -v nginx >/dev/null 2>&1 || pkgs+=(NGINX)
    command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
    command -v curl >/dev/null 2>&1 || pkgs+=(curl)
    command -v python3 >/dev/null 2>&1 || pkgs+=(python3-minimal)
    command -v taskset >/dev/null 2>&1 || pkgs+=(util-linux)
    (( ${#pkgs[@]} )) || return 0
    (( EUID == 0 )) || die "missing tools (${pkgs[*]}); run as root so they can be installed with apt-get"
    command -v apt-get >/dev/null 2>&1 || die "missing tools (${pkgs[*]}) and no apt-get to install them"
    apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
    local i
    for i in "${!pkgs[@]}"; do
        if [[ ${pkgs[$i]} == NGINX ]]; then
            # nginx-light when Debian still has an installable one, plain nginx otherwise
            if [[ $(apt-cache policy nginx-light 2>/dev/null | awk '/Candidate:/ { print $2 }') =~ ^[0-9] ]]; then
                pkgs[i]=nginx-light
            else
                pkgs[i]=nginx
            fi
        fi
    done
    log "installing from Debian's packages: ${pkgs[*]}"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2 ||
        { remove_policy_rc; die "apt-get install ${pkgs[*]} failed"; }
    remove_policy_rc
}

# ---------------------------------------------------------------------------- processes
PIDS=()        # long-running servers we started
WRK_PID=""     # the wrk run in flight, if any
WORK=""

alive() {   # alive PID: true while the process exists and is not a zombie
    local s
    s="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n $s && $s != Z* ]]
}
stop_pid() {   # stop_pid PID: TERM it (and the children it had), KILL after 5 s
    local pid="$1" kids i
    kids="$(ps -o pid= --ppid "$pid" 2>/dev/null || true)"
    kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    for k in $kids; do
        for (( i = 0; i < 20; i++ )); do alive "$k" || break; sleep 0.1; done
        if alive "$k"; then kill -KILL "$k" 2>/dev/null || true; fi
    done
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    remove_policy_rc
    [[ -n $WRK_PID ]] && stop_pid "$WRK_PID"
    local p
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
    [[ -n $WORK && -d $WORK ]] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_missing
for tool in nginx wrk curl python3 taskset; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
NGINX_BIN="$(command -v nginx)"

WORK="$(mktemp -d -t doorman-bench.XXXXXX)"
chmod 755 "$WORK"   # nginx workers run as an unprivileged user and must reach the doc root

# Free loopback ports: bind seven sockets to port 0 at once so the kernel hands out seven distinct
# free ports, then release them for the servers.
PORTS="$(python3 -c '
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(7)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
')"
read -r P_BACKEND P_NGINX P_DOORMAN P_ADMIN P_DOORMAN_B P_ADMIN_B P_HYPER <<<"$PORTS"
[[ -n ${P_HYPER:-} ]] || die "could not pick free ports"
log "work dir $WORK; ports: backend $P_BACKEND, nginx $P_NGINX, doorman $P_DOORMAN (admin $P_ADMIN)"

# ---------------------------------------------------------------------------- content
mkdir -p "$WORK/www" "$WORK/backend/tmp" "$WORK/proxy/tmp" "$WORK/out"
python3 - "$WORK/www" <<'PY'
import os, sys
root = sys.argv[1]
# ~1 KB HTML page
head = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Doorman bench</title></head>\n<body>\n<h1>Tickets</h1>\n<ul>\n"
tail = "</ul>\n</body>\n</html>\n"
items, n = [], 0
while len(head) + len("".join(items)) + len(tail) < 1000:
    n += 1
    items.append(f"<li>Seat {n:03d}: row {n % 26 + 1}, available</li>\n")
page = head + "".join(items) + tail
with open(os.path.join(root, "small.html"), "w") as f:
    f.write(page)
# 100 KB of incompressible-looking bytes (deterministic)
data, x = bytearray(), 2463534242
for _ in range(100 * 1024):
    x ^= (x << 13) & 0xFFFFFFFF; x ^= x >> 17; x ^= (x << 5) & 0xFFFFFFFF
    data.append(x & 0xFF)
with open(os.path.join(root, "body100k.bin"), "wb") as f:
    f.write(data)
PY
chmod 755 "$WORK/www"; chmod 644 "$WORK/www"/*

USER_LINE=""
if (( EUID == 0 )); then
    if id -u www-data >/dev/null 2>&1; then USER_LINE="user www-data;"; else USER_LINE="user nobody nogroup;"; fi
fi
render() {   # render TEMPLATE OUTPUT
    sed -e "s|@WORK@|$WORK|g" -e "s|@BACKEND_PORT@|$P_BACKEND|g" -e "s|@PROXY_PORT@|$P_NGINX|g" \
        -e "s|@USER_LINE@|$USER_LINE|g" "$1" >"$2"
}
render bench/nginx/backend.conf.in "$WORK/backend/nginx.conf"
render bench/nginx/proxy.conf.in "$WORK/proxy/nginx.conf"

# ---------------------------------------------------------------------------- servers
wait_ready() {   # wait_ready NAME URL PID LOG
    local name="$1" url="$2" pid="$3" logf="$4" deadline=$(( SECONDS + READY_TIMEOUT + 1 ))
    until curl -fsS -o /dev/null --max-time 1 "$url" 2>"$WORK/curl.err"; do
        if ! alive "$pid"; then
            log "$name log ($logf):"; tail -n 30 "$logf" >&2 || true
            die "$name exited during startup"
        fi
        if (( SECONDS >= deadline )); then
            log "$name log ($logf):"; tail -n 30 "$logf" >&2 || true
            die "$name not ready after ${READY_TIMEOUT}s: $url: $(cat "$WORK/curl.err")"
        fi
        sleep 0.1
    done
}
start_nginx() {   # start_nginx NAME DIR PORT
    local name="$1" dir="$2" port="$3"
    "$NGINX_BIN" -t -q -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" 2>"$dir/configtest.log" ||
        { cat "$dir/configtest.log" >&2; die "$name: nginx config test failed"; }
    taskset -c "$SERVER_CPU" "$NGINX_BIN" -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" \
        >"$dir/stdout.log" 2>&1 &
    PIDS+=("$!")
    wait_ready "$name" "http://127.0.0.1:$port/small.html" "$!" "$dir/error.log"
    log "$name up (pid $!, CPU $SERVER_CPU)"
}

declare -A URL
URL[backend]="http://127.0.0.1:$P_BACKEND"
start_nginx backend "$WORK/backend" "$P_BACKEND"
if (( WANT_NGINX )); then
    URL[nginx]="http://127.0.0.1:$P_NGINX"
    start_nginx "nginx proxy" "$WORK/proxy" "$P_NGINX"
fi
start_doorman() {   # start_doorman NAME BINARY PORT ADMIN_PORT
    local name="$1" bin="$2" port="$3" admin="$4"
    URL[$name]="http://127.0.0.1:$port"
    printf '[server]\nlisten = "127.0.0.1:%s"\nadmin_listen = "127.0.0.1:%s"\nworkers = 1\n\n[backend]\nurl = "http://127.0.0.1:%s"\n' \
        "$port" "$admin" "$P_BACKEND" >"$WORK/$name.toml"
    # Doorman refuses DOORMAN_* variables it does not know: the script's own knobs stay out.
    taskset -c "$SERVER_CPU" env -u DOORMAN_BIN -u DOORMAN_BIN_B DOORMAN_LOG=warn "$bin" serve --policy "$WORK/$name.toml" --data-dir "$WORK/$name-data" \
        >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
    wait_ready "$name" "http://127.0.0.1:$admin/healthz" "$!" "$WORK/$name.log"
    log "$name up (pid $!, CPU $SERVER_CPU)"
}
if (( WANT_DOORMAN )); then start_doorman doorman "$DOORMAN_BIN" "$P_DOORMAN" "$P_ADMIN"; fi
if (( WANT_DOORMAN_B )); then start_doorman doorman-b "$DOORMAN_BIN_B" "$P_DOORMAN_B" "$P_ADMIN_B"; fi
if (( WANT_HYPER )); then
    URL[hyper]="http://127.0.0.1:$P_HYPER"
    taskset -c "$SERVER_CPU" "$PLAIN_PROXY_BIN" "127.0.0.1:$P_HYPER" "127.0.0.1:$P_BACKEND" >"$WORK/hyper.log" 2>&1 &
    PIDS+=("$!")
    wait_ready "plain hyper proxy" "http://127.0.0.1:$P_HYPER/small.html" "$!" "$WORK/hyper.log"
    log "plain hyper proxy up (pid $!, CPU $SERVER_CPU)"
fi

# Every target must serve the exact bytes before we measure it.
for t in "${TARGET_LIST[@]}"; do
    for p in "${PATHS[@]}"; do
        curl -fsS --max-time 5 -o "$WORK/check" "${URL[$t]}$p" ||
            die "$t: GET $p failed"
        cmp -s "$WORK/check" "$WORK/www$p" ||
            die "$t: GET $p returned $(stat -c %s "$WORK/check") bytes that differ from the file ($(stat -c %s "$WORK/www$p") bytes)"
    done
done

# ---------------------------------------------------------------------------- wrk
# parse wrk --latency output into: rps  p50_us  p99_us  errors
parse_wrk() {
    awk '
    function to_us(v,   n, u) {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") return n
        if (u == "ms") return n * 1000
        if (u == "s")  return n * 1000000
        if (u == "m")  return n * 60000000
        if (u == "h")  return n * 3600000000
        return -1
    }
    $1 == "50%" { p50 = to_us($2) }
    $1 == "99%" { p99 = to_us($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { for (i = 3; i <= NF; i++) { gsub(",", "", $i); if ($i ~ /^[0-9]+$/) err += $i } }
    END {
        if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
        printf "%s\t%.1f\t%.1f\t%d\n", rps, p50, p99, err
    }' "$1"
}
run_wrk() {   # run_wrk OUTFILE CONNS SECONDS URL
    local out="$1" conns="$2" secs="$3" url="$4" rc=0
    taskset -c "$WRK_CPU" timeout -k 5 $(( secs + 20 )) \
        wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s --latency "$url" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if (( rc != 0 )); then cat "$out" >&2; die "wrk failed (exit $rc) on $url"; fi
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
ntargets=${#TARGET_LIST[@]}
for (( r = 1; r <= ROUNDS; r++ )); do
    # rotate the target order each round so no target always runs first
    order=()
    for (( i = 0; i < ntargets; i++ )); do order+=("${TARGET_LIST[$(( (i + r - 1) % ntargets ))]}"); done
    log "round $r/$ROUNDS: order ${order[*]}"
    for p in "${PATHS[@]}"; do
        for t in "${order[@]}"; do
            if (( WARMUP > 0 )); then run_wrk "$WORK/out/warmup" "$CONNECTIONS" "$WARMUP" "${URL[$t]}$p"; fi
            f="$WORK/out/r$r-$t-${p#/}-c$CONNECTIONS.txt"
            run_wrk "$f" "$CONNECTIONS" "$DURATION" "${URL[$t]}$p"
            line="$(parse_wrk "$f")" || { cat "$f" >&2; die "could not parse wrk output ($f)"; }
            printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$p" "$CONNECTIONS" "$line" >>"$RESULTS"
            log "  $t $p c$CONNECTIONS: $(cut -f1-3 <<<"$line" | tr '\t' ' ') (req/s p50us p99us)"
        done
    done
    for t in "${order[@]}"; do
        f="$WORK/out/r$r-$t-small.html-c1.txt"
        run_wrk "$f" 1 "$LAT_DURATION" "${URL[$t]}/small.html"
        line="$(parse_wrk "$f")" || { cat "$f" >&2; die "could not parse wrk output ($f)"; }
        printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$t" /small.html 1 "$line" >>"$RESULTS"
        log "  $t /small.html c1: $(cut -f1-3 <<<"$line" | tr '\t' ' ') (req/s p50us p99us)"
    done
done

# Servers must have survived the whole run.
for p in "${PIDS[@]}"; do alive "$p" || die "a server (pid $p) died during the run; logs are in $WORK"; done

# ---------------------------------------------------------------------------- report
CPU_MODEL="$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')"
[[ -n $CPU_MODEL ]] || CPU_MODEL="$(awk -F: '/^model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }' /proc/cpuinfo)"
NGINX_VERSION="$("$NGINX_BIN" -v 2>&1 | head -n1)"; NGINX_VERSION="${NGINX_VERSION#nginx version: }"
WRK_VERSION="$( (wrk -v 2>&1 || true) | head -n1)"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
DOORMAN_VERSION=""
if (( WANT_DOORMAN )); then
    DOORMAN_VERSION="$( (timeout 5 "$DOORMAN_BIN" --version 2>/dev/null || true) | head -n1)"
    DOORMAN_VERSION="${DOORMAN_VERSION:-unknown version} (${DOORMAN_BIN#"$ROOT"/}, repo $GIT_REV)"
fi
DOORMAN_B_VERSION=""
if (( WANT_DOORMAN_B )); then
    DOORMAN_B_VERSION="$( (timeout 5 "$DOORMAN_BIN_B" --version 2>/dev/null || true) | head -n1)"
    # Repository-relative, or only the file name: reports carry no machine paths.
    b_name="${DOORMAN_BIN_B#"$ROOT"/}"; [[ $b_name == /* ]] && b_name="$(basename "$b_name")"
    DOORMAN_B_VERSION="${DOORMAN_B_VERSION:-unknown version} ($b_name)"
fi
HYPER_NOTE=""
if (( WANT_HYPER )); then HYPER_NOTE="${PLAIN_PROXY_BIN#"$ROOT"/}"; fi

mkdir -p "$(dirname "$OUT")"
REPORT="$WORK/report.md"
DATE="$(date -u)" KERNEL="$(uname -r)" CPU_MODEL="$CPU_MODEL" NCPU="$NCPU" \
NGINX_VERSION="$NGINX_VERSION" WRK_VERSION="$WRK_VERSION" DOORMAN_VERSION="$DOORMAN_VERSION" \
DOORMAN_B_VERSION="$DOORMAN_B_VERSION" HYPER_NOTE="$HYPER_NOTE" \
DURATION="$DURATION" LAT_DURATION="$LAT_DURATION" WARMUP="$WARMUP" ROUNDS="$ROUNDS" \
CONNECTIONS="$CONNECTIONS" WRK_CPU="$WRK_CPU" SERVER_CPU="$SERVER_CPU" TARGETS="${TARGET_LIST[*]}" \
python3 - "$RESULTS" >"$REPORT" <<'PY'
import os, statistics, sys
e = os.environ
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
targets = e["TARGETS"].split()
conns = int(e["CONNECTIONS"])
data = {}
for rnd, t, p, c, rps, p50, p99, err in rows:
    data.setdefault((t, p, int(c)), []).append((float(rps), float(p50), float(p99), int(err)))

def med(key, i):
    return statistics.median(v[i] for v in data[key])

def fmt_int(x):
    return f"{x:,.0f}"

def spread(key):
    v = [x[0] for x in data[key]]
    m = statistics.median(v)
    return "—" if len(v) < 2 or m == 0 else f"±{(max(v) - min(v)) / 2 / m * 100:.1f}%"

out = []
w = out.append
w("# Doorman proxy benchmark")
w("")
w(f"- date: {e['DATE']}")
w(f"- kernel: {e['KERNEL']}")
w(f"- CPU: {e['CPU_MODEL']} ({e['NCPU']} CPUs); wrk pinned to CPU {e['WRK_CPU']}, "
  f"backend, nginx proxy and Doorman pinned to CPU {e['SERVER_CPU']}")
w(f"- nginx: {e['NGINX_VERSION']} (backend and proxy: worker_processes 1, access_log off; "
  "proxy: upstream keepalive 64, proxy_http_version 1.1)")
w(f"- wrk: {e['WRK_VERSION']}")
if e.get("DOORMAN_VERSION"):
    w(f"- doorman: {e['DOORMAN_VERSION']} (workers = 1, DOORMAN_LOG=warn)")
if e.get("DOORMAN_B_VERSION"):
    w(f"- doorman-b: {e['DOORMAN_B_VERSION']} (workers = 1, DOORMAN_LOG=warn)")
if e.get("HYPER_NOTE"):
    w(f"- hyper: the plainest hyper 1 proxy, {e['HYPER_NOTE']} (examples/plain_proxy.rs: one thread, "
      "hyper-util's pooled client, no policy, headers or logging)")
w(f"- load: `wrk -t1 -c{conns} -d{e['DURATION']}s --latency` after a discarded {e['WARMUP']} s warm-up; "
  f"1 connection: `wrk -t1 -c1 -d{e['LAT_DURATION']}s --latency` on /small.html")
w(f"- rounds: {e['ROUNDS']}, median of the rounds shown (target order rotated each round); "
  "spread = half the min–max range of req/s over the rounds")
w("")
w(f"## {conns} connections")
w("")
w("| target | path | req/s | vs nginx | spread | p50 µs | p99 µs | errors |")
w("|---|---|---:|---:|---:|---:|---:|---:|")
errors_total = 0
for p in ("/small.html", "/body100k.bin"):
    for t in targets:
        k = (t, p, conns)
        if k not in data:
            continue
        rps = med(k, 0)
        nk = ("nginx", p, conns)
        ratio = f"{rps / med(nk, 0):.2f}×" if nk in data and med(nk, 0) > 0 else "—"
        errs = sum(v[3] for v in data[k])
        errors_total += errs
        w(f"| {t} | {p} | {fmt_int(rps)} | {ratio} | {spread(k)} | {med(k, 1):.0f} | {med(k, 2):.0f} | {errs} |")
w("")
w("## 1 connection, /small.html")
w("")
w("| target | req/s | p50 µs | p99 µs | p50 added over backend µs | p99 added over backend µs |")
w("|---|---:|---:|---:|---:|---:|")
bk = ("backend", "/small.html", 1)
for t in targets:
    k = (t, "/small.html", 1)
    if k not in data:
        continue
    errors_total += sum(v[3] for v in data[k])
    p50, p99 = med(k, 1), med(k, 2)
    if bk in data and t != "backend":
        a50, a99 = f"{p50 - med(bk, 1):+.0f}", f"{p99 - med(bk, 2):+.0f}"
    else:
        a50 = a99 = "—"
    w(f"| {t} | {fmt_int(med(k, 0))} | {p50:.0f} | {p99:.0f} | {a50} | {a99} |")
if errors_total:
    w("")
    w(f"**Warning:** wrk counted {errors_total} non-2xx responses or socket errors in total; see the errors column.")
print("\n".join(out))
PY
cp "$REPORT" "$OUT"
cat "$REPORT"
log "report written to $OUT"
