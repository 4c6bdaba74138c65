// How to feed MNIST pixels to a model and read its answer: the browser twin of edgeshrink/core/signature.py.
// A variant in manifest.json carries the fields used here: layout, batch, dtype, preprocess, output_index,
// output_kind. What only some variants need (a fixed batch to fill, three channels, float16, integer
// outputs) is in ./formats.js, loaded by prepare() for the variants that need it.

// layout -> shape of one image in that layout (after the batch dimension, if any)
const LAYOUTS = { NCHW: [1, 28, 28], NCHW3: [3, 28, 28], NHWC: [28, 28, 1], NHWC3: [28, 28, 3], NHW: [28, 28], N784: [784] };

let formats = null;  // ./formats.js, once a variant needs it

/** Load what feeding `variant` and reading its answers needs beyond one-channel float32 or uint8 images. */
export async function prepare(variant) {
  if (variant.runtime !== "compiled" || variant.batch > 1 || variant.layout.endsWith("3") || variant.dtype === "float16") {
    formats ??= await import(new URL("js/formats.js", document.baseURI).href);
  }
}

/** The ort.Tensor arguments [type, data, dims] for n images of raw pixels (Uint8Array, n*784, 0..255). */
export function feed(variant, pixels, n) {
  const { batch, layout, dtype } = variant;
  const image = LAYOUTS[layout];
  if (!image) throw new Error(`unknown layout ${layout}`);
  const rows = batch ? Math.max(batch, n) : n;
  let values = normalize(variant, rows === n ? pixels.subarray(0, n * 784) : formats.padWithLast(pixels, n, rows));
  if (layout.endsWith("3")) values = formats.threeChannels(values, rows, layout === "NCHW3");
  return [dtype, values, batch === 0 ? image : [rows, ...image]];
}

// x = (pixel * scale - mean) / std, then cast; a uint8 model takes the raw pixels as they are.
function normalize({ dtype, preprocess }, pixels) {
  if (dtype === "uint8") return Uint8Array.from(pixels);
  const type = { float16: Float32Array, float32: Float32Array, float64: Float64Array }[dtype];
  if (!type) throw new Error(`unsupported input dtype ${dtype}`);
  const { scale, mean, std } = preprocess;
  const out = type.from(pixels, (p) => (p * scale - mean) / std);
  return dtype === "float16" ? formats.toFloat16Bits(out) : out;
}

/** The predicted digit and the raw class scores (null for class_index outputs) of each of n images. */
export function readOutput(variant, tensor, n) {
  const data = formats ? formats.numbers(tensor) : tensor.data;
  if (variant.output_kind === "class_index") return { predictions: Array.from(data.slice(0, n)), scores: null };
  const scores = [];
  for (let i = 0; i < n; i++) scores.push(Array.from(data.slice(i * 10, i * 10 + 10)));
  return { predictions: scores.map(argmax), scores };
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Ten probabilities summing to 1 from one image's scores, whatever kind the model outputs. */
export function probabilities(kind, scores, prediction) {
  if (kind === "class_index" || !scores) return Array.from({ length: 10 }, (_, i) => +(i === prediction));
  const top = Math.max(...scores);
  const values = scores.map((s) => (kind === "logits" ? Math.exp(s - top)
    : kind === "log_probabilities" ? Math.exp(s) : Math.max(s, 0)));
  const total = values.reduce((a, b) => a + b, 0) || 1;
  return values.map((v) => v / total);
}
