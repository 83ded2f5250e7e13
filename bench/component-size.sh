#!/usr/bin/env bash
# The edge component's size, and where its code goes: builds it as spin.toml does
# (`--profile edge`), once as shipped (stripped) for its size, once with its function names
# kept (in a target folder of its own) for bench/component_size.py to attribute the code.
#
#   bench/component-size.sh            # ~3 minutes warm
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p doorman-edge --target wasm32-wasip2 --profile edge >&2
shipped=target/wasm32-wasip2/edge/doorman_edge.wasm
echo "shipped: $(stat -c %s "$shipped") bytes ($(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'))"
named=${NAMED_TARGET:-target/edge-named}
CARGO_PROFILE_EDGE_STRIP=false CARGO_TARGET_DIR="$named" \
  cargo build -p doorman-edge --target wasm32-wasip2 --profile edge >&2
python3 bench/component_size.py "$named/wasm32-wasip2/edge/doorman_edge.wasm" --top "${TOP:-25}"
