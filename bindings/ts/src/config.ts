// The config file (nakedhtmx.json): read at start, re-read when it changes.
// Polling the mtime works the same on every runtime and every file system
// (fs.watch does not: editors replace files, network mounts send no events).

import { readFileSync, statSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { errorMessage, NakedhtmxError } from "./errors.ts";

/** The file's identity for change detection: "" when it does not exist. */
function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "";
  }
}

/** Reads and parses a config file; null when it is missing and `optional`. */
export function readConfig(path: string, optional: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (optional && (e as { code?: unknown }).code === "ENOENT") return null;
    throw new NakedhtmxError("BAD_CONFIG", `cannot read config ${path}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new NakedhtmxError("BAD_CONFIG", `config ${path} is not valid JSON: ${errorMessage(e)}`, { cause: e });
  }
}

export interface ConfigWatch {
  stop(): void;
}

/**
 * Calls `apply` with the new contents whenever the file's mtime, size or inode
 * changes (null when it has gone). A file that does not parse is reported
 * through `log` and the previous config stays.
 */
export function watchConfig(
  path: string,
  intervalMs: number,
  apply: (config: unknown) => void,
  log: (line: string) => void,
): ConfigWatch {
  let last = stamp(path);
  const timer = setInterval(() => {
    const now = stamp(path);
    if (now === last) return;
    last = now;
    try {
      apply(now === "" ? null : readConfig(path, true));
    } catch (e) {
      log(`${errorMessage(e)}; keeping the previous config`);
    }
  }, intervalMs);
  timer.unref(); // a library user's process must be free to exit while we watch
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
