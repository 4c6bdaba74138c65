// The runtime compiled for one variant by edgeshrink: its wasm, run by index.html's `load` (the page's loader,
// which needs no module of its own: the carried loader's import cost the first answer 1-3 ms and 0.7 KB).

/**
 * A backend for `variant`: run(type, data) gives the class scores of one image. `started` holds the model that
 * index.html began loading, if it did.
 */
export async function open(variant, manifest, fetchBytes, started) {
  const { wasm, shape } = variant.compiled;
  const compiling = () => fetchBytes(wasm).then((bytes) => WebAssembly.compile(bytes));
  const model = await (started?.model ?? window.edgeshrinkBoot.load(compiling(), shape)).catch((err) => {
    throw new Error(`the compiled runtime cannot load model ${variant.name}: ${err?.message || err}`);
  });
  return { oneImage: true, run: (type, data) => ({ type: "float32", data: model(data) }) };
}
