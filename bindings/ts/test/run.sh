#!/usr/bin/env bash
# Type-checks the TypeScript host, then runs every test file under deno, bun,
# node (24) and node22 (22.12: node:sqlite behind a flag, rows as objects, the
# CLI re-running itself with --experimental-sqlite): the same files on each
# (node runs .ts by type stripping). node22 is installed on first use
# (bindings/ts/test/node22.sh).
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
    # The test files themselves need the flags; the CLI under test gets none.
    node22) echo "$node22 --experimental-strip-types --experimental-sqlite --disable-warning=ExperimentalWarning" ;;
  esac
}

runtimes=${RUNTIMES:-deno bun node node22}
case " $runtimes " in
  *" node22 "*) node22=$(bash bindings/ts/test/node22.sh) ;;
esac

for rt in $runtimes; do
  for t in corpus host cli live replica plugin; do
    step "$rt: $t"
    $(runner "$rt") "bindings/ts/test/$t.ts"
  done
  # The store a browser runs the core on (sqlite-wasm, in memory).
  step "$rt: corpus --store wasm"
  $(runner "$rt") bindings/ts/test/corpus.ts --store wasm
done
printf '\nbindings/ts/test/run.sh: all passed\n'
