#!/usr/bin/env bash
# Type-checks the TypeScript host, then runs every test file under deno, bun
# and node: the same files on each (node runs .ts by type stripping).
#
#   bash bindings/ts/test/run.sh              everything
#   RUNTIMES="bun node" bash bindings/ts/test/run.sh
#   TEST_FAST=1 ...                           skips the 5 s busy-timeout test
#
# Needs dist/core.wasm (make build). Exits non-zero on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "tsc -p tsconfig.json"
tsc -p tsconfig.json
step "tsc -p bindings/ts/test/tsconfig.json (tests)"
tsc -p bindings/ts/test/tsconfig.json
step "deno check deno/serve.ts deno/mod.ts"
deno check deno/serve.ts deno/mod.ts
step "deno lint, deno fmt --check (deno/, bindings/ts/)"
deno lint deno/ bindings/ts/
deno fmt --check

runner() {
  case "$1" in
    deno) echo "deno run -A" ;;
    bun) echo "bun" ;;
    # node:sqlite still prints an ExperimentalWarning on load: noise, not a finding.
    node) echo "node --disable-warning=ExperimentalWarning" ;;
  esac
}

for rt in ${RUNTIMES:-deno bun node}; do
  for t in corpus host cli; do
    step "$rt: $t"
    $(runner "$rt") "bindings/ts/test/$t.ts"
  done
done
printf '\nbindings/ts/test/run.sh: all passed\n'
