// Runs a compiled model in Node on a file of images: scores to a file, or per-digit latency to stdout.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [mode, mjs, wasm, inputs, outputs, count, runs] = process.argv.slice(2);
const model = await (await import(pathToFileURL(mjs))).load(readFileSync(wasm));
const Types = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array };
const raw = readFileSync(inputs);
const all = new Types[model.inputType](raw.buffer, raw.byteOffset, raw.byteLength / Types[model.inputType].BYTES_PER_ELEMENT);
const n = Number(count);
const len = model.inputLength;
const image = (i) => all.subarray(i * len, (i + 1) * len);

if (mode === "scores") {
  const first = model.run(image(0));
  const out = new Float32Array(n * first.length);
  for (let i = 0; i < n; i++) out.set(model.run(image(i)), i * first.length);
  writeFileSync(outputs, new Uint8Array(out.buffer));
} else {
  const times = [];
  for (let i = 0; i < 20; i++) model.run(image(i % n)); // warm-up: the engine's optimizing tier
  for (let i = 0; i < Number(runs); i++) {
    const start = performance.now();
    model.run(image(i % n));
    times.push(performance.now() - start);
  }
  process.stdout.write(JSON.stringify(times));
}
