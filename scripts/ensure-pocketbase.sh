#!/usr/bin/env bash
# Builds the pinned PocketBase (tools/pocketbase: the stock app plus a `load`
# command) into .cache/pocketbase unless it is already there and current, then
# prints its path. Only the Go module proxy is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.cache/pocketbase"
if [ ! -x "$bin" ] || [ tools/pocketbase/go.mod -nt "$bin" ] ||
  [ tools/pocketbase/go.sum -nt "$bin" ] || [ tools/pocketbase/main.go -nt "$bin" ]; then
  mkdir -p .cache
  (cd tools/pocketbase &&
    v=$(go list -m -f '{{.Version}}' github.com/pocketbase/pocketbase) &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/pocketbase/pocketbase.Version=$v" \
      -o "$bin" .) >&2
fi
echo "$bin"
