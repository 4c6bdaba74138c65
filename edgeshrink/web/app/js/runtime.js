// onnxruntime-web, loaded from this page's own folder, and one model variant running on it.

import { feed, readOutput, runSize } from "./signature.js";

/** Import the runtime bundled beside the page and keep it on this origin, single threaded. */
export async function loadRuntime(runtime) {
  const entry = new URL(runtime.entry, document.baseURI).href;
  let ort;
  try {
    ort = await import(entry);
  } catch (err) {
    throw new Error(`onnxruntime-web could not load from ${runtime.entry}: ${err.message}`);
  }
  ort.env.wasm.wasmPaths = new URL(runtime.wasm_dir, document.baseURI).href;
  // One thread: measurements stay comparable, and no SharedArrayBuffer is needed.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ort;
}

/** The runtime's own message, whatever it threw (onnxruntime-web sometimes throws plain strings). */
export function reason(err) {
  return (err && err.message) || String(err);
}

export class Model {
  constructor(ort, variant, session) {
    this.ort = ort;
    this.variant = variant;
    this.session = session;
    this.outputName = session.outputNames[variant.output_index ?? 0];
  }

  static async create(ort, variant, bytes) {
    let session;
    try {
      // A copy: the runtime may take over the buffer, and the bytes are kept for offline reloads.
      session = await ort.InferenceSession.create(new Uint8Array(bytes).slice(), {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
    } catch (err) {
      throw new Error(`onnxruntime-web cannot load model ${variant.name}: ${reason(err)}`);
    }
    if (!session.outputNames[variant.output_index ?? 0]) {
      throw new Error(`model ${variant.name} has no output number ${variant.output_index}`);
    }
    return new Model(ort, variant, session);
  }

  /** Predictions and raw scores for n images (Uint8Array n*784), cut into runs the model accepts. */
  async classify(pixels, n) {
    const step = Math.min(runSize(this.variant), n);
    const predictions = [];
    const scores = [];
    let ms = 0;
    for (let start = 0; start < n; start += step) {
      const count = Math.min(step, n - start);
      const tensor = this.tensor(pixels.subarray(start * 784, (start + count) * 784), count);
      const t0 = performance.now();
      const output = await this.run(tensor);
      ms += performance.now() - t0;
      const result = readOutput(this.variant, output, count);
      predictions.push(...result.predictions);
      if (result.scores) scores.push(...result.scores);
    }
    return { predictions, scores: scores.length ? scores : null, ms };
  }

  tensor(pixels, n) {
    const [type, data, dims] = feed(this.variant, pixels, n);
    return new this.ort.Tensor(type, data, dims);
  }

  async run(tensor) {
    try {
      const outputs = await this.session.run({ [this.variant.input_name]: tensor });
      return outputs[this.outputName];
    } catch (err) {
      throw new Error(`onnxruntime-web cannot run model ${this.variant.name}: ${reason(err)}`);
    }
  }

  /**
   * Median milliseconds per inference of one image. Runs are timed in groups and divided, because
   * performance.now() is coarse (0.1 ms) on pages that are not cross-origin isolated.
   */
  async benchmark(pixels, runs = 200, group = 10) {
    const tensor = this.tensor(pixels, 1);
    for (let i = 0; i < 5; i++) await this.run(tensor);
    const perRun = [];
    for (let done = 0; done < runs; done += group) {
      const t0 = performance.now();
      for (let i = 0; i < group; i++) await this.run(tensor);
      perRun.push((performance.now() - t0) / group);
    }
    perRun.sort((a, b) => a - b);
    const mid = perRun.length >> 1;
    const median = perRun.length % 2 ? perRun[mid] : (perRun[mid - 1] + perRun[mid]) / 2;
    return { median_ms: median, runs: perRun.length * group, group };
  }
}
