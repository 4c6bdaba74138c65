// edgeshrink compiled runtime: loads model.wasm (no other dependency) and runs one image at a time.
const SHAPE = __SHAPE__; // input: { type, length } of one image; output: { type, length } of its scores
const ARRAYS = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, int8: Int8Array,
  int32: Int32Array, int64: BigInt64Array };

async function bytesOf(source) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  const base = typeof location !== "undefined" ? location.href : import.meta.url;
  const url = new URL(String(source), base);
  if (url.protocol === "file:") {
    const fs = await import("node:fs/promises");
    return fs.readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

// A compiled module is instantiated at once: one task less before the first answer. Chromium refuses that on a
// page's main thread for modules over 8 MB (RangeError); those are instantiated asynchronously.
function instantiated(module) {
  try {
    return new WebAssembly.Instance(module, {});
  } catch (err) {
    if (err instanceof RangeError) return WebAssembly.instantiate(module, {});
    throw err;
  }
}

/** The model, from its wasm: a URL or path, its bytes, or a WebAssembly.Module already compiled (a page that
 * started compiling it while it loaded). */
export async function load(source = new URL("./__WASM__", import.meta.url)) {
  const instance = source instanceof WebAssembly.Module
    ? await instantiated(source)
    : (await WebAssembly.instantiate(await bytesOf(source), {})).instance;
  const { memory, input, output, run, init } = instance.exports;
  init(); // once: decodes the weights stored as codes (runtime/sparse.py)
  const In = ARRAYS[SHAPE.input.type];
  const Out = ARRAYS[SHAPE.output.type];
  return {
    inputLength: SHAPE.input.length,
    inputType: SHAPE.input.type,
    run(image) {
      if (image.length !== SHAPE.input.length) {
        throw new Error(`expected ${SHAPE.input.length} input values, got ${image.length}`);
      }
      // a graph compiled at a fixed batch gets the image in every slot (dynamic quantization reads them all)
      const slots = new In(memory.buffer, input(), SHAPE.input.length * SHAPE.batch);
      for (let b = 0; b < SHAPE.batch; b++) slots.set(image, b * SHAPE.input.length);
      run();
      const scores = new Out(memory.buffer, output(), SHAPE.output.length);
      return Out === BigInt64Array ? Float32Array.from(scores, Number) : Float32Array.from(scores);
    },
  };
}
