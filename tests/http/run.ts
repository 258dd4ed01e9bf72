// HTTP conformance suite: starts one host as a real subprocess on a fresh
// database, checks CONTRACT.md over loopback HTTP, and records every answer so
// the hosts can be compared with each other afterwards.
//
//   node tests/http/run.ts --host go|wasm|deno|bun|node|node22   one host (a comma list runs several)
//   node tests/http/run.ts --compare                      compare the recorded answers of every host
//
// Options: --answers DIR (where answers are kept; default $TMPDIR/nakedhtmx-http-answers),
// --only TEXT (run the tests whose name contains TEXT), --keep (keep the temp dir),
// --verbose (print every test, not only failures).

import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { faultTests } from "./faults.ts";
import { Ctx, mainTests, globalTests, cliTests } from "./cases.ts";
import { chinookTests } from "./chinook.ts";
import { buildFidelity, fidelityTests } from "./fidelity.ts";
import { REAL_DBS, realDbTests } from "./realdbs.ts";
import { buildFixture, copyChinook, chinookPath } from "./fixture.ts";
import { sharedCluster } from "./pg.ts";
import { postgresTests } from "./pgcases.ts";
import { runTests, Recorder, type Recorded, type Result, type Test } from "./harness.ts";
import { HOSTS, prepareHost, startServer, staleBuild, type HostName, type Server } from "./hosts.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    compare: { type: "boolean", default: false },
    answers: { type: "string", default: join(tmpdir(), "nakedhtmx-http-answers") },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    store: { type: "string", default: "sqlite" },
  },
});
if (values.store !== "sqlite" && values.store !== "postgres") {
  console.error(`unknown store ${values.store}; want sqlite or postgres`);
  process.exit(2);
}
const onPostgres = values.store === "postgres";


const running = new Set<Server>();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const s of running) s.proc.kill("SIGKILL");
    process.exit(130);
  });
}

/**
 * What one host's run on one store collects: its results, the answers it
 * records (under the origin of the server it is serving), and how it logs
 * and notes a failure outside a test.
 */
function leg(tmp: string) {
  const results: Result[] = [];
  let origin = "";
  return {
    results,
    rec: new Recorder(() => origin, tmp),
    log: (s: string) => { if (values.verbose || !s.startsWith("  ok")) console.log(s); },
    fail: (name: string, e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      results.push({ name, ok: false, error: msg, ms: 0 });
      console.log(`  FAIL  ${name}\n        ${msg.replace(/\n/g, "\n        ")}`);
    },
    serving: (url: URL) => { origin = url.origin; },
  };
}

/** Keeps a leg's answers for --compare (name: the host, and the store when not SQLite) and removes its temp dir. */
function endLeg(name: string, store: string, rec: Recorder, tmp: string): void {
  mkdirSync(values.answers!, { recursive: true });
  const out: Record<string, Recorded> = Object.fromEntries(rec.answers);
  writeFileSync(join(values.answers!, `${name}.json`), JSON.stringify({ host: name, store, suite: suiteHash(), answers: out }, null, 1) + "\n");
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`http(${name}): kept ${tmp}`);
}

async function runHost(host: HostName): Promise<boolean> {
  if (onPostgres) return runHostPostgres(host);
  const tmp = mkdtempSync(join(tmpdir(), `nakedhtmx-http-${host}-`));
  const { log, results, rec, fail, serving } = leg(tmp);
  const only = (ts: Test[]) => values.only ? ts.filter((t) => t.name.includes(values.only!)) : ts;
  console.log(`http(${host}): preparing`);
  const stale = staleBuild(host);
  if (stale) console.log(`http(${host}): warning: ${stale}`);
  try {
    let hc;
    try {
      hc = prepareHost(host, tmp);
    } catch (e) {
      fail(`${host} host builds`, e);
      return report(host, results);
    }
    const db = join(tmp, "fixture.db");
    buildFixture(db);
    let server: Server;
    try {
      server = await startServer(hc, ["--db", db, "--port", "0", "--host", "127.0.0.1"]);
    } catch (e) {
      fail(`${host} host starts`, e);
      return report(host, results);
    }
    running.add(server);
    serving(server.url);
    console.log(`http(${host}): serving ${server.url}`);
    const ctx = new Ctx(host, hc, tmp, db, server, rec);
    try {
      results.push(...await runTests(only([...mainTests(ctx), ...globalTests(ctx)]), log));
    } finally {
      // chinook and the CLI cases start servers of their own
      if (server.proc.exitCode === null) {
        results.push(...await runTests(only(cliTests(ctx)), log));
      }
      running.delete(server);
      await server.stop("SIGKILL");
    }
    // A server of its own on one database file for each further group of
    // tests, stopped when they are done.
    const onServer = async (file: string, what: string, tests: (srv: Server) => Test[]) => {
      let srv: Server | null = null;
      try {
        srv = await startServer(hc, ["--db", file, "--port", "0", "--host", "127.0.0.1"]);
        running.add(srv);
        serving(srv.url);
        results.push(...await runTests(only(tests(srv)), log));
      } catch (e) {
        fail(`${what}: the host starts on it`, e);
      } finally {
        if (srv) {
          running.delete(srv);
          await srv.stop();
        }
      }
    };
    const chinook = copyChinook(tmp);
    if (!chinook) {
      console.log(`  skip  chinook: ${chinookPath} is absent`);
    } else if (only(chinookTests(ctx)).length > 0) {
      await onServer(chinook, "chinook", (srv) => chinookTests(new Ctx(host, hc, tmp, chinook, srv, rec)));
    }
    const fidelity = join(tmp, "fidelity.db");
    buildFidelity(fidelity);
    await onServer(fidelity, "fidelity", (srv) => fidelityTests(() => srv.url, fidelity));
    for (const src of REAL_DBS) {
      const label = basename(src);
      if (!existsSync(src)) {
        console.log(`  skip  ${label}: ${src} is absent (scripts/ensure-realdbs.sh fetches it)`);
        continue;
      }
      const file = join(tmp, label);
      copyFileSync(src, file);
      await onServer(file, label, (srv) => realDbTests(() => srv.url, file, label));
    }
    results.push(...await runTests(only(faultTests(hc, tmp, running)), log));
  } finally {
    endLeg(host, "sqlite", rec, tmp);
  }
  return report(host, results);
}

/**
 * The Postgres leg: the same cases on the same fixture loaded into a fresh
 * Postgres database, but for those that are about SQLite itself (rowids, the
 * file, its authorizer), and then Postgres's own faults. Answers are kept
 * apart from SQLite's and compared between the hosts on Postgres.
 */
async function runHostPostgres(host: HostName): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), `nakedhtmx-http-${host}-pg-`));
  const name = `${host}@postgres`;
  const { log, results, rec, fail, serving } = leg(tmp);
  const keep = (ts: Test[]) => ts.filter((t) => !t.sqliteOnly && (!values.only || t.name.includes(values.only)));
  console.log(`http(${name}): preparing`);
  try {
    const cluster = sharedCluster();
    if (typeof cluster === "string") {
      console.log(`  skip  the Postgres leg: ${cluster}`);
      return true;
    }
    let hc;
    try {
      hc = prepareHost(host, tmp);
    } catch (e) {
      fail(`${host} host builds`, e);
      return report(name, results);
    }
    const db = cluster.createDatabase();
    buildFixture(db);
    let server: Server;
    try {
      server = await startServer(hc, ["--db", db, "--port", "0", "--host", "127.0.0.1"]);
    } catch (e) {
      fail(`${name} host starts`, e);
      return report(name, results);
    }
    running.add(server);
    serving(server.url);
    console.log(`http(${name}): serving ${server.url}`);
    const ctx = new Ctx(host, hc, tmp, db, server, rec);
    const all = [...mainTests(ctx), ...globalTests(ctx)];
    const left = all.length - keep(all).length;
    try {
      results.push(...await runTests(keep(all), log));
    } finally {
      running.delete(server);
      await server.stop("SIGKILL");
    }
    if (!values.only) console.log(`http(${name}): ${left} SQLite-only cases left out`);
    results.push(...await runTests(keep(postgresTests(hc, tmp, cluster, running)), log));
  } finally {
    endLeg(name, "postgres", rec, tmp);
  }
  return report(name, results);
}

/** Identifies the version of the cases, so answers recorded by another version are not compared. */
function suiteHash(): string {
  const h = createHash("sha256");
  for (const f of ["cases.ts", "pgcases.ts", "chinook.ts", "fidelity.ts", "realdbs.ts", "fixture.ts", "harness.ts"]) h.update(readFileSync(join(import.meta.dirname, f)));
  return h.digest("hex").slice(0, 12);
}

function report(host: string, results: Result[]): boolean {
  const skipped = results.filter((r) => r.skipped).length;
  const passed = results.filter((r) => r.ok && !r.skipped).length;
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) {
    console.log(`failed on ${host}:`);
    for (const r of results.filter((r) => !r.ok)) console.log(`  - ${r.name}`);
  }
  if (skipped > 0) console.log(`http(${host}): ${skipped} skipped`);
  console.log(`http(${host}): ${passed} passed, ${failed} failed`);
  return failed === 0;
}

/** Compares every recorded answer across the hosts that recorded answers on one store. */
function compare(dir: string, store: string): boolean {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  } catch {
    // no answers yet
  }
  const hosts = new Map<string, Record<string, Recorded>>();
  const current = suiteHash();
  for (const f of files) {
    const j = JSON.parse(readFileSync(join(dir, f), "utf8"));
    if ((j.store ?? "sqlite") !== store) continue;
    if (j.suite !== current) {
      console.log(`compare: leaving out ${j.host}: its answers come from another version of the cases (run --host ${String(j.host).split("@")[0]}${store === "sqlite" ? "" : ` --store ${store}`} again)`);
      continue;
    }
    hosts.set(j.host, j.answers);
  }
  if (hosts.size < 2) {
    console.log(`compare: answers of ${hosts.size} host(s) in ${dir}; run --host for at least two first`);
    console.log(`compare: 0 answers, 0 differ`);
    return hosts.size > 0;
  }
  const names = [...hosts.keys()];
  const keys = new Set<string>();
  for (const a of hosts.values()) for (const k of Object.keys(a)) keys.add(k);
  let differ = 0;
  for (const k of keys) {
    const groups = new Map<string, string[]>();
    for (const h of names) {
      const a = hosts.get(h)![k];
      const s = a === undefined ? "(no answer)" : JSON.stringify(a);
      groups.set(s, [...(groups.get(s) ?? []), h]);
    }
    if (groups.size === 1) continue;
    differ++;
    if (differ <= 30) {
      console.log(`DIFF  ${k}`);
      const variants = [...groups.entries()];
      const [base] = variants[0];
      for (const [s, hs] of variants) {
        console.log(`  ${hs.join(", ")}: ${describe(s, base)}`);
      }
    }
  }
  if (differ > 30) console.log(`… and ${differ - 30} more`);
  console.log(`compare: ${names.join(", ")}: ${keys.size} answers, ${differ} differ`);
  return differ === 0;
}

/** A short account of how s differs from base (the first variant). */
function describe(s: string, base: string): string {
  if (s === base) return s.length > 160 ? s.slice(0, 160) + "…" : s;
  let i = 0;
  while (i < s.length && i < base.length && s[i] === base[i]) i++;
  const from = Math.max(0, i - 40);
  return `differs at ${i}: …${s.slice(from, i + 120)}…`;
}

let ok = true;
if (values.compare) {
  ok = compare(values.answers!, values.store!);
} else if (values.host) {
  const list = values.host === "all" ? [...HOSTS] : values.host.split(",");
  for (const h of list) {
    if (!(HOSTS as readonly string[]).includes(h)) {
      console.error(`unknown host ${h}; want one of ${HOSTS.join(", ")}`);
      process.exit(2);
    }
    ok = (await runHost(h as HostName)) && ok;
  }
  if (list.length > 1) ok = compare(values.answers!, values.store!) && ok;
} else {
  console.error("usage: node tests/http/run.ts --host go|wasm|deno|bun|node|node22|all  or  --compare");
  process.exit(2);
}
process.exit(ok ? 0 : 1);
