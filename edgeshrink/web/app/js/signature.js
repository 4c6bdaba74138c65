// How to feed MNIST pixels to a model and read its answer: the browser twin of edgeshrink/core/signature.py.
// A variant in manifest.json carries the fields used here: layout, batch, dtype, preprocess, output_index,
// output_kind.

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

/** The ort.Tensor arguments [type, data, dims] for n images of raw pixels (Uint8Array, n*784, 0..255). */
export function feed(variant, pixels, n) {
  const rows = variant.batch ? Math.max(variant.batch, n) : n;
  const padded = padWithLast(pixels, n, rows);  // a fixed batch is filled with copies of the last image
  const values = normalize(variant, padded);
  const channels = variant.layout.endsWith("3") ? 3 : 1;
  const laid = channels === 1 ? values : threeChannels(values, rows, variant.layout === "NCHW3");
  return [variant.dtype, laid, inputShape(variant, rows)];
}

function padWithLast(pixels, n, rows) {
  if (rows === n) return pixels.subarray(0, n * PIXELS);
  const out = new Uint8Array(rows * PIXELS);
  out.set(pixels.subarray(0, n * PIXELS));
  const last = pixels.subarray((n - 1) * PIXELS, n * PIXELS);
  for (let i = n; i < rows; i++) out.set(last, i * PIXELS);
  return out;
}

// x = (pixel * scale - mean) / std, then cast; a uint8 model takes the raw pixels as they are.
function normalize(variant, pixels) {
  if (variant.dtype === "uint8") return Uint8Array.from(pixels);
  const { scale, mean, std } = variant.preprocess;
  const out = variant.dtype === "float64" ? new Float64Array(pixels.length) : new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] * scale - mean) / std;
  if (variant.dtype === "float16") return toFloat16Bits(out);
  if (variant.dtype === "float32" || variant.dtype === "float64") return out;
  throw new Error(`unsupported input dtype ${variant.dtype}`);
}

function threeChannels(values, rows, channelsFirst) {
  const out = new values.constructor(values.length * 3);
  for (let r = 0; r < rows; r++) {
    const src = r * PIXELS;
    const dst = r * PIXELS * 3;
    for (let k = 0; k < PIXELS; k++) {
      for (let c = 0; c < 3; c++) out[channelsFirst ? dst + c * PIXELS + k : dst + k * 3 + c] = values[src + k];
    }
  }
  return out;
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
  if (tensor.type === "float16" && data instanceof Uint16Array) return fromFloat16Bits(data);
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

// IEEE 754 half precision, round to nearest even: onnxruntime-web takes float16 tensors as their bits.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toFloat16Bits(values) {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    let e = exp - 127 + 15;
    if (e >= 0x1f) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rest > mid || (rest === mid && (half & 1))) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
    out[i] = sign | half;
  }
  return out;
}

export function fromFloat16Bits(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
