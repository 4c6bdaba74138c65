// What feeding and reading a variant needs beyond one-channel float32 or uint8 images and float32 scores:
// a fixed batch to fill, three grey channels, float16's bits, integer outputs. Loaded only for a variant that
// needs it (signature.js, prepare: every variant onnxruntime-web runs, as only it gives float16 or int64
// outputs), so a page whose variants need none of it never loads it.

const PIXELS = 784;

/** The first n images and copies of the last, `rows` in all (a fixed batch is filled so). */
export function padWithLast(pixels, n, rows) {
  if (rows === n) return pixels.subarray(0, n * PIXELS);
  const out = new Uint8Array(rows * PIXELS);
  out.set(pixels.subarray(0, n * PIXELS));
  const last = pixels.subarray((n - 1) * PIXELS, n * PIXELS);
  for (let i = n; i < rows; i++) out.set(last, i * PIXELS);
  return out;
}

export function threeChannels(values, rows, channelsFirst) {
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

/** A tensor's values as numbers: float16 bits decoded, 64-bit integers (an ArgMax's int64) converted. */
export function numbers(tensor) {
  const data = tensor.data;
  if (tensor.type === "float16" && data instanceof Uint16Array) return fromFloat16Bits(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return data;
}
