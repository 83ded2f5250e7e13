#!/usr/bin/env bash
# Runs the conformance cases (fixtures/conformance) against a real Spin, started as the README
# tells an operator: `spin up` with the repository's spin.toml and its spin-runtime.toml (the
# Redis URL filled in), every setting a SPIN_VARIABLE_*. Each case runs on the tower layer, the
# binary, the wasmtime test host and `spin up`; any difference fails. Then it measures clean
# checkouts through Spin beside native Doorman on the same Redis and backend.
#
#   edge/spin-check.sh                 # spin from PATH
#   SPIN=/path/to/spin edge/spin-check.sh
#
# Spin's CLI is not in the Rust package registry: ../shared/tools/spin-build.sh builds one from
# its source (about 21 minutes on 2 cores). Without one this script says so and skips (CI has
# none; the wasmtime test host, which grants only spin.toml's variables, runs there instead).
set -euo pipefail
cd "$(dirname "$0")/.."
spin=${SPIN:-$(command -v spin || true)}
if [ -z "$spin" ] || [ ! -x "$spin" ]; then
  echo "spin-check: skipped: no spin binary (set SPIN=/path/to/spin or put spin on PATH;" \
    "../shared/tools/spin-build.sh builds one from Spin's source)"
  exit 0
fi
echo "spin-check: $("$spin" --version)"
command -v redis-server >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --locked -p doorman-edge --target wasm32-wasip2 --profile edge
SPIN_CHECK_BINARY="$spin" timeout 1200 cargo test --locked --test edge -- --test-threads 1 --nocapture \
  conformance::every_case spin::
