// The smallest WASI preview1 that Go's wasip1 runtime needs, written by hand
// because node:wasi is a stub in Deno and partial in Bun (see
// /work/shared/notes/wasm-host.md). What each call answers is fixed by the
// "WASI" section of bindings/PROTOCOL.md.

const ESUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;

/** Thrown by `proc_exit`: the Go runtime gave up (fatal error, unrecovered panic). */
export class ProcExit extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`core exited with code ${code}`);
    this.name = "ProcExit";
    this.exitCode = code;
  }
}

/** Where the module's fd 1 and fd 2 output goes. */
export type FdWriter = (fd: 1 | 2, bytes: Uint8Array) => void;

export interface WasiShim {
  /** Import functions for `wasi_snapshot_preview1`, built from the module's own import list. */
  imports(module: WebAssembly.Module): Record<string, (...args: never[]) => number>;
  /** Must be called once the instance exists, before any export runs. */
  bind(memory: WebAssembly.Memory): void;
}

/**
 * What the module sees of the world: the core sees the real clock and
 * crypto random bytes; a plugin (plugin_abi.ts) sees neither.
 */
export interface Senses {
  /** Nanoseconds on clock `id` (0: realtime; else monotonic). */
  clock(id: number): bigint;
  /** Fills `into` with random bytes. */
  random(into: Uint8Array): void;
}

const realSenses: Senses = {
  clock(id) {
    // 0 = realtime, everything else (monotonic, cputime) gets the monotonic clock.
    const ms = id === 0 ? performance.timeOrigin + performance.now() : performance.now();
    return BigInt(Math.round(ms * 1e6));
  },
  random(into) {
    // getRandomValues refuses more than 65536 bytes at a time.
    for (let off = 0; off < into.length; off += 65536) {
      crypto.getRandomValues(into.subarray(off, Math.min(into.length, off + 65536)));
    }
  },
};

export function createWasi(write: FdWriter, senses: Senses = realSenses): WasiShim {
  let memory: WebAssembly.Memory | undefined;
  const mem = (): DataView => {
    if (!memory) throw new Error("wasi: memory not bound");
    return new DataView(memory.buffer);
  };
  const bytes = (ptr: number, len: number): Uint8Array => {
    if (!memory) throw new Error("wasi: memory not bound");
    return new Uint8Array(memory.buffer, ptr, len);
  };

  const table: Record<string, (...args: never[]) => number> = {
    args_sizes_get(argc: number, bufSize: number) {
      const v = mem();
      v.setUint32(argc, 0, true);
      v.setUint32(bufSize, 0, true);
      return ESUCCESS;
    },
    args_get: () => ESUCCESS,
    environ_sizes_get(count: number, bufSize: number) {
      const v = mem();
      v.setUint32(count, 0, true);
      v.setUint32(bufSize, 0, true);
      return ESUCCESS;
    },
    environ_get: () => ESUCCESS,
    clock_time_get(id: number, _precision: bigint, out: number) {
      mem().setBigUint64(out, senses.clock(id), true);
      return ESUCCESS;
    },
    random_get(ptr: number, len: number) {
      senses.random(bytes(ptr, len));
      return ESUCCESS;
    },
    fd_write(fd: number, iovs: number, iovsLen: number, written: number) {
      const v = mem();
      let total = 0;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < iovsLen; i++) {
        const p = v.getUint32(iovs + i * 8, true);
        const n = v.getUint32(iovs + i * 8 + 4, true);
        parts.push(bytes(p, n).slice());
        total += n;
      }
      if (fd !== 1 && fd !== 2) return EBADF;
      const all = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      try {
        write(fd, all);
      } catch {
        // Output is diagnostics only; a closed pipe must not kill the core.
      }
      mem().setUint32(written, total, true);
      return ESUCCESS;
    },
    fd_prestat_get: () => EBADF, // no preopened directories: Go stops asking at EBADF
    fd_prestat_dir_name: () => EBADF,
    fd_fdstat_get(fd: number, out: number) {
      const v = mem();
      for (let i = 0; i < 24; i++) v.setUint8(out + i, 0);
      v.setUint8(out, fd <= 2 ? 2 : 0); // character device for stdio
      v.setBigUint64(out + 8, 0xffffffffffffffffn, true);
      v.setBigUint64(out + 16, 0xffffffffffffffffn, true);
      return ESUCCESS;
    },
    fd_fdstat_set_flags: () => ESUCCESS,
    sched_yield: () => ESUCCESS,
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, nevents: number) {
      // The core never really waits: every clock subscription fires at once,
      // anything else (fd readiness) is answered with ENOSYS.
      const v = mem();
      for (let i = 0; i < nsubs; i++) {
        const sub = inPtr + i * 48;
        const ev = outPtr + i * 32;
        const tag = v.getUint8(sub + 8);
        v.setBigUint64(ev, v.getBigUint64(sub, true), true); // userdata
        v.setUint16(ev + 8, tag === 0 ? ESUCCESS : ENOSYS, true);
        v.setUint8(ev + 10, tag);
        for (let j = 11; j < 32; j++) v.setUint8(ev + j, 0);
      }
      v.setUint32(nevents, nsubs, true);
      return ESUCCESS;
    },
    proc_exit(code: number): number {
      throw new ProcExit(code);
    },
  };

  return {
    imports(module) {
      const out: Record<string, (...args: never[]) => number> = {};
      for (const imp of WebAssembly.Module.imports(module)) {
        if (imp.module !== "wasi_snapshot_preview1" || imp.kind !== "function") continue;
        out[imp.name] = table[imp.name] ?? (() => ENOSYS);
      }
      return out;
    },
    bind(m) {
      memory = m;
    },
  };
}
