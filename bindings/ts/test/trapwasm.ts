// A hand-assembled stand-in for core.wasm whose nh_handle traps
// (`unreachable`), to test that a host survives a trap. It exports what the
// protocol names; nh_open logs "opened" through the `log` import (so a test
// can count re-opens) and answers {"dsid":"trap"}.

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb64(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f;
const I64 = 0x7e;
const functype = (
  params: number[],
  results: number[],
): number[] => [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];

export function trapModuleBytes(): Uint8Array {
  const opened = "opened";
  const answer = '{"dsid":"trap"}';
  const answerAt = 16;
  const types = [
    functype([], []), // 0 _initialize
    functype([I32], [I32]), // 1 nh_alloc
    functype([I32], []), // 2 nh_free
    functype([I32, I32], [I64]), // 3 nh_open, nh_handle
    functype([], [I64]), // 4 nh_tick
    functype([I32, I32], []), // 5 log
  ];
  const imports = [[...str("nakedhtmx"), ...str("log"), 0x00, ...uleb(5)]];
  const funcs = [0, 1, 2, 3, 3, 4].map((t) => uleb(t)); // indexes 1..6 (0 is the import)
  const memory = [[0x00, ...uleb(1)]];
  const exportsList = [
    [...str("memory"), 0x02, 0],
    [...str("_initialize"), 0x00, 1],
    [...str("nh_alloc"), 0x00, 2],
    [...str("nh_free"), 0x00, 3],
    [...str("nh_open"), 0x00, 4],
    [...str("nh_handle"), 0x00, 5],
    [...str("nh_tick"), 0x00, 6],
  ];
  const body = (code: number[]): number[] => {
    const b = [0x00, ...code, 0x0b]; // no locals, code, end
    return [...uleb(b.length), ...b];
  };
  const packed = (BigInt(answerAt) << 32n) | BigInt(answer.length);
  const code = [
    body([]),
    body([0x41, ...uleb(4096)]), // i32.const 4096 (one buffer, reused)
    body([]),
    body([0x41, 0, 0x41, ...uleb(opened.length), 0x10, 0, 0x42, ...sleb64(packed)]), // log("opened"); i64.const packed
    body([0x00]), // unreachable
    body([0x42, 0]), // i64.const 0
  ];
  const data = [
    [0x00, 0x41, 0, 0x0b, ...str(opened)],
    [0x00, 0x41, ...uleb(answerAt), 0x0b, ...str(answer)],
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(5, vec(memory)),
    ...section(7, vec(exportsList)),
    ...section(10, vec(code)),
    ...section(11, vec(data)),
  ]);
}
