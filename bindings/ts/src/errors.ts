/** What went wrong, for callers that branch on it (the CLI maps each to an exit code). */
export type NakedhtmxErrorCode =
  /** An option or flag has a bad value. */
  | "BAD_OPTION"
  /** The database cannot be opened or is not an SQLite database. */
  | "DB_UNREADABLE"
  /** The config file cannot be read or parsed, or the core refused it. */
  | "BAD_CONFIG"
  /** core.wasm is missing or is not a valid module. */
  | "WASM_LOAD"
  /** The core refused to open the database (nh_open answered an error). */
  | "CORE_OPEN"
  /** The core trapped; it has been re-instantiated. */
  | "CORE_TRAP"
  /** A feature named in the contract that this host does not do yet. */
  | "NOT_SUPPORTED"
  | "NATS"
  /** A local copy of a server could not be made (replica.ts): the server's answer. */
  | "REPLICA"
  /** The instance was closed. */
  | "CLOSED";

export class NakedhtmxError extends Error {
  readonly code: NakedhtmxErrorCode;
  /** "REPLICA": the HTTP status the server (or the copy) answered. */
  readonly status?: number;
  constructor(code: NakedhtmxErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = "NakedhtmxError";
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** The message of anything thrown, on one line. */
export function errorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s*\n\s*/g, " ");
}
