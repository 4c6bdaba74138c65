/* Helpers shared by every generated model: freestanding (no libc), wasm32.
 *
 * Integer requantization follows onnxruntime's MLAS exactly: scale in float, clamp to the output range
 * shifted by the zero point, round half to even (wasm f32.nearest), add the zero point.
 * exp() and the softmax follow MLAS's polynomial and its fused multiply-adds, so float scores after an
 * int8 network can match onnxruntime's bit for bit.
 */
#include <stdint.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

typedef uint32_t rt_u32;

static inline int rt_min(int a, int b) { return a < b ? a : b; }
static inline int rt_max(int a, int b) { return a > b ? a : b; }
static inline int rt_floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static inline int rt_ceil_div(int a, int b) { return -rt_floor_div(-a, b); }
static inline float rt_maxf(float a, float b) { return a > b ? a : b; }
static inline float rt_minf(float a, float b) { return a < b ? a : b; }
static inline float rt_relu(float v) { return v > 0.0f ? v : 0.0f; }
static inline float rt_leaky(float v, float alpha) { return v >= 0.0f ? v : v * alpha; }
static inline float rt_clip(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
static inline float rt_bits_f(rt_u32 u) { union { rt_u32 u; float f; } c; c.u = u; return c.f; }
static inline rt_u32 rt_f_bits(float f) { union { rt_u32 u; float f; } c; c.f = f; return c.u; }

/* a * b + c rounded once, as the FMA instructions of onnxruntime's x86 kernels do. The product of two
 * floats is exact in double; the double sum can round twice only in rare ties, corrected as musl does. */
static inline float rt_fmaf(float a, float b, float c) {
  double xy = (double)a * (double)b, r = xy + (double)c;
  union { double d; uint64_t u; } u = {r};
  int e = (int)(u.u >> 52 & 0x7ff);
  if ((u.u & 0x1fffffffULL) != 0x10000000ULL || e == 0x7ff || (r - xy == (double)c && r - (double)c == xy))
    return (float)r; /* not a halfway case, NaN, or the double sum was exact */
  /* inexact and exactly halfway between two floats: move the low bit toward the error (musl's fmaf) */
  int neg = (int)(u.u >> 63);
  double err = neg == ((double)c > xy) ? xy - r + (double)c : (double)c - r + xy;
  if (neg == (err < 0)) u.u++; else u.u--;
  return (float)u.d;
}

/* 8-bit requantization: MlasRequantizeOutput and MlasQuantizeLinear. */
static inline int32_t rt_requant(float v, int32_t zp, int32_t lo, int32_t hi) {
  v = rt_maxf(v, (float)(lo - zp));
  v = rt_minf(v, (float)(hi - zp));
  return (int32_t)__builtin_rintf(v) + zp;
}

/* MlasComputeExpVector: exp over the whole float range. */
static inline float rt_expf(float x) {
  x = rt_clip(x, -103.9720840454f, 88.7762626647950f);
  const float bias = 12582912.0f; /* 1.5 * 2^23: MLAS_ROUNDING_BIAS_MAGIC */
  float biased = rt_fmaf(x, 1.44269504088896341f, bias);
  float m = biased - bias;
  x = rt_fmaf(m, -6.93145752e-1f, x);
  x = rt_fmaf(m, -1.42860677e-6f, x);
  int32_t overflow = (int32_t)(rt_f_bits(biased) << 23);
  int32_t normal = overflow;
  normal = normal < 0x3F800000 ? normal : 0x3F800000;
  normal = normal > (int32_t)0xC1000000 ? normal : (int32_t)0xC1000000;
  overflow = overflow - normal + 0x3F800000;
  normal = normal + 0x3F800000;
  float p = 0x1.694000p-10f;
  p = rt_fmaf(p, x, 0x1.125edcp-7f);
  p = rt_fmaf(p, x, 0x1.555b5ap-5f);
  p = rt_fmaf(p, x, 0x1.555450p-3f);
  p = rt_fmaf(p, x, 0x1.fffff6p-2f);
  p = rt_fmaf(p, x, 0x1.000000p+0f);
  x = x * rt_bits_f((rt_u32)overflow);
  p = rt_fmaf(p, x, rt_bits_f((rt_u32)overflow));
  return p * rt_bits_f((rt_u32)normal);
}

/* exp(x - max) for softmax as MLAS's AVX-512 kernel computes it: clamp, range reduction and polynomial
 * in fused multiply-adds, then vscalefps (p * 2^m rounded once, denormals included). */
static inline float rt_sumexp_term(float x, float neg_max) {
  x = rt_maxf(-103.9720840454f, x + neg_max);
  const float bias = 12582912.0f;
  float biased = rt_fmaf(x, 1.44269504088896341f, bias);
  float m = biased - bias;
  x = rt_fmaf(m, -6.93145752e-1f, x);
  x = rt_fmaf(m, -1.42860677e-6f, x);
  float p = 0x1.694000p-10f;
  p = rt_fmaf(p, x, 0x1.125edcp-7f);
  p = rt_fmaf(p, x, 0x1.555b5ap-5f);
  p = rt_fmaf(p, x, 0x1.555450p-3f);
  p = rt_fmaf(p, x, 0x1.fffff6p-2f);
  p = rt_fmaf(p, x, 0x1.000000p+0f);
  p = rt_fmaf(p, x, 0x1.000000p+0f);
  union { double d; uint64_t u; } pow2;
  pow2.u = (uint64_t)((int64_t)m + 1023) << 52; /* m is an integer in [-150, 128]: 2^m exact in double */
  return (float)((double)p * pow2.d);
}

static float rt_logf(float xf) {
  double x = xf;
  if (!(x > 0)) return x == 0 ? -__builtin_inff() : __builtin_nanf("");
  int e = 0;
  while (x > 1.4142135623730951) { x *= 0.5; e++; }
  while (x < 0.7071067811865476) { x *= 2.0; e--; }
  double s = (x - 1) / (x + 1), s2 = s * s;
  double r = 2 * s * (1 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 / 13))))));
  return (float)(r + e * 0.6931471805599453);
}

/* MlasComputeLogistic (Eigen's rational polynomial), its multiply-adds fused as in the FMA3 kernel. */
static inline float rt_sigmoid(float x) {
  x = rt_minf(18.0f, rt_maxf(-18.0f, x));
  float x2 = x * x;
  float p = rt_fmaf(x2, 4.37031012579801e-11f, 1.15627324459942e-07f);
  p = rt_fmaf(p, x2, 6.08574864600143e-05f);
  p = rt_fmaf(p, x2, 8.51377133304701e-03f);
  p = rt_fmaf(p, x2, 2.48287947061529e-01f);
  p = p * x;
  float q = rt_fmaf(x2, 6.10247389755681e-13f, 5.76102136993427e-09f);
  q = rt_fmaf(q, x2, 6.29106785017040e-06f);
  q = rt_fmaf(q, x2, 1.70198817374094e-03f);
  q = rt_fmaf(q, x2, 1.16817656904453e-01f);
  q = rt_fmaf(q, x2, 9.93151921023180e-01f);
  return rt_minf(rt_maxf(p / q + 0.5f, 0.0f), 1.0f); /* the AVX kernels clamp to [0, 1] */
}

static inline float rt_tanh(float x) {
  float e = rt_expf(-2.0f * (x < 0 ? -x : x));
  float t = (1.0f - e) / (1.0f + e);
  return x < 0 ? -t : t;
}

/* MLAS softmax of one row: max, sum of exp(x - max) in 16 lanes (element i in lane i % 16) reduced as the
 * AVX-512 kernel does, then exp * (1 / sum); log-softmax: x - max - log(sum). */
static void rt_softmax(const float *x, float *y, int n, int log) {
  float mx = -3.402823466e+38f;
  for (int i = 0; i < n; i++) mx = rt_maxf(mx, x[i]);
  float neg = -mx, lanes[16] = {0};
  for (int i = 0; i < n; i++) {
    float e = rt_sumexp_term(x[i], neg);
    lanes[i % 16] += e;
    if (!log) y[i] = e;
  }
  /* vextractf64x4 + vaddps, two vhaddps, vextractf128 + vaddss */
  float a[8];
  for (int i = 0; i < 8; i++) a[i] = lanes[i + 8] + lanes[i];
  float sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  if (log) {
    float lg = -rt_logf(sum);
    for (int i = 0; i < n; i++) y[i] = x[i] + neg + lg;
  } else {
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) y[i] *= inv;
  }
}

/* acc[n] += sum over k of a[k] * b[k][n] for int16 a (already shifted by its zero point) and int8 b
 * stored in pairs of rows, bp[(k/2)*2*np + 2*n + k%2] (np a multiple of 4, k even: zero padded).
 * With SIMD one i32x4.dot_i16x8_s does 8 multiply-adds; int32 sums are exact in any order. */
static inline void rt_gemv_i8(const int16_t *a, const int8_t *bp, int32_t *acc, int kpairs, int np) {
  for (int k = 0; k < kpairs; k++) {
    const int8_t *brow = bp + k * 2 * np;
    int32_t a0 = a[2 * k], a1 = a[2 * k + 1];
#ifdef __wasm_simd128__
    v128_t ap = wasm_i32x4_splat((int32_t)((uint32_t)(uint16_t)a0 | ((uint32_t)(uint16_t)a1 << 16)));
    for (int n = 0; n < np; n += 4) {
      v128_t dot = wasm_i32x4_dot_i16x8(ap, wasm_i16x8_load8x8(brow + 2 * n));
      wasm_v128_store(acc + n, wasm_i32x4_add(wasm_v128_load(acc + n), dot));
    }
#else
    for (int n = 0; n < np; n++) acc[n] += a0 * brow[2 * n] + a1 * brow[2 * n + 1];
#endif
  }
}

/* DequantizeLinear with one scale and zero point: (x - z) * s, each layer's loop the same function. */
static void rt_dequant_s8(float *y, const int8_t *x, int n, float s, int32_t z) {
  for (int i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - z) * s;
}
static void rt_dequant_u8(float *y, const uint8_t *x, int n, float s, int32_t z) {
  for (int i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - z) * s;
}

/* The decoders run once, from the exported init: built for size (minsize: not unrolled or vectorized) and
 * called, not inlined into each call site. */
#define RT_ONCE __attribute__((minsize, noinline))

/* A constant stored as codes (runtime/sparse.py): out[steps[0] + ... + steps[i]] = book[codes[i]], into zeroed
 * memory, once, from the exported init. */
RT_ONCE static void rt_unpack(uint8_t *out, const uint8_t *steps, const uint8_t *codes, const uint8_t *book, int n) {
  uint32_t p = 0;
  for (int i = 0; i < n; i++) {
    p += steps[i];
    out[p] = book[codes[i]];
  }
}

/* A dense constant stored as a byte code per element, from 1 (runtime/sparse.py's CODE_BASE: no zero bytes in the
 * page's text form): out[i] = book[codes[i] - 1]. */
RT_ONCE static void rt_book(uint8_t *out, const uint8_t *codes, const uint8_t *book, int n) {
  for (int i = 0; i < n; i++) out[i] = book[codes[i] - 1];
}

/* ... or as codes of `bits` (1 to 7) bits each, the first in the lowest bits of the first byte. */
RT_ONCE static void rt_unbits(uint8_t *out, const uint8_t *in, const uint8_t *book, int n, int bits) {
  uint32_t acc = 0;
  int have = 0;
  for (int i = 0; i < n; i++) {
    if (have < bits) { acc |= (uint32_t)*in++ << have; have += 8; }
    out[i] = book[acc & ((1u << bits) - 1)];
    acc >>= bits;
    have -= bits;
  }
}
