#!/usr/bin/env bash
# Fails when the wasm core is 2 MiB or more gzipped (gzip -9, as people
# measure it): issue 16's budget, which a browser downloads once per version.
set -euo pipefail
wasm=${1:-dist/core.wasm}
limit=$((2 * 1024 * 1024))
size=$(gzip -9 -c "$wasm" | wc -c)
if [ "$size" -ge "$limit" ]; then
  echo "check-size: $wasm is $size bytes gzipped, over the budget of $limit (2 MiB): see the Makefile's notes on what is built without inlining and what the core does not link" >&2
  exit 1
fi
echo "check-size: $wasm is $size bytes gzipped ($((limit - size)) under 2 MiB)"
