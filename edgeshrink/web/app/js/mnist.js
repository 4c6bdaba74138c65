// Turn a drawing into an MNIST-like 28x28 image, the way the MNIST digits were made:
// crop to the ink, scale to fit a 20x20 box keeping the aspect ratio (anti-aliased by area averaging),
// then place it in 28x28 so that its centre of mass sits at the centre. White digit on black, 0..255.

const SIZE = 28;
const BOX = 20;
const INK = 16;  // a canvas pixel brighter than this counts as ink when cropping

/** Uint8Array(784) for the white-on-black drawing on `canvas`, or null when nothing is drawn. */
export function toMnist(canvas) {
  const { width, height } = canvas;
  const rgba = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, width, height).data;
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4];
  const box = inkBox(gray, width, height);
  if (!box) return null;
  const scale = BOX / Math.max(box.w, box.h);
  const tw = Math.max(1, Math.round(box.w * scale));
  const th = Math.max(1, Math.round(box.h * scale));
  const patch = resample(gray, width, box, tw, th);
  return centre(patch, tw, th);
}

function inkBox(gray, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > INK) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// For each of `count` target cells covering source pixels [start, start + length): [index, weight] pairs.
function coverage(start, length, count) {
  const step = length / count;
  const cells = [];
  for (let t = 0; t < count; t++) {
    const from = start + t * step;
    const to = from + step;
    const parts = [];
    for (let s = Math.floor(from); s < Math.min(Math.ceil(to), start + length); s++) {
      const w = Math.min(to, s + 1) - Math.max(from, s);
      if (w > 0) parts.push([s, w / step]);
    }
    cells.push(parts);
  }
  return cells;
}

// Area-averaging resize of the box to tw x th, separable: rows first, then columns.
function resample(gray, width, box, tw, th) {
  const cols = coverage(box.x, box.w, tw);
  const rows = coverage(box.y, box.h, th);
  const out = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      let sum = 0;
      for (const [sy, wy] of rows[ty]) {
        for (const [sx, wx] of cols[tx]) sum += gray[sy * width + sx] * wx * wy;
      }
      out[ty * tw + tx] = sum;
    }
  }
  return out;
}

function centre(patch, tw, th) {
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = patch[y * tw + x];
      mass += v;
      mx += (x + 0.5) * v;
      my += (y + 0.5) * v;
    }
  }
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round(SIZE / 2 - mx / mass), SIZE - tw);
  const oy = clamp(Math.round(SIZE / 2 - my / mass), SIZE - th);
  const out = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      out[(y + oy) * SIZE + x + ox] = Math.min(255, Math.round(patch[y * tw + x]));
    }
  }
  return out;
}
