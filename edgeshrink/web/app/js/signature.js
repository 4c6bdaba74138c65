// How to feed MNIST pixels to a model and read its answer: the browser twin of edgeshrink/core/signature.py.
// A variant in manifest.json carries the fields used here: layout, batch, dtype, preprocess, output_index,
// output_kind. What only some variants need (a fixed batch to fill, three channels, float16) is in
// ./formats.js, loaded by prepare() for the variants that need it.

// layout -> shape of one image in that layout (after the batch dimension, if any)
export const LAYOUTS = {
  NCHW: [1, 28, 28],
  NCHW3: [3, 28, 28],
  NHWC: [28, 28, 1],
  NHWC3: [28, 28, 3],
  NHW: [28, 28],
  N784: [784],
};
const PIXELS = 784;

/** How many images one run takes: one without a batch dimension, B when fixed, any number when dynamic. */
export function runSize(variant) {
  if (variant.batch === 0) return 1;
  return variant.batch ?? Infinity;
}

export function inputShape(variant, n) {
  const image = LAYOUTS[variant.layout];
  if (!image) throw new Error(`unknown layout ${variant.layout}`);
  return variant.batch === 0 ? image : [n, ...image];
}

let formats = null;  // ./formats.js, once a variant needs it

/** Load what feeding `variant` and reading its answers needs beyond one-channel float32 or uint8 images. */
export async function prepare(variant) {
  const plain = variant.runtime === "compiled" && !(variant.batch > 1) && !variant.layout.endsWith("3")
    && variant.dtype !== "float16";
  if (!plain) formats ??= await import(new URL("js/formats.js", document.baseURI).href);
}

/** The ort.Tensor arguments [type, data, dims] for n images of raw pixels (Uint8Array, n*784, 0..255). */
export function feed(variant, pixels, n) {
  const rows = variant.batch ? Math.max(variant.batch, n) : n;
  const padded = rows === n ? pixels.subarray(0, n * PIXELS) : formats.padWithLast(pixels, n, rows);
  const values = normalize(variant, padded);
  const laid = variant.layout.endsWith("3") ? formats.threeChannels(values, rows, variant.layout === "NCHW3") : values;
  return [variant.dtype, laid, inputShape(variant, rows)];
}

// x = (pixel * scale - mean) / std, then cast; a uint8 model takes the raw pixels as they are.
function normalize(variant, pixels) {
  if (variant.dtype === "uint8") return Uint8Array.from(pixels);
  const { scale, mean, std } = variant.preprocess;
  const out = variant.dtype === "float64" ? new Float64Array(pixels.length) : new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] * scale - mean) / std;
  if (variant.dtype === "float16") return formats.toFloat16Bits(out);
  if (variant.dtype === "float32" || variant.dtype === "float64") return out;
  throw new Error(`unsupported input dtype ${variant.dtype}`);
}

/** The predicted digit and the raw class scores (null for class_index outputs) of each of n images. */
export function readOutput(variant, tensor, n) {
  const data = numbers(tensor);
  if (variant.output_kind === "class_index") {
    return { predictions: Array.from(data.slice(0, n)), scores: null };
  }
  const scores = [];
  for (let i = 0; i < n; i++) scores.push(Array.from(data.slice(i * 10, i * 10 + 10)));
  return { predictions: scores.map(argmax), scores };
}

function numbers(tensor) {
  const data = tensor.data;
  if (tensor.type === "float16" && data instanceof Uint16Array) return formats.fromFloat16Bits(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return data;
}

export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Ten probabilities summing to 1 from one image's scores, whatever kind the model outputs. */
export function probabilities(kind, scores, prediction) {
  if (kind === "class_index" || !scores) return Array.from({ length: 10 }, (_, i) => (i === prediction ? 1 : 0));
  let values;
  if (kind === "logits") {
    const top = Math.max(...scores);
    values = scores.map((s) => Math.exp(s - top));
  } else if (kind === "log_probabilities") {
    values = scores.map((s) => Math.exp(s));
  } else {
    values = scores.map((s) => Math.max(s, 0));
  }
  const total = values.reduce((a, b) => a + b, 0) || 1;
  return values.map((v) => v / total);
}
