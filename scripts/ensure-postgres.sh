#!/usr/bin/env bash
# The Postgres store's tests start throw-away clusters from Debian's
# postgresql server binaries (bindings/go/postgres/pgtest; never a download):
# install the package when no server is there. CI runs as root on Debian, so
# apt-get works there; elsewhere the tests that need it skip, saying why.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-postgres: no PostgreSQL server binaries; install Debian's postgresql package (apt-get install postgresql) or the Postgres tests skip" >&2
  exit 0
fi
echo "ensure-postgres: installing Debian's postgresql" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
