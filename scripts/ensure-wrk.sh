#!/usr/bin/env bash
# The benchmark's load generator is wrk (C, event-driven: it costs the 2-core
# machine far less CPU than a JS or Go client would, so more of it is left for
# the server under test). Debian's package; installed when missing.
set -euo pipefail
if command -v wrk >/dev/null; then command -v wrk; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-wrk: wrk is missing; install Debian's wrk package (apt-get install wrk)" >&2
  exit 1
fi
echo "ensure-wrk: installing Debian's wrk" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
command -v wrk
