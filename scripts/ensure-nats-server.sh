#!/usr/bin/env bash
# Builds the pinned nats-server (tools/nats-server/go.mod) into
# .cache/nats-server unless it is already there and current, then prints its
# path. Only the Go module proxy is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.cache/nats-server"
if [ ! -x "$bin" ] || [ tools/nats-server/go.mod -nt "$bin" ]; then
  mkdir -p .cache
  (cd tools/nats-server && go build -o "$bin" github.com/nats-io/nats-server/v2) >&2
fi
echo "$bin"
