// Group commit for the TS hosts' SQLite (bindings/PROTOCOL.md, "Group
// commit"): the writes of one turn of the event loop share one transaction.
//
// A write made by the core is BEGIN IMMEDIATE, a few statements, COMMIT. On
// node:sqlite and bun:sqlite most of a small write's cost is its commit
// (locks, WAL frames, checksums: measured 157 us a create with a commit each
// against 58 us with one commit per turn, in a bare node:http server), and a
// JS host answers one request at a time anyway. So the first BEGIN IMMEDIATE
// of a turn opens the real transaction, each write runs inside a SAVEPOINT
// of its own (its ROLLBACK undoes only it, exactly as before), and the real
// COMMIT runs once, after the turn (setImmediate), for every write of it.
//
// Nothing leaves before that commit: every answer made while a group is open
// waits for it (settled()), and so do the live ticks (flush() first), so no
// client and no stream sees a row that is not durable yet. When the commit
// fails, nothing of the group is kept; the host starts the core again and
// asks it each request of the group again, and until a commit succeeds each
// write commits alone: every request hears its own outcome (a full disk:
// 507), as if there had been no group.
//
// What runs on another connection (a caller's SQL, a read or write in the
// read lane, a file column's file) first commits what is open, so it sees
// the writes before it and waits for no lock of ours; a file written inside a
// write makes that write commit for real at its own COMMIT, since a file is
// settled (an old one removed) once its row is written.

import type { SQLRequest, SQLResult, SQLRows, SQLValue } from "./protocol.ts";
import { type Database, SCHEMA_VERSION_SQL } from "./sqlite.ts";

const SAVEPOINT = "nakedhtmx_group";
const OK: SQLRows = { columns: [], rows: [], changes: 0, lastInsertRowid: 0 };

function stmt(sql: string): SQLRequest {
  return { sql, params: [], script: false };
}

/** Statements that end or open a transaction: outside a write of the group, the group commits first. */
const txnRe = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
/** DDL: the write that runs it commits on its own, and the next group looks at the schema again. */
const ddlRe = /^\s*(CREATE|ALTER|DROP)\b/i;
/**
 * A deferred constraint is checked at COMMIT, not at RELEASE: one write
 * breaking it would fail every write of its group. While any table has one,
 * each write commits on its own, and its failure stays its own.
 */
const DEFERRED_SQL = "SELECT 1 FROM sqlite_schema WHERE sql LIKE '%DEFERRABLE%' LIMIT 1";

export class GroupCommit implements Database {
  readonly #db: Database;
  readonly #later: (fn: () => void) => void;
  readonly #onFailure: (message: string) => void;
  /** The open group: the real transaction is open while there is one. */
  #group: { settled: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  /** A write of the core is under way inside it (its SAVEPOINT is open). */
  #inWrite = false;
  /** The write under way must commit for real at its COMMIT. */
  #eager = false;
  /** Since a group failed, until a commit succeeds: each write commits alone, so each hears its own outcome. */
  #alone = false;
  /** DEFERRED_SQL's last answer, and the schema version it was read at. */
  #deferred: { version: SQLValue; found: boolean } | undefined;

  /**
   * later: how the commit is put after the turn (default setImmediate);
   * onFailure: told when a group's commit failed (the core is opened again).
   */
  constructor(db: Database, opts: { later?: (fn: () => void) => void; onFailure?: (message: string) => void } = {}) {
    this.#db = db;
    this.#later = opts.later ?? ((fn) => setImmediate(fn));
    this.#onFailure = opts.onFailure ?? (() => {});
  }

  get path(): string | undefined {
    return this.#db.path;
  }

  get lane(): Database["lane"] {
    return this.#db.lane;
  }

  /** Undefined when nothing waits for a commit; else settles when the turn's writes are committed (rejects when they are not). */
  settled(): Promise<void> | undefined {
    return this.#group?.settled;
  }

  /**
   * Commits what is open now. Inside a write, that write commits for real
   * at its own COMMIT instead (it cannot be cut in two).
   */
  flush(): void {
    if (!this.#group) return;
    if (this.#inWrite) this.#eager = true;
    else this.#commitNow();
  }

  /** The real COMMIT; its failure, if it failed (the answers waiting are then asked again). */
  #commitNow(): SQLResult | undefined {
    const r = this.#db.run(stmt("COMMIT"));
    if ("error" in r) {
      this.#db.run(stmt("ROLLBACK"));
      this.#fail(r.error);
      return r;
    }
    const group = this.#group;
    this.#group = undefined;
    this.#alone = false;
    group?.resolve();
    return undefined;
  }

  #fail(message: string): void {
    const group = this.#group;
    this.#group = undefined;
    this.#inWrite = this.#eager = false;
    this.#alone = true;
    // The host first (it starts the core again), then the answers waiting,
    // which ask the core again, each write alone.
    this.#onFailure(message);
    group?.reject(new Error(`the write was not committed: ${message}`));
  }

  run(req: SQLRequest): SQLResult {
    // What leaves for another connection before it gets here (files, caller
    // SQL, the read lane) the core flushes for; of what comes here, a
    // caller's read goes on to the lane, and a script may hold transaction
    // statements of its own.
    if (req.script || req.read) {
      if (!this.#inWrite) this.flush();
      // A script inside a write may hold DDL (as a lone CREATE or ALTER
      // does): that write commits on its own.
      else if (req.script) this.#eager = true;
      return this.#db.run(req);
    }
    const sql = req.sql;
    if (sql === "BEGIN IMMEDIATE" && !this.#inWrite) return this.#begin();
    if (this.#inWrite) {
      if (sql === "COMMIT") return this.#commit();
      if (sql === "ROLLBACK") return this.#rollback();
      if (ddlRe.test(sql)) this.#eager = true;
    } else if (this.#group && txnRe.test(sql)) {
      this.flush();
    }
    return this.#db.run(req);
  }

  #begin(): SQLResult {
    let alone = this.#alone;
    if (!this.#group) {
      const r = this.#db.run(stmt("BEGIN IMMEDIATE"));
      if ("error" in r) return r;
      if (!alone) alone = this.#hasDeferred();
      let resolve!: () => void, reject!: (e: Error) => void;
      const settled = new Promise<void>((ok, no) => {
        resolve = ok;
        reject = no;
      });
      // Nobody may be left waiting on a promise no one handles.
      settled.catch(() => {});
      this.#group = { settled, resolve, reject };
      this.#later(() => this.flush());
    }
    const r = this.#db.run(stmt(`SAVEPOINT ${SAVEPOINT}`));
    if ("error" in r) return r;
    this.#inWrite = true;
    this.#eager = alone;
    return OK;
  }

  /**
   * Whether a table's SQL says DEFERRABLE (true when it cannot tell), asked
   * again only when the schema's version, read inside the group's BEGIN
   * IMMEDIATE, moved (reading sqlite_schema with a LIKE was a fifth of a
   * group of a few creates; the PRAGMA reads the header).
   */
  #hasDeferred(): boolean {
    const v = this.#db.run(stmt(SCHEMA_VERSION_SQL));
    const version = "error" in v ? undefined : v.rows[0]?.[0];
    if (version !== undefined && this.#deferred?.version === version) return this.#deferred.found;
    const r = this.#db.run(stmt(DEFERRED_SQL));
    const found = "error" in r || r.rows.length > 0;
    this.#deferred = version === undefined || "error" in r ? undefined : { version, found };
    return found;
  }

  #commit(): SQLResult {
    const r = this.#db.run(stmt(`RELEASE ${SAVEPOINT}`));
    // A failed RELEASE leaves the write open: the core's ROLLBACK follows.
    if ("error" in r) return r;
    this.#inWrite = false;
    if (this.#eager) {
      this.#eager = false;
      // This write's COMMIT is the real one: its failure is this write's too.
      return this.#commitNow() ?? OK;
    }
    return OK;
  }

  #rollback(): SQLResult {
    this.#inWrite = this.#eager = false;
    const r = this.#db.run(stmt(`ROLLBACK TO ${SAVEPOINT}`));
    if ("error" in r) {
      // SQLite rolled the whole transaction back by itself (I/O error, disk
      // full, interrupt): the earlier writes of the turn are gone with it.
      this.#db.run(stmt("ROLLBACK"));
      this.#fail(r.error);
      return OK;
    }
    this.#db.run(stmt(`RELEASE ${SAVEPOINT}`));
    return OK;
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}
