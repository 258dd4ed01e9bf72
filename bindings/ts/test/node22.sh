#!/usr/bin/env bash
# Prints the path of a Node 22.12 binary, installing it once from the npm
# registry (the `node` package) into .cache/node22.12.0: the oldest line the
# contract names, where node:sqlite needs --experimental-sqlite and has neither
# setReturnArrays nor columns(). Not a devDependency: its `node` bin would
# replace node_modules/.bin/node (Node 24) on the next `npm install`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
version=22.12.0
dir=.cache/node$version
bin=$dir/node_modules/node/bin/node
if [ "$("$bin" --version 2>/dev/null)" != "v$version" ]; then
  echo "installing node@$version into $dir" >&2
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node@$version" >&2
  if [ "$("$bin" --version 2>/dev/null)" != "v$version" ]; then
    echo "node22.sh: npm did not leave a working $bin (did it skip the package's preinstall script?)" >&2
    exit 1
  fi
fi
echo "$PWD/$bin"
