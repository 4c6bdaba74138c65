// onnxruntime-web, loaded from the bundle's own ort/ folder (single threaded), running one variant's .onnx.

const reason = (err) => (err && err.message) || String(err);

let ortModule = null;

async function loadOrt(info) {
  if (!info) throw new Error("this bundle ships no onnxruntime-web; rebuild it with --runtime ort");
  const entry = new URL(info.entry, document.baseURI).href;
  let ort;
  try {
    ort = await import(entry);
  } catch (err) {
    throw new Error(`onnxruntime-web could not load from ${info.entry}: ${err.message}`);
  }
  ort.env.wasm.wasmPaths = new URL(info.wasm_dir, document.baseURI).href;
  // One thread: measurements stay comparable, and no SharedArrayBuffer is needed.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ort;
}

/** A backend for `variant`: run(type, data, dims) resolves to the flat values of the variant's output. */
export async function open(variant, manifest, fetchBytes) {
  const [ort, bytes] = await Promise.all([
    (ortModule ??= loadOrt(manifest.ort)),
    fetchBytes(variant.file),
  ]);
  let session;
  try {
    // A copy: the runtime may take over the buffer, and the page keeps the bytes.
    session = await ort.InferenceSession.create(new Uint8Array(bytes).slice(), {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
  } catch (err) {
    throw new Error(`onnxruntime-web cannot load model ${variant.name}: ${reason(err)}`);
  }
  const outputName = session.outputNames[variant.output_index ?? 0];
  if (!outputName) throw new Error(`model ${variant.name} has no output number ${variant.output_index}`);
  return {
    name: `onnxruntime-web ${manifest.ort.version}`,
    oneImage: false,
    async run(type, data, dims) {
      try {
        const outputs = await session.run({ [variant.input_name]: new ort.Tensor(type, data, dims) });
        return outputs[outputName];
      } catch (err) {
        throw new Error(`onnxruntime-web cannot run model ${variant.name}: ${reason(err)}`);
      }
    },
  };
}
