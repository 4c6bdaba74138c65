// What the page shows once its first answer is on screen: the gallery of real test digits (and "Classify
// all"), the benchmark, the bundle's sizes and turning a drawing into the model's input. A file of its own,
// fetched after the first answer (the bundle joins the modules it imports into it); the page hands it its state
// and helpers (`start`).

import * as mnist from "./mnist.js";

export const toMnist = mnist.toMnist;  // the drawing on a canvas as the model's input, or null

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

function renderSizes(ui, firstVisit, sizes) {
  if (!firstVisit) return;
  const parts = ["runtime", "models", "app"].filter((k) => firstVisit[k]?.brotli);
  const text = parts.map((k) => `${k} ${ui.formatBytes(firstVisit[k].brotli)}`).join(" + ");
  const whole = sizes?.total ? ` The whole bundle, every variant included: ${ui.formatBytes(sizes.total.brotli)}.` : "";
  ui.$("sizes").textContent = `This page over the wire (brotli): ${ui.formatBytes(firstVisit.total?.brotli)} = ${text}.${whole}`;
}

/**
 * Median milliseconds per inference of one image on `model`, over `groups` groups of runs (at least `runs`
 * runs in all). A group runs long enough (`groupMs`) that the clock's grain does not matter: performance.now()
 * is coarse (0.1 ms, jittered) on pages that are not cross-origin isolated, as on most static hosts.
 */
export async function benchmark(model, pixels, runs = 200, groups = 20, groupMs = 2) {
  const run = model.prepared(pixels);
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

async function classifyWith(page, name, pixels) {
  const result = await (await page.getModel(name)).classify(pixels, pixels.length / 784);
  return { predictions: result.predictions, scores: result.scores, ms: result.ms };
}

/** The test hook's calls beyond the first answer (window.edgeshrink in app.js), each given the page first. */
export const hook = {
  // Load every variant now (they otherwise load when picked): the page then works offline.
  loadAll: async (page) => {
    await Promise.all(page.app.manifest.variants.map((v) => page.getModel(v.name)));
    return true;
  },
  classify: (page, name, pixels) => classifyWith(page, name, page.decodePixels(pixels)),
  benchmark: async (page, name, runs = 200) => benchmark(await page.getModel(name),
    page.decodePixels(page.app.manifest.samples.first), runs),
  // The tensor the page feeds variant `name` for n images (the tests compare it with Python's Signature.feed).
  feed: async (page, name, pixels, n) => {
    const v = page.variant(name);
    await page.signature.prepare(v);
    const [type, data, dims] = page.signature.feed(v, page.decodePixels(pixels), n);
    return { type, data: Array.from(data), dims };
  },
};

function setupButtons(page, samples) {
  const { app, ui, answer, getModel, decodePixels } = page;
  ui.$("bench").addEventListener("click", async () => {
    const out = ui.$("bench-out");
    out.textContent = "timing inferences…";
    const result = await answer(async () => benchmark(await getModel(app.current),
      decodePixels(app.manifest.samples.first), 200));
    out.textContent = result.error ?? `${ui.formatMs(result.median_ms)} per inference (median of ${result.runs} runs, 1 thread)`;
  });
  ui.$("run-all").addEventListener("click", async () => {
    const { images, labels } = samples;
    const result = await answer(() => classifyWith(page, app.current, images));
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
  renderSizes(ui, app.manifest.first_visit, app.manifest.sizes);
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
