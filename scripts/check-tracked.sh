#!/usr/bin/env bash
# Build outputs never go into git: the test command fails when git tracks an
# executable (ELF, Mach-O, PE, a wasm module), a build folder (dist/,
# node_modules/), or any file over 1 MB that is not test data (a folder
# named testdata/).
set -euo pipefail
# --self-test: the check must fail on a repository that tracks an executable,
# a wasm module and a large file, and pass on one that does not.
if [ "${1:-}" = --self-test ]; then
  self=$(realpath "$0")
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  git -C "$t" init -q
  mkdir -p "$t/scripts" "$t/testdata"
  cp "$self" "$t/scripts/"
  head -c 2000000 /dev/zero >"$t/testdata/big.bin"
  git -C "$t" add -A && git -C "$t" -c user.email=t@t -c user.name=t commit -qm ok
  bash "$t/scripts/check-tracked.sh" 2>/dev/null || { echo "check-tracked self-test: a clean tree failed" >&2; exit 1; }
  for bad in elf wasm big; do
    case $bad in
      elf) printf '\x7fELF\x02\x01' >"$t/prog" ;;
      wasm) printf '\x00asm\x01\x00\x00\x00' >"$t/core.bin" ;;
      big) head -c 1048577 /dev/zero >"$t/big.bin" ;;
    esac
    git -C "$t" add -A
    if bash "$t/scripts/check-tracked.sh" 2>/dev/null; then echo "check-tracked self-test: $bad was not caught" >&2; exit 1; fi
    git -C "$t" rm -q --cached -r . >/dev/null && git -C "$t" add scripts testdata
  done
  echo "check-tracked self-test: 4 passed, 0 failed"
  exit 0
fi
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  case "$f" in
    node_modules/* | */node_modules/* | dist/* | */dist/*) bad+=("$f (a build folder)"); continue ;;
    *.wasm) bad+=("$f (a wasm module)"); continue ;;
  esac
  magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46 | cffaedfe | cefaedfe | feedface | feedfacf | cafebabe | 0061736d) bad+=("$f (an executable)"); continue ;;
    4d5a*) bad+=("$f (an executable)"); continue ;;
  esac
  case "$f" in */testdata/* | testdata/*) continue ;; esac
  size=$(stat -c %s "$f")
  if [ "$size" -gt 1048576 ]; then bad+=("$f ($size bytes, over 1 MB and not under a testdata/ folder)"); fi
done < <(git ls-files -z)
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-tracked: git tracks files that must be built, not committed:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "  git rm --cached them and name them in .gitignore." >&2
  exit 1
fi
