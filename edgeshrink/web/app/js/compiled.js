// The runtime compiled for one variant by edgeshrink: an ES module and its WebAssembly, nothing else.
// Joined into the page (it is small): only onnxruntime-web's backend is a file of its own.

/**
 * A backend for `variant`: run(type, data) gives the class scores of one image. `started` holds the loader
 * module and the compiled wasm that index.html began loading, if it did.
 */
export async function open(variant, manifest, fetchBytes, started) {
  const { entry, wasm } = variant.compiled;
  const failed = (what) => (err) => {
    throw new Error(`the compiled runtime ${what}: ${err?.message || err}`);
  };
  const module = await (started?.loader ?? import(new URL(entry, document.baseURI).href))
    .catch(failed(`of ${variant.name} could not load from ${entry}`));
  const model = await (started?.wasm ?? fetchBytes(wasm)).then((bytes) => module.load(bytes))
    .catch(failed(`cannot load model ${variant.name}`));
  return { oneImage: true, run: (type, data) => ({ type: "float32", data: model.run(data) }) };
}
