// Checks that the npm package (package.json) and the JSR package (deno.json)
// cannot drift apart, and that the npm tarball holds only what a user runs.
//
//   node scripts/check-exports.mjs        (make test runs it after make build)
//
// 1. Both export maps have the same entries (".", "./cli").
// 2. For every entry, every file behind it (npm: the types of each export
//    condition; JSR: the module) exports the same names, each a value or a
//    type alike, and every exported value has the same type, as the
//    TypeScript checker prints it.
// 3. Runtime dependencies are pinned, and the same in both packages.
// 4. `npm pack --dry-run` lists the package.json, README, LICENSE, the
//    launcher, dist/core.wasm and compiled .js/.d.ts files, nothing else (no
//    tests, no .ts sources, no Deno-only files), and every file an export or
//    the bin names is among them.
// Exits 1 with one line per problem.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const jsr = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const problems = [];

// --- 1. the same entries
const npmKeys = Object.keys(pkg.exports).sort();
const jsrKeys = Object.keys(jsr.exports).sort();
if (npmKeys.join() !== jsrKeys.join()) {
  problems.push(`export maps differ: npm has ${npmKeys.join(", ")}; JSR has ${jsrKeys.join(", ")}`);
}

// --- 2. the same names and value types behind each entry
/** @returns {string[]} the files behind one npm export: its types, and each condition's .d.ts */
function npmFiles(entry) {
  if (typeof entry === "string") return [entry];
  const out = new Set();
  for (const [cond, target] of Object.entries(entry)) {
    out.add(cond === "types" ? target : target.replace(/\.js$/, ".d.ts"));
  }
  return [...out];
}

const files = new Map(); // file → entry key
for (const key of npmKeys) for (const f of npmFiles(pkg.exports[key])) files.set(join(root, f), key);
for (const key of jsrKeys) files.set(join(root, jsr.exports[key]), key);

const program = ts.createProgram([...files.keys()], {
  allowImportingTsExtensions: true,
  allowJs: false,
  noEmit: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2023,
  skipLibCheck: true,
  strict: true,
  types: ["node", "bun"],
});
const checker = program.getTypeChecker();

/** One line per exported name: "name value: TYPE" or "name type". */
function surface(file) {
  const sf = program.getSourceFile(file);
  if (!sf) return null;
  const mod = checker.getSymbolAtLocation(sf);
  if (!mod) return [];
  return checker.getExportsOfModule(mod).map((sym) => {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    if (target.flags & ts.SymbolFlags.Value) {
      const type = checker.typeToString(
        checker.getTypeOfSymbolAtLocation(target, sf),
        sf,
        ts.TypeFormatFlags.NoTruncation,
      );
      // Where a type is declared differs (dist/x.d.ts, bindings/ts/src/x.ts); its name does not.
      return `${sym.name} value: ${type.replace(/import\("[^"]*"\)\./g, "")}`;
    }
    return `${sym.name} type`;
  }).sort();
}

for (const key of new Set([...npmKeys, ...jsrKeys])) {
  const behind = [...files].filter(([, k]) => k === key).map(([f]) => f);
  let first;
  for (const f of behind) {
    const s = surface(f);
    const rel = f.slice(root.length + 1);
    if (s === null) {
      problems.push(`${key}: ${rel} is missing (run make build first)`);
      continue;
    }
    if (s.length === 0) problems.push(`${key}: ${rel} exports nothing`);
    if (!first) {
      first = { rel, s };
      continue;
    }
    const only = (a, b) => a.filter((x) => !b.includes(x));
    for (const x of only(first.s, s)) problems.push(`${key}: ${first.rel} has "${x}", ${rel} has not`);
    for (const x of only(s, first.s)) problems.push(`${key}: ${rel} has "${x}", ${first.rel} has not`);
  }
}

// --- 3. the tarball's contents
const packed = JSON.parse(
  execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }),
)[0].files.map((f) => f.path);
// dist/browser/: the browser set (the offline service worker and what it
// runs), exactly the files its manifest names.
const browserSet = JSON.parse(readFileSync(join(root, "dist", "browser", "manifest.json"), "utf8")).files.map((f) => `dist/browser/${f}`);
const allowed = /^(package\.json|README\.md|LICENSE|npm\/README\.md|npm\/bin\/nakedhtmx\.js|dist\/core\.wasm|dist\/[a-z_]+\.(js|d\.ts))$/;
for (const f of [...browserSet, "dist/browser/manifest.json"]) {
  if (!packed.includes(f)) problems.push(`npm tarball: ${f} (the browser set) is not packed`);
}
for (const f of packed) {
  const inSet = f === "dist/browser/manifest.json" || browserSet.includes(f);
  if ((!allowed.test(f) && !inSet) || /_deno\./.test(f)) problems.push(`npm tarball: ${f} does not belong in it`);
}
const needed = ["dist/core.wasm", "LICENSE", ...Object.values(pkg.bin)];
for (const key of npmKeys) {
  const e = pkg.exports[key];
  needed.push(...(typeof e === "string" ? [e] : Object.values(e)));
}
for (const f of needed.map((f) => f.replace(/^\.\//, ""))) {
  if (!packed.includes(f)) problems.push(`npm tarball: ${f} is named by package.json but not packed`);
}
// Runtime dependencies (the NATS client, loaded only with --nats; the
// Postgres client, only for a postgres:// database) and optional peers
// (PGlite, installed beside nakedhtmx to use pglite:DIR) are pinned exactly,
// and the JSR package maps the same ones to the same versions.
const optionalPeers = Object.fromEntries(
  Object.entries(pkg.peerDependencies ?? {}).filter(([name]) => pkg.peerDependenciesMeta?.[name]?.optional),
);
const runtime = { ...pkg.dependencies, ...optionalPeers };
for (const [name, version] of Object.entries(runtime)) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) problems.push(`npm package: dependency ${name} is not pinned (${version})`);
  const mapped = jsr.imports?.[name];
  if (mapped !== `npm:${name}@${version}`) {
    problems.push(`JSR package: imports["${name}"] is ${JSON.stringify(mapped)}, want "npm:${name}@${version}"`);
  }
}
for (const name of Object.keys(jsr.imports ?? {})) {
  if (!runtime[name]) problems.push(`JSR package: imports ${name}, which the npm package does not depend on`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(`check-exports: ${p}`);
  process.exit(1);
}
console.log(`check-exports: npm and JSR export ${npmKeys.join(", ")} alike; tarball holds ${packed.length} files`);
