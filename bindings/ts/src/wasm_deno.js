// @ts-self-types="./wasm_deno.d.ts"
// core.wasm as a module of Deno's module graph (a source phase import): Deno
// downloads and caches it with the code, so `deno run jsr:@nakedhtmx/serve`
// does not fetch 10 MB on every start. JavaScript, not TypeScript, because
// TypeScript does not parse `import source` yet; wasm_deno.d.ts types it.
import source core from "../../../dist/core.wasm";

export default core;
