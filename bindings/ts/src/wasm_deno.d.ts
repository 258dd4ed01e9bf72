/** dist/core.wasm, compiled. */
declare const core: WebAssembly.Module;
export default core;
