// Per-digit latency in Node of onnxruntime-web (wasm, 1 thread) and the compiled runtime on the same
// model and images, alternating three rounds of 300 runs each; prints [[ort_ms, compiled_ms], ...] medians.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [ortDir, onnxPath, mjs, wasm, inputs, dims, dtype, inputName, runs] = process.argv.slice(2);
const ort = await import(pathToFileURL(ortDir + "/ort.wasm.min.mjs").href); // what the page loads
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = pathToFileURL(ortDir + "/").href;
const sess = await ort.InferenceSession.create(readFileSync(onnxPath), { executionProviders: ["wasm"] });
const model = await (await import(pathToFileURL(mjs))).load(readFileSync(wasm));
const T = { float32: Float32Array, uint8: Uint8Array, float64: Float64Array }[dtype];
const raw = readFileSync(inputs);
const all = new T(raw.buffer, raw.byteOffset, raw.byteLength / T.BYTES_PER_ELEMENT);
const shape = JSON.parse(dims); const len = shape.reduce((a, b) => a * b, 1);
const n = all.length / len;
const img = (i) => all.subarray((i % n) * len, (i % n + 1) * len);
async function timeOrt() { const t = []; for (let i = 0; i < 20; i++) await sess.run({ [inputName]: new ort.Tensor(dtype, img(i), shape) });
  for (let i = 0; i < Number(runs); i++) { const s = performance.now(); await sess.run({ [inputName]: new ort.Tensor(dtype, img(i), shape) }); t.push(performance.now() - s); } return t; }
function timeC() { const t = []; for (let i = 0; i < 20; i++) model.run(img(i).subarray(0, model.inputLength));
  for (let i = 0; i < Number(runs); i++) { const s = performance.now(); model.run(img(i).subarray(0, model.inputLength)); t.push(performance.now() - s); } return t; }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const r = [];
for (let round = 0; round < 3; round++) { r.push([med(await timeOrt()), med(timeC())]); }
console.log(JSON.stringify(r));
