// What the page shows once its first answer is on screen: the gallery of real test digits (and "Classify
// all"), the benchmark and turning a drawing into the model's input (the bundle's sizes are HTML in the page,
// footer.py; the test hook's calls are ./hook.js). A file of its own,
// fetched after the first answer (the bundle joins the modules it imports into it); the page hands it its state
// and helpers (`start`).

import * as mnist from "./mnist.js";

export const toMnist = mnist.toMnist;  // the drawing on a canvas as the model's input, or null

// The style of the gallery's digits, which only this file makes (style.css styles what the first answer shows).
const GALLERY_STYLE = `
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(48px, 1fr)); gap: 6px; }
.sample {
  position: relative; padding: 0; border: 2px solid transparent; border-radius: 8px; background: #000;
  cursor: pointer; overflow: hidden; aspect-ratio: 1;
}
.sample:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.sample canvas { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
.sample.selected { border-color: var(--accent); }
.sample-tag {
  position: absolute; right: 2px; bottom: 2px; min-width: 1.3em; padding: 0 3px; border-radius: 4px;
  font-size: 0.7rem; font-weight: 700; color: #fff; line-height: 1.4;
}
.sample-tag:empty { display: none; }
.sample.right .sample-tag { background: var(--good); }
.sample.wrong { border-color: var(--bad); }
.sample.wrong .sample-tag { background: var(--bad); }
@media (max-width: 600px) { .gallery { grid-template-columns: repeat(auto-fill, minmax(40px, 1fr)); } }
`;

/** When the first answer was on screen: Chromium's Element Timing of the frame that showed it (ms from
 * navigation start; buffered, so read after the fact), or null in browsers that do not report it. */
export function answerShown() {
  if (!PerformanceObserver.supportedEntryTypes?.includes("element")) return null;
  return new Promise((resolve) => {
    new PerformanceObserver((list, observer) => {
      const shown = list.getEntries().find((entry) => entry.identifier === "answer");  // ui.js, renderAnswer
      if (!shown) return;
      observer.disconnect();
      resolve(shown.renderTime);
    }).observe({ type: "element", buffered: true });
  });
}

/** The gallery's digits from samples.bin (see the manifest's samples.format): each box of ink put back in
 * its black 28x28. */
async function loadSamples(fetchBytes, info) {
  const bytes = await fetchBytes(info.file);
  const n = info.count;
  const images = new Uint8Array(n * 784);
  let at = 5 * n;  // after the labels and the boxes
  for (let i = 0; i < n; i++) {
    const [top, left, height, width] = bytes.subarray(n + 4 * i, n + 4 * i + 4);
    for (let y = 0; y < height; y++, at += width) {
      images.set(bytes.subarray(at, at + width), i * 784 + (top + y) * 28 + left);
    }
  }
  return { images, labels: Array.from(bytes.subarray(0, n)) };
}

function renderGallery(page, samples, onPick) {
  const { el, paintDigit, $ } = page.ui;
  $("gallery").replaceChildren(...samples.labels.map((label, i) => {
    const item = el("button", "sample");
    item.type = "button";
    item.title = `test digit #${i}, label ${label}`;
    item.dataset.index = String(i);
    const canvas = el("canvas");
    canvas.width = canvas.height = 28;
    paintDigit(canvas, samples.images.subarray(i * 784, (i + 1) * 784));
    item.append(canvas, el("span", "sample-tag", ""));
    item.addEventListener("click", () => onPick(i));
    return item;
  }));
}

function markSample($, i, prediction, label) {
  const item = $("gallery").children[i];
  if (!item) return;
  item.classList.toggle("right", prediction === label);
  item.classList.toggle("wrong", prediction !== label);
  item.querySelector(".sample-tag").textContent = String(prediction);
}

function selectSample($, i) {
  for (const item of $("gallery").children) item.classList.toggle("selected", item.dataset.index === String(i));
}

/**
 * Median milliseconds per inference of one image (the first test digit) on `model`, over `groups` groups of
 * runs (at least `runs` runs in all). A group runs long enough (`groupMs`) that the clock's grain does not
 * matter: performance.now() is coarse (0.1 ms, jittered) on pages that are not cross-origin isolated, as on
 * most static hosts.
 */
export async function benchmark(page, model, runs = 200, groups = 20, groupMs = 2) {
  // the digit fed once: each run classifies it again
  const [type, data, dims] = page.signature.feed(model.fed, firstDigit(page), 1);
  const run = () => model.backend.run(type, data, dims);
  const timed = async (count) => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await run();
    return performance.now() - t0;
  };
  // warm up (the first runs compile and fill caches) for 5 groups' time before sizing the groups
  for (let spent = 0; spent < 5 * groupMs;) spent += await timed(5);
  // sized by the shortest of three timings: a pause (garbage collection, another tab) cannot shrink the groups
  const shortest = async (count) => Math.min(await timed(count), await timed(count), await timed(count));
  let group = Math.max(1, Math.ceil(runs / groups));
  while ((await shortest(group)) < groupMs) group *= 2;
  const perRun = [];
  for (let g = 0; g < groups; g++) perRun.push((await timed(group)) / group);
  perRun.sort((a, b) => a - b);
  const mid = perRun.length >> 1;
  const median = perRun.length % 2 ? perRun[mid] : (perRun[mid - 1] + perRun[mid]) / 2;
  return { median_ms: median, runs: perRun.length * group, group, runtime: model.variant.runtime };
}

/** { predictions, scores, ms } of the images in `pixels` (Uint8Array n*784) on `model`, cut into runs it takes:
 * one image per run on the compiled runtime, else one without a batch dimension, B when fixed, any number
 * when dynamic. */
export async function classify(model, pixels) {
  const { batch } = model.variant;
  const n = pixels.length / 784;
  const step = Math.min(model.backend.oneImage || batch === 0 ? 1 : batch ?? Infinity, n);
  const predictions = [];
  const scores = [];
  let ms = 0;
  for (let start = 0; start < n; start += step) {
    const count = Math.min(step, n - start);
    const result = await model.run(pixels.subarray(start * 784, (start + count) * 784), count);
    predictions.push(...result.predictions);
    if (result.scores) scores.push(...result.scores);
    ms += result.ms;
  }
  return { predictions, scores: scores.length ? scores : null, ms };
}

/** The first test digit (the page's manifest carries it): what the benchmark times. */
const firstDigit = (page) => Uint8Array.from(page.app.manifest.samples.first_pixels);

/** What `work()` resolves to, or { error } with its message. */
async function answer(work) {
  try {
    return await work();
  } catch (err) {
    return { error: err?.message || String(err) };
  }
}

function setupButtons(page, samples) {
  const { app, ui } = page;
  ui.$("bench").addEventListener("click", async () => {
    const out = ui.$("bench-out");
    out.textContent = "timing inferences…";
    const result = await answer(async () => benchmark(page, await page.getModel(app.current)));
    out.textContent = result.error ?? `${ui.formatMs(result.median_ms)} per inference (median of ${result.runs} runs, 1 thread)`;
  });
  ui.$("run-all").addEventListener("click", async () => {
    const { images, labels } = samples;
    const result = await answer(async () => classify(await page.getModel(app.current), images));
    if (result.error) return ui.showError(result.error);
    result.predictions.forEach((p, i) => markSample(ui.$, i, p, labels[i]));
    const right = result.predictions.filter((p, i) => p === labels[i]).length;
    ui.$("gallery-score").textContent = `${right} of ${labels.length} right with ${app.current}`;
  });
}

/**
 * Show the gallery and wire the buttons; `page` is the app's state and helpers. Returns what the app calls
 * when the shown digit changes: mark(i, prediction), select(i or null).
 */
export async function start(page) {
  const { app, ui } = page;
  document.head.append(ui.el("style", null, GALLERY_STYLE));
  const samples = await loadSamples(page.fetchBytes, app.manifest.samples);
  renderGallery(page, samples, (i) => page.pick(i, samples.images.subarray(i * 784, (i + 1) * 784)));
  const gallery = {
    mark: (i, prediction) => markSample(ui.$, i, prediction, samples.labels[i]),
    select: (i) => selectSample(ui.$, i),
  };
  if (app.input?.kind === "sample") {
    gallery.select(app.input.index);
    if (app.prediction != null) gallery.mark(app.input.index, app.prediction);
  }
  setupButtons(page, samples);
  return gallery;
}
