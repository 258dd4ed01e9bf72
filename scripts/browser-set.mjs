// Assembles dist/browser/, the browser set (PROTOCOL.md, "Offline"): the
// offline service worker (dist/sw.js, compiled from bindings/ts/src/sw.ts),
// every module it imports (found by following its static imports, so
// nothing else of dist/ goes), core.wasm, and sqlite-wasm's module and wasm
// as npm installed them. Each host serves this directory as BASE/offline/.
//
//   node scripts/browser-set.mjs [OUT_DIR]   (run by make build)
//
// Fails when a module of the set imports anything but another module of the
// set: a worker resolves no package names, and a runtime's own module
// (node:fs) has no place in a browser.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const out = process.argv[2] ?? join(dist, "browser");
const sqliteDir = join(root, "node_modules", "@sqlite.org", "sqlite-wasm", "dist");
const SQLITE_PACKAGE = "@sqlite.org/sqlite-wasm";

/** name in the set -> bytes */
const files = new Map();
// Static imports and re-exports only: `import x from "y"`, `import "y"`,
// `export ... from "y"`. A dynamic import() is not followed (a worker may
// not run one; core.ts's is on a server-only path).
const IMPORT = /(?:^|[;\n])\s*(?:import|export)\s+(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/g;

function addModule(name) {
  if (files.has(name)) return;
  let text = readFileSync(join(dist, name), "utf8");
  if (name === "sw.js") text = text.replaceAll(`"${SQLITE_PACKAGE}"`, '"./sqlite3.mjs"');
  files.set(name, text);
  for (const [, spec] of text.matchAll(IMPORT)) {
    if (spec === "./sqlite3.mjs") continue;
    if (!/^\.\/[A-Za-z0-9_]+\.js$/.test(spec)) {
      throw new Error(`${name} imports ${JSON.stringify(spec)}: the browser set holds only its own modules`);
    }
    addModule(spec.slice(2));
  }
}

addModule("sw.js");
files.set("sqlite3.mjs", readFileSync(join(sqliteDir, "index.mjs")));
files.set("sqlite3.wasm", readFileSync(join(sqliteDir, "sqlite3.wasm")));
files.set("core.wasm", readFileSync(join(dist, "core.wasm")));

// The version is the hash of everything else, written into sw.js: a new
// core or worker makes new sw.js bytes, which is what makes a browser
// install the new worker (and its new caches).
const names = [...files.keys()].sort();
const h = createHash("sha256");
for (const n of names) h.update(n).update("\0").update(files.get(n)).update("\0");
const version = h.digest("hex").slice(0, 16);
files.set("sw.js", files.get("sw.js").replace("__NAKEDHTMX_SET_VERSION__", version));
if (!files.get("sw.js").includes(version)) throw new Error("sw.js has no version placeholder");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const n of names) writeFileSync(join(out, n), files.get(n));
writeFileSync(join(out, "manifest.json"), JSON.stringify({ version, files: names }, null, 2) + "\n");
console.log(`browser set ${version}: ${names.length} files in ${out}`);
