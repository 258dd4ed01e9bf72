#!/usr/bin/env node
// The `nakedhtmx` command on Node and Bun (`npx nakedhtmx`, `bunx nakedhtmx`).
// It goes through the package's own exports map: the "bun" condition picks
// dist/cli_bun.js (bun:sqlite, Bun.serve), any other runtime dist/cli_node.js
// (node:sqlite, node:http). Build dist/ first: `make build`.

import process from "node:process";

// node:sqlite still announces itself as experimental on every start; that line
// is noise on a server's stderr, whose errors are meant to be one line.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  if (type === "ExperimentalWarning" && String(warning?.message ?? warning).includes("SQLite")) return;
  return emitWarning.call(process, warning, ...rest);
};

const REEXEC = "NAKEDHTMX_SQLITE_REEXEC";

if (!process.versions.bun && !process.versions.deno) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 5)) {
    process.stderr.write(`nakedhtmx: Node >= 22.5 is needed for node:sqlite; this is Node ${process.version}\n`);
    process.exit(1);
  }
  if (process.env[REEXEC] !== undefined) {
    delete process.env[REEXEC];
    watchParent();
  } else if (!process.getBuiltinModule("node:sqlite") && !process.execArgv.includes("--experimental-sqlite")) {
    // Node 22.5 to 22.12 (and 23.0 to 23.3) have node:sqlite only behind a flag.
    process.exit(await runWithFlag());
  }
}

let cli;
try {
  cli = await import("nakedhtmx/cli");
} catch (e) {
  // In a checkout without a build, dist/ is missing: say so on one line.
  const msg = String(e?.message ?? e).split("\n")[0];
  process.stderr.write(`nakedhtmx: cannot load the CLI (${msg}); in a checkout, run "make build"\n`);
  process.exit(1);
}
process.exit(await cli.main(process.argv.slice(2)));

/**
 * Runs this script again in a child Node with --experimental-sqlite: same
 * arguments, stdio, environment and working directory. On Unix the child has
 * its own session, so a terminal's Ctrl-C reaches it once, through this
 * process: SIGINT, SIGTERM and SIGHUP sent here are passed on. Resolves with
 * the child's exit code; a child killed by a signal kills this process with
 * the same signal.
 */
async function runWithFlag() {
  const { spawn } = await import("node:child_process");
  const { constants } = await import("node:os");
  const unix = process.platform !== "win32";
  const child = spawn(process.execPath, [...process.execArgv, "--experimental-sqlite", ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: unix,
    env: { ...process.env, [REEXEC]: "1" },
  });
  // On Windows a console's Ctrl-C reaches the child by itself (and child.kill
  // would only terminate it): wait for it instead.
  const signals = unix ? ["SIGINT", "SIGTERM", "SIGHUP"] : ["SIGINT"];
  const forward = (sig) => {
    if (unix && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of signals) process.on(sig, forward);
  const [code, signal] = await new Promise((resolve) => {
    child.on("error", (e) => {
      process.stderr.write(`nakedhtmx: cannot run ${process.execPath} --experimental-sqlite (${e.message})\n`);
      resolve([1, null]);
    });
    child.on("exit", (c, s) => resolve([c, s]));
  });
  for (const sig of signals) process.off(sig, forward);
  if (signal) {
    process.kill(process.pid, signal);
    return 128 + (constants.signals[signal] ?? 0);
  }
  return code ?? 1;
}

/** In the child of runWithFlag: when the parent is gone, stop as on SIGTERM. */
function watchParent() {
  if (!process.channel) return;
  process.channel.unref();
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
}
