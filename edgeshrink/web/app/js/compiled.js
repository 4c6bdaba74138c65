// The runtime compiled for one variant by edgeshrink: an ES module and its WebAssembly, nothing else.
// Joined into the page (it is small): only onnxruntime-web's backend is a file of its own.

/**
 * A backend for `variant`: run(type, data, dims) gives the class scores of one image. `started` holds the
 * loader module and the compiled wasm that index.html began loading, if it did.
 */
export async function open(variant, manifest, fetchBytes, started = null) {
  const { entry, wasm } = variant.compiled;
  let module;
  try {
    module = await (started?.loader ?? import(new URL(entry, document.baseURI).href));
  } catch (err) {
    throw new Error(`the compiled runtime of ${variant.name} could not load from ${entry}: ${err.message}`);
  }
  let model;
  try {
    model = await module.load(await (started?.wasm ?? fetchBytes(wasm)));
  } catch (err) {
    throw new Error(`the compiled runtime cannot load model ${variant.name}: ${(err && err.message) || err}`);
  }
  return {
    name: "compiled",
    oneImage: true,
    run(type, data) {
      return { type: "float32", data: model.run(data) };
    },
  };
}
