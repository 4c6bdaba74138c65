// The page: draw or pick a digit, classify it with the chosen model variant, show every class's probability.
// Everything it needs comes from its own folder (models/, ort/, samples.bin) and from the manifest inside
// index.html, whose first script has already started loading the shown variant. A first visit loads only
// what the first prediction needs (that variant and its runtime; the first digit is in the manifest; the
// bundle puts this code and a small model inside index.html), then ./later.js: the gallery, the benchmark,
// the sizes, the drawing's conversion; other variants load when picked.

import { drawingPad } from "./draw.js";
import { loadModel, reason } from "./runtime.js";
import * as signature from "./signature.js";
import * as ui from "./ui.js";
import { $ } from "./ui.js";

const boot = window.edgeshrinkBoot;  // what index.html began: { manifest, shown (a variant's name), started }

// document-relative: this code runs from inside index.html
const later = () => import(new URL("js/later.js", document.baseURI).href);

// the page's state; also input (what is classified), running (the classifying, while it runs), pending (asked
// again meanwhile), prediction and probs (its answer) and gallery (./later.js: mark(i, digit), select(i))
const app = { manifest: boot?.manifest, current: boot?.shown, files: new Map(), models: new Map() };

function deferred() {
  const d = {};
  d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
  d.promise.catch(() => {});  // failures are shown on the page; the hook's callers may also await them
  return d;
}
const ready = deferred();
const firstPrediction = deferred();
const galleryLoaded = deferred();

// The hook that `edgeshrink verify`, the tests and the screenshot script drive the page with.
window.edgeshrink = {
  ready: ready.promise,
  timeToFirstPrediction: firstPrediction.promise,  // the first answer is in the page
  // ... and on screen (the frame that showed it, ./later.js reads it), or null
  firstPredictionShown: firstPrediction.promise.then(async () => (await later()).answerShown(), () => null),
  galleryLoaded: galleryLoaded.promise,
};
// The rest of the hook is in ./hook.js, loaded when one is called (a visitor's page never loads it); a failure
// is its answer: { error }.
for (const name of ["loadAll", "classify", "benchmark", "feed", "drawnPixels", "state", "settled"]) {
  window.edgeshrink[name] = (...args) => import(new URL("js/hook.js", document.baseURI).href)
    .then((m) => m.hook[name](page, ...args)).catch((err) => ({ error: reason(err) }));
}

/** What `make()` gave for `key` the first time it was asked for (a file's or a model's loading, once). */
const once = (cache, key, make) => (cache.has(key) ? cache : cache.set(key, make())).get(key);

/** A file of the bundle, fetched once and kept (the page keeps working offline with what it has). */
const bundleFile = (path) => once(app.files, path, async () => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} could not load (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
});

const variantNamed = (name) => app.manifest.variants.find((v) => v.name === name);

/** Variant `name` loaded on its runtime (once). */
// (with what index.html began loading for it)
const getModel = (name) => once(app.models, name,
  () => loadModel(variantNamed(name), app.manifest, bundleFile, boot.shown === name ? boot.started : null));

async function predictOnce() {
  const { input } = app;
  let prediction = null, probs = null, ms = null;
  if (input) {
    const model = await getModel(app.current);
    const result = await model.run(input.pixels, 1);
    prediction = result.predictions[0];
    probs = signature.probabilities(model.variant.output_kind, result.scores?.[0], prediction);
    ms = result.ms;
  }
  Object.assign(app, { prediction, probs });
  ui.renderAnswer(prediction, probs, ms);
  ui.renderBars(probs, prediction);
  if (input?.kind === "sample") app.gallery?.mark(input.index, prediction);
}

function showFailure(err) {
  ui.markModel(app.current, true);
  ui.showError(reason(err));
}

/** Classify the current input; calls during a run coalesce into one more run. */
function refresh() {
  app.pending = true;
  return app.running ||= (async () => {
    while (app.pending) {
      app.pending = false;
      await predictOnce();
    }
  })().catch(showFailure).finally(() => { app.running = null; });
}

/** Show `input` ({ kind: "drawing" or "sample", pixels, index of a sample }, or null) as the model's input. */
function setInput(input) {
  app.input = input;
  ui.paintDigit($("preview"), input?.pixels);
}

/** Show digit `i` of the gallery (its pixels: the first digit comes before the gallery) on the pad. */
function showSample(i, pixels) {
  setInput({ kind: "sample", index: i, pixels });
  app.gallery?.select(i);
  app.pad.show(pixels);
  $("pad-hint").hidden = true;
}

function pickModel(name) {
  app.current = name;
  ui.markModel(name);
  showRuntime();
  const url = new URL(location.href);
  url.searchParams.set("model", name);
  history.replaceState(null, "", url);
  refresh();
}

function setupDrawing() {
  let frame = 0;
  const update = async () => {
    frame = 0;
    const pixels = (await later()).toMnist(app.pad.canvas);  // the drawing's code comes after the first answer
    setInput(pixels && { kind: "drawing", pixels });
    refresh();
  };
  app.pad = drawingPad($("pad"), {
    onStart: () => {
      app.gallery?.select(null);
      $("pad-hint").hidden = true;
    },
    onDraw: () => { frame ||= requestAnimationFrame(update); },
    onEnd: () => {
      cancelAnimationFrame(frame);
      update();
    },
  });
  $("clear").onclick = () => {
    app.pad.clear();
    app.gallery?.select(null);
    setInput(null);
    $("pad-hint").hidden = false;
    refresh();
  };
}

function showRuntime() {
  const runtime = variantNamed(app.current).runtime === "compiled" ? "compiled for this model"
    : `onnxruntime-web ${app.manifest.ort?.version}`;
  $("status").textContent = `${runtime} · WebAssembly · 1 thread${self.crossOriginIsolated ? " · cross-origin isolated" : ""}`;
}

// What ./later.js gets: the page's state and helpers.
const page = { app, ui, signature, fetchBytes: bundleFile, getModel, variant: variantNamed,
  pick: (i, pixels) => { showSample(i, pixels); refresh(); } };

function start() {
  setupDrawing();
  if (!app.manifest) throw new Error("this page has no manifest: serve a folder made by edgeshrink bundle");
  // the model loads (fetch, compile) while the page renders its cards
  const model = getModel(app.current);
  ui.setupModels(app.current, pickModel);
  showRuntime();
  ready.resolve(true);
  return model;
}

Promise.resolve()
  .then(start)
  .then(async () => {
    // the first test digit, its 784 numbers in the page's manifest (pagecopy.py)
    showSample(0, Uint8Array.from(app.manifest.samples.first_pixels));
    try {
      await predictOnce();
      firstPrediction.resolve(performance.now());
    } catch (err) {
      showFailure(err);
      firstPrediction.reject(err);
    }
    app.gallery = await (await later()).start(page);
    galleryLoaded.resolve(true);
  })
  .catch((err) => {
    ui.showError(reason(err));
    $("status").textContent = "not working: see the message above";
    for (const d of [ready, firstPrediction, galleryLoaded]) d.reject(err);
  });
