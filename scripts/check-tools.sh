#!/usr/bin/env bash
# After `npm ci`: every pinned tool the tests run must be there, at its pinned
# version. node, deno and bun fetch their binaries in npm install scripts, which
# npm runs only for packages named in package.json's "allowScripts" (npm 12
# skips the rest silently); a skipped script leaves a tool that fails at its
# first use, far from the cause. Say so here instead.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for tool in node deno bun; do
  want=$(node -p "require('./package.json').devDependencies['$tool']")
  bin=node_modules/.bin/$tool
  got=$("$bin" --version 2>/dev/null | head -1 || true)
  case "$got" in
    *"$want"*) ;;
    *)
      echo "check-tools: $tool $want did not install (\`$bin --version\` said: ${got:-nothing})." >&2
      echo "  Its npm install script must run: package.json's \"allowScripts\" names it; an npm that" >&2
      echo "  ignores install scripts (--ignore-scripts, ignore-scripts=true in .npmrc) leaves it missing." >&2
      echo "  Remove node_modules and run \`make build\` again." >&2
      fail=1
      ;;
  esac
done
exit $fail
