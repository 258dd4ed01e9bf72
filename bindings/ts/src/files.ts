// The files directory of file columns (PROTOCOL.md, "Files"; sqldb.Files in
// Go): where the core's file requests are answered on every JS runtime. The
// core names files by keys of one strict form, checked again here, so no
// request can name a path outside the directory; a symbolic link planted
// there is never followed.

import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { errorMessage } from "./errors.ts";
import type { FileRequest, SQLResult } from "./protocol.ts";

/** sqldb.FileKeyOK: 32 hex digits, the size, one of the core's endings. */
const KEY = /^[0-9a-f]{32}-(?:0|[1-9][0-9]{0,14})\.(?:png|jpg|gif|webp|pdf|zip|gz|sqlite|txt|bin)$/;

const done: SQLResult = { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };

function code(e: unknown): unknown {
  return (e as { code?: unknown }).code;
}

export class FileDir {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  /** Answers one file request as the `sql` import answers SQL. */
  run(f: FileRequest): SQLResult {
    if (!KEY.test(f.key)) return { error: `not a file key: ${JSON.stringify(f.key)}`, code: "SQLITE_MISUSE" };
    const path = join(this.path, f.key);
    try {
      switch (f.op) {
        case "put":
          this.put(path, f.data ?? new Uint8Array());
          return done;
        case "get": {
          if (!lstatSync(path).isFile()) return { error: "no such file", code: "NOT_FOUND" }; // a link, a directory
          const b = readFileSync(path);
          return {
            columns: ["data"],
            rows: [[new Uint8Array(b.buffer, b.byteOffset, b.byteLength)]],
            changes: 0,
            lastInsertRowid: 0,
          };
        }
        case "delete":
          try {
            unlinkSync(path);
          } catch (e) {
            if (code(e) !== "ENOENT") throw e;
          }
          return done;
      }
    } catch (e) {
      if (code(e) === "ENOENT") return { error: "no such file", code: "NOT_FOUND" };
      return { error: errorMessage(e), code: "SQLITE_IOERR" };
    }
    return { error: `unknown file op ${JSON.stringify(f.op)}`, code: "SQLITE_MISUSE" };
  }

  /** Whole or not at all: a temporary name, synced, renamed over the key. */
  private put(path: string, data: Uint8Array): void {
    mkdirSync(this.path, { recursive: true, mode: 0o700 });
    const tmp = join(this.path, `.tmp-${randomBytes(8).toString("hex")}`);
    const fd = openSync(tmp, "wx", 0o600);
    let written = false;
    try {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
      written = true;
    } finally {
      closeSync(fd);
      if (!written) unlinkSync(tmp);
    }
    renameSync(tmp, path);
  }
}

/**
 * Where a server keeps file columns' files (filedir.Default in Go): the
 * config's files.dir, relative to the config file's directory, else beside
 * a SQLite file, DB-files; none for Postgres (the core then refuses file
 * columns without files.dir).
 */
export function defaultFilesDir(db: string, config: unknown, configPath: string | undefined): string | undefined {
  const dir = (config as { files?: { dir?: unknown } } | null)?.files?.dir;
  if (typeof dir === "string" && dir !== "") {
    return isAbsolute(dir) || configPath === undefined ? dir : join(dirname(configPath), dir);
  }
  if (db === "" || db.includes("://") || db.startsWith("file:") || db.startsWith("pglite:") || db === ":memory:") {
    return undefined;
  }
  return `${db}-files`;
}
