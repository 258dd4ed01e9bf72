// Scale-out figures (--write jetstream): a real nats-server and two nodes of
// one host, each with its own file.
//
// - Cross-node write-to-screen latency: a POST on node A, one at a time, until
//   its change event arrives on node B's /api/events (p50, p99), next to the
//   POST's own round trip (A answers once it has applied the command itself).
// - Applied commands per second per node: writes sent to A at a fixed
//   concurrency; from the first send until B (and A) have announced them all.
//
//   node bench/nats.ts [--hosts go,node] [--writes 200] [--load 2000] [--concurrency 16] [--json FILE]

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HostName } from "../tests/http/hosts.ts";
import { data, SSE } from "../tests/http/sse.ts";
import { Nats, Node } from "../tests/nats/cluster.ts";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "go,node" },
    writes: { type: "string", default: "200" },
    load: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    json: { type: "string" },
  },
});
const WRITES = Number(values.writes);
const LOAD = Number(values.load);
const CONCURRENCY = Number(values.concurrency);

const SCHEMA = "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Row {
  host: string;
  p50: number;
  p99: number;
  rtt50: number;
  rtt99: number;
  rateA: number;
  rateB: number;
}

async function measure(host: HostName): Promise<Row> {
  const tmp = mkdtempSync(join(tmpdir(), `nakedhtmx-bench-nats-${host}-`));
  const nats = await Nats.create(join(tmp, "jetstream"));
  const a = new Node(`a-${host}`, host, tmp, SCHEMA, nats);
  const b = new Node(`b-${host}`, host, tmp, SCHEMA, nats);
  try {
    await nats.start();
    await a.start();
    await b.start();
    const onB = await SSE.open(b.url, "/api/events");
    const onA = await SSE.open(a.url, "/api/events");
    const lat: number[] = [];
    const rtt: number[] = [];
    for (let i = 0; i < WRITES + 20; i++) {
      const mark = onB.events.length;
      const t0 = performance.now();
      const res = await a.api("POST", "/api/tables/notes/rows", { title: `latency ${i}` });
      const t1 = performance.now();
      if (res.status !== 201) throw new Error(`POST: ${res.status} ${res.text}`);
      const id = (JSON.parse(res.text) as { pk: { id: number } }).pk.id;
      const e = await onB.waitFor(mark, (e) => e.event === "change" && (data(e) as { pk: { id: number } }).pk.id === id,
        `write ${i} on ${b.name}`);
      if (i >= 20) { // the first ones warm up JIT, caches and the consumer
        lat.push(e.at - t0);
        rtt.push(t1 - t0);
      }
    }
    // Throughput: LOAD writes at a fixed concurrency.
    const markA = onA.events.length;
    const markB = onB.events.length;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < LOAD) {
        const i = next++;
        const res = await a.api("POST", "/api/tables/notes/rows", { title: `load ${i}` });
        if (res.status !== 201 && res.status !== 202) throw new Error(`POST: ${res.status} ${res.text}`);
      }
    }));
    await onA.waitN(markA, LOAD, ["change"], `${LOAD} changes on ${a.name}`, 120000);
    const tA = performance.now();
    await onB.waitN(markB, LOAD, ["change"], `${LOAD} changes on ${b.name}`, 120000);
    const tB = performance.now();
    onA.close();
    onB.close();
    return {
      host,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      rtt50: pct(rtt, 50),
      rtt99: pct(rtt, 99),
      rateA: LOAD / ((tA - t0) / 1000),
      rateB: LOAD / ((tB - t0) / 1000),
    };
  } finally {
    await a.kill().catch(() => {});
    await b.kill().catch(() => {});
    await nats.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const host of values.hosts.split(",") as HostName[]) {
  console.log(`nats bench: ${host}: two nodes, ${WRITES} timed writes, then ${LOAD} at concurrency ${CONCURRENCY}`);
  rows.push(await measure(host));
}
const f = (n: number) => n.toFixed(1).padStart(7);
console.log(`\nscale-out on NATS (--write jetstream), two nodes per host, one nats-server, loopback`);
console.log(`host   | A→B screen p50 | p99     | A's POST p50 | p99     | applied/s on A | on B`);
for (const r of rows) {
  console.log(
    `${r.host.padEnd(6)} | ${f(r.p50)} ms     | ${f(r.p99)} | ${f(r.rtt50)} ms   | ${f(r.rtt99)} | ${
      r.rateA.toFixed(0).padStart(14)
    } | ${r.rateB.toFixed(0).padStart(5)}`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify({ rows }));
