#!/usr/bin/env bash
# The benchmark's Datasette: a virtual environment in .cache/datasette with the
# pinned set in tools/datasette/requirements.txt, from PyPI. Rebuilt when the
# pins change. Prints the path of the datasette command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.cache/datasette"
req=tools/datasette/requirements.txt
if [ ! -x "$venv/bin/datasette" ] || [ "$req" -nt "$venv/.stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  touch "$venv/.stamp"
fi
echo "$venv/bin/datasette"
