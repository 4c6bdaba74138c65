// Per-digit latency of an ONNX model in onnxruntime-web (WebAssembly, 1 thread) under Node.
// argv: ORT_DIST_DIR MODEL.onnx FEED.bin FEED.json RUNS ; prints one JSON line.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [dist, modelPath, feedPath, metaPath, runsText] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
const ort = await import(pathToFileURL(`${dist}/ort.wasm.min.mjs`).href);
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
ort.env.logLevel = 'error';

const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, uint8: Uint8Array };
const bytes = readFileSync(feedPath);
const all = new ARRAYS[meta.dtype](bytes.buffer, bytes.byteOffset, bytes.byteLength / ARRAYS[meta.dtype].BYTES_PER_ELEMENT);
const per = meta.shape.reduce((a, b) => a * b, 1);
const count = all.length / per;

const start = performance.now();
const session = await ort.InferenceSession.create(readFileSync(modelPath));
const loadMs = performance.now() - start;
const feed = (i) => ({ [meta.input]: new ort.Tensor(meta.dtype, all.subarray(i * per, (i + 1) * per), meta.shape) });
for (let i = 0; i < Math.min(10, count); i++) await session.run(feed(i));
const runs = Number(runsText);
const times = [];
for (let r = 0; r < runs; r++) {
  const t = performance.now();
  await session.run(feed(r % count));
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const perImage = meta.images_per_run;
console.log(JSON.stringify({
  load_ms: loadMs,
  median_ms: times[Math.floor(times.length / 2)] / perImage,
  p90_ms: times[Math.floor(times.length * 0.9)] / perImage,
  runs,
}));
