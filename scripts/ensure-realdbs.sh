#!/usr/bin/env bash
# Real SQLite databases that packages ship, for the crawl in tests/http
# (realdbs.ts): PROJ's geodesy registry (Debian's proj-data: composite keys
# and foreign keys, 35 triggers of its own, views) and pyzipcode's postal-code
# table (from its PyPI sdist, unpacked, never installed). Each lands in
# .cache/realdbs/; one that cannot be had is left out, and its tests skip with
# a message. Nothing here goes into git.
set -uo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/.cache/realdbs"
mkdir -p "$dir"

if [ ! -f "$dir/proj.db" ]; then
  if [ ! -f /usr/share/proj/proj.db ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-realdbs: installing Debian's proj-data" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq proj-data >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq proj-data >/dev/null 2>&1; }
  fi
  if [ -f /usr/share/proj/proj.db ]; then cp /usr/share/proj/proj.db "$dir/proj.db"; fi
fi

# pyzipcode 3.0.1 (pinned): its sdist carries zipcodes.db.
if [ ! -f "$dir/zipcodes.db" ] && command -v python3 >/dev/null; then
  tmp=$(mktemp -d)
  if python3 -m pip download --no-deps --no-binary :all: --quiet -d "$tmp" pyzipcode==3.0.1 >/dev/null 2>&1; then
    tar -xzf "$tmp"/pyzipcode-3.0.1.tar.gz -C "$tmp" pyzipcode-3.0.1/pyzipcode/zipcodes.db 2>/dev/null &&
      cp "$tmp/pyzipcode-3.0.1/pyzipcode/zipcodes.db" "$dir/zipcodes.db"
  fi
  rm -rf "$tmp"
fi
ls "$dir" >&2
exit 0
