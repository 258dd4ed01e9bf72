// The config file (nakedhtmx.json): read at start, re-read when it changes,
// and written when the core saves a stored query into it (PROTOCOL.md,
// "Config"). Polling the mtime works the same on every runtime and every
// file system (fs.watch does not: editors replace files, network mounts
// send no events).

import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { clearInterval, setInterval } from "node:timers";
import { errorMessage, NakedhtmxError } from "./errors.ts";
import type { ConfigError } from "./protocol.ts";

/** The file's identity for change detection: "" when it does not exist. */
function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "";
  }
}

/** The file's text; null when it is missing and `optional`. */
function readText(path: string, optional: boolean): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (optional && (e as { code?: unknown }).code === "ENOENT") return null;
    throw new NakedhtmxError("BAD_CONFIG", `cannot read config ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

function parse(path: string, text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new NakedhtmxError("BAD_CONFIG", `config ${path} is not valid JSON: ${errorMessage(e)}`, { cause: e });
  }
}

/** Reads and parses a config file; null when it is missing and `optional`. */
export function readConfig(path: string, optional: boolean): unknown {
  return parse(path, readText(path, optional));
}

/**
 * The config file a server serves: its text as last given to the core (null:
 * none), which a save must still find there before it writes.
 */
export class ConfigFile {
  readonly path: string;
  text: string | null;
  config: unknown;
  private stamp: string;

  constructor(path: string, optional: boolean) {
    this.path = path;
    // The stamp before the read: a change in between is applied (again), not missed.
    this.stamp = stamp(path);
    this.text = readText(path, optional);
    this.config = parse(path, this.text);
  }

  /** The file changed since it was last seen: its text and contents (throws when they do not parse). */
  changed(): { text: string | null; config: unknown } | undefined {
    const now = stamp(this.path);
    if (now === this.stamp) return undefined;
    this.stamp = now;
    const text = now === "" ? null : readText(this.path, true);
    return { text, config: parse(this.path, text) };
  }

  /** Takes note that the core now has this text. */
  applied(text: string | null): void {
    this.text = text;
  }

  /**
   * Writes text over the file when it still holds what the core edited;
   * undefined when written, else why not (409: someone changed it since).
   */
  save(text: string): ConfigError | undefined {
    let current: string | null;
    try {
      current = readText(this.path, true);
    } catch (e) {
      return { status: 500, message: `cannot read the config file: ${errorMessage(e)}` };
    }
    if (current !== this.text) {
      return { status: 409, message: "the config file changed since the server read it: reload and try again" };
    }
    try {
      replaceFile(this.path, text);
    } catch (e) {
      return { status: 500, message: `cannot write the config file: ${errorMessage(e)}` };
    }
    this.stamp = stamp(this.path);
    return undefined;
  }
}

/**
 * Writes data as the file at path all at once: into a new file beside it,
 * synced, then renamed over it, so a reader (or a crash) sees the old text
 * or the new, never half. A symbolic link stays one (its target is
 * replaced); the file keeps its permissions.
 */
function replaceFile(path: string, data: string): void {
  try {
    path = realpathSync(path);
  } catch { /* no file yet: it is created */ }
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o777;
  } catch { /* new */ }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}`);
  const fd = openSync(tmp, "wx", mode);
  try {
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch { /* gone */ }
    throw e;
  }
}

export interface ConfigWatch {
  stop(): void;
}

/**
 * Calls `apply` with the new text and contents whenever the file's mtime,
 * size or inode changes (null when it has gone). A file that does not parse
 * is reported through `log` and the previous config stays.
 */
export function watchConfig(
  file: ConfigFile,
  intervalMs: number,
  apply: (config: unknown, text: string | null) => void,
  log: (line: string) => void,
): ConfigWatch {
  const timer = setInterval(() => {
    try {
      const next = file.changed();
      if (next) apply(next.config, next.text);
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
