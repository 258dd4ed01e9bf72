// How to start each host as a real subprocess, as a user would (CONTRACT.md,
// "Launching"), and how to stop it.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "./fixture.ts";

// node22: the Node CLI on Node 22.12 (node:sqlite behind a flag, rows as
// objects), installed on first use by bindings/ts/test/node22.sh.
export const HOSTS = ["go", "wasm", "deno", "bun", "node", "node22"] as const;
export type HostName = (typeof HOSTS)[number];

export interface HostCommand {
  cmd: string;
  args: string[];
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** Files a host needs before it can start; missing ones mean "not built yet". */
export function hostPrerequisites(host: HostName): string[] {
  switch (host) {
    case "go": return [join(repoRoot, "core/cmd/nakedhtmx")];
    case "wasm": return [join(repoRoot, "bindings/go/cmd/nakedhtmx-wasm"), join(repoRoot, "dist/core.wasm")];
    case "deno": return [join(repoRoot, "deno/serve.ts"), join(repoRoot, "dist/core.wasm")];
    case "bun":
    case "node":
    case "node22": return [join(repoRoot, "npm/bin/nakedhtmx.js"), join(repoRoot, "dist/core.wasm")];
  }
}

/** The newest modification time of the files under dir that match re. */
function newest(dir: string, re: RegExp): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && re.test(e.name)) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** Warns when a host would run a build older than its sources (make build fixes it). */
export function staleBuild(host: HostName): string | null {
  if (host === "go") return null; // built from source on every run
  const wasm = join(repoRoot, "dist/core.wasm");
  if (!existsSync(wasm)) return null;
  const core = Math.max(newest(join(repoRoot, "core"), /^(?!.*_test\.go$).*\.(go|html|css|js)$/));
  if (core > statSync(wasm).mtimeMs) return "dist/core.wasm is older than core/: run make build";
  if (host !== "wasm" && existsSync(join(repoRoot, "dist/mod.js")) &&
    newest(join(repoRoot, "bindings/ts/src"), /\.ts$/) > statSync(join(repoRoot, "dist/mod.js")).mtimeMs) {
    return "dist/*.js is older than bindings/ts/src: run make build";
  }
  return null;
}

/**
 * Prepares a host once: the Go hosts are built to a binary (go run would
 * recompile on every start). Returns the command that starts it, before flags.
 */
export function prepareHost(host: HostName, tmp: string): HostCommand {
  const missing = hostPrerequisites(host).filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`host ${host} is not built: missing ${missing.join(", ")}`);
  const goBuild = (pkg: string, out: string): HostCommand => {
    const bin = join(tmp, out);
    // The native host carries the browser set (offline use) when make build
    // made one, as make demo HOST=go builds it.
    const tags = existsSync(join(repoRoot, "bindings/go/browserset/set/manifest.json")) ? ["-tags", "browserset"] : [];
    const r = spawnSync("go", ["build", ...tags, "-o", bin, pkg], { cwd: repoRoot, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`go build ${pkg} failed:\n${r.stderr || r.error}`);
    return { cmd: bin, args: [] };
  };
  switch (host) {
    case "go": return goBuild("./core/cmd/nakedhtmx", "nakedhtmx");
    case "wasm": return goBuild("./bindings/go/cmd/nakedhtmx-wasm", "nakedhtmx-wasm");
    case "deno": return { cmd: "deno", args: ["run", "-A", "deno/serve.ts"] };
    case "bun": return { cmd: "bun", args: ["npm/bin/nakedhtmx.js"] };
    case "node": return { cmd: "node", args: ["npm/bin/nakedhtmx.js"] };
    case "node22": {
      const r = spawnSync("bash", [join(repoRoot, "bindings/ts/test/node22.sh")], { cwd: repoRoot, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`cannot install Node 22.12:\n${r.stderr || r.error}`);
      return { cmd: r.stdout.trim(), args: ["npm/bin/nakedhtmx.js"] };
    }
  }
}

export interface Server {
  url: URL;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then wait; returns the exit code (null: killed after the grace time). */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(proc: ChildProcess) {
  let out = "";
  let err = "";
  proc.stdout?.setEncoding("utf8").on("data", (s: string) => { out += s; });
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => { err += s; });
  return { out: () => out, err: () => err };
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
    else proc.once("exit", (code) => resolve(code));
  });
}

/** Starts a server and waits for the line that names its URL. */
export async function startServer(hc: HostCommand, flags: string[], timeoutMs = 60000): Promise<Server> {
  const proc = spawn(hc.cmd, [...hc.args, ...flags], {
    cwd: hc.cwd ?? repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...hc.env },
  });
  const io = collect(proc);
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`no URL line within ${timeoutMs} ms\nstdout: ${io.out()}\nstderr: ${io.err()}`));
    }, timeoutMs);
    const look = () => {
      const m = /http:\/\/([^\s\/]+):(\d+)\//.exec(io.out());
      if (m && m[2] !== "0") {
        clearTimeout(timer);
        resolve(new URL(m[0]));
      }
    };
    proc.stdout?.on("data", look);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing its URL\nstdout: ${io.out()}\nstderr: ${io.err()}`));
    });
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return {
    url,
    proc,
    stdout: io.out,
    stderr: io.err,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (proc.exitCode !== null) return proc.exitCode;
      const done = exited(proc);
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a host command to completion (bad flags, the schema subcommand). */
export async function runToExit(hc: HostCommand, args: string[], timeoutMs = 60000, stdin?: string): Promise<Exit> {
  const proc = spawn(hc.cmd, [...hc.args, ...args], { cwd: repoRoot, stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  if (stdin !== undefined) proc.stdin!.end(stdin);
  const io = collect(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const code = await exited(proc);
  clearTimeout(timer);
  return { code, stdout: io.out(), stderr: io.err() };
}


/** Every process below pid (children, their children, ...), from /proc (Linux). */
export function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** A loopback port free just now (a server started on it again keeps its origin). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
