// The page: draw or pick a digit, classify it with the chosen model variant, show every class's probability.
// Everything it needs comes from its own folder (models/, ort/, samples.bin) and from the manifest inside
// index.html, whose first script has already started loading the shown variant. A first visit loads only
// what the first prediction needs (that variant and its runtime; the first digit is in the manifest; the
// bundle puts this code and a small model inside index.html), then ./later.js: the gallery, the benchmark,
// the sizes; other variants load when picked.

import { DrawingPad } from "./draw.js";
import { Model, reason } from "./runtime.js";
import * as signature from "./signature.js";
import * as ui from "./ui.js";

// document-relative: this code runs from inside index.html
const later = () => import(new URL("js/later.js", document.baseURI).href);

const app = { manifest: null, files: new Map(), models: new Map(), current: null,
  input: null, running: null, pending: false, prediction: null, probs: null, gallery: null };

function deferred() {
  const d = {};
  d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
  d.promise.catch(() => {});  // failures are shown on the page; the hook's callers may also await them
  return d;
}
const ready = deferred();
const firstPrediction = deferred();
const galleryLoaded = deferred();

/** When the first answer was on screen: Chromium's Element Timing of the frame that showed it (ms from
 * navigation start), or null in browsers that do not report it. */
function firstAnswerShown() {
  if (!PerformanceObserver.supportedEntryTypes?.includes("element")) return Promise.resolve(null);
  return new Promise((resolve) => {
    new PerformanceObserver((list, observer) => {
      const shown = list.getEntries().find((entry) => entry.identifier === ui.ANSWER_TIMING);
      if (!shown) return;
      observer.disconnect();
      resolve(shown.renderTime);
    }).observe({ type: "element", buffered: true });
  });
}

// The hook that `edgeshrink verify`, the tests and the screenshot script drive the page with.
window.edgeshrink = {
  ready: ready.promise,
  timeToFirstPrediction: firstPrediction.promise,  // the first answer is in the page
  firstPredictionShown: firstAnswerShown(),  // ... and on screen (the frame that shows it), or null
  galleryLoaded: galleryLoaded.promise,
  drawnPixels: () => (app.input?.kind === "drawing" ? Array.from(app.input.pixels) : null),
  state: () => ({ model: app.current, prediction: app.prediction, probabilities: app.probs }),
  // The state once the predictions already asked for (by drawing, clicking) have been shown.
  settled: async () => {
    while (app.running) await app.running;
    return window.edgeshrink.state();
  },
};
// The rest of the hook (loadAll, classify, benchmark, feed) is in ./later.js, loaded when one is called.
for (const name of ["loadAll", "classify", "benchmark", "feed"]) {
  window.edgeshrink[name] = (...args) => answer(async () => (await later()).hook[name](page, ...args));
}

async function answer(work) {
  try {
    return await work();
  } catch (err) {
    return { error: reason(err) };
  }
}

function decodePixels(pixels) {
  if (typeof pixels !== "string") return Uint8Array.from(pixels);
  const text = atob(pixels);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function download(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} could not load (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A file of the bundle, fetched once and kept (the page keeps working offline with what it has). */
function fetchBytes(path) {
  if (!app.files.has(path)) app.files.set(path, download(path));
  return app.files.get(path);
}

function variant(name) {
  const found = app.manifest.variants.find((v) => v.name === name);
  if (!found) {
    const known = app.manifest.variants.map((v) => v.name).join(", ");
    throw new Error(`no model variant named ${name}; the bundle has ${known}`);
  }
  return found;
}

function getModel(name) {
  if (!app.models.has(name)) {
    const v = variant(name);
    const boot = window.edgeshrinkBoot;
    const started = boot.shown === name ? boot.started : null;  // what index.html began loading
    app.models.set(name, Model.create(v, app.manifest, fetchBytes, started));
  }
  return app.models.get(name);
}

async function predictOnce() {
  const input = app.input;
  if (!input) {
    Object.assign(app, { prediction: null, probs: null });
    ui.renderAnswer(null, null, null);
    ui.renderBars(null);
    return;
  }
  const model = await getModel(app.current);
  const result = await model.classify(input.pixels, 1);
  const prediction = result.predictions[0];
  const probs = signature.probabilities(model.variant.output_kind, result.scores?.[0], prediction);
  Object.assign(app, { prediction, probs });
  ui.renderAnswer(prediction, probs, result.ms);
  ui.renderBars(probs, prediction);
  if (input.kind === "sample") app.gallery?.mark(input.index, prediction);
}

/** Classify the current input; calls during a run coalesce into one more run. */
function refresh() {
  if (app.running) {
    app.pending = true;
    return app.running;
  }
  app.running = (async () => {
    try {
      do {
        app.pending = false;
        await predictOnce();
      } while (app.pending);
    } catch (err) {
      ui.markModel(app.current, true);
      ui.showError(reason(err));
    } finally {
      app.running = null;
    }
  })();
  return app.running;
}

function setInput(input) {
  app.input = input;
  ui.paintDigit(ui.$("preview"), input?.pixels);
}

/** Show digit `i` of the gallery (its pixels: the first digit comes before the gallery) on the pad. */
function showSample(i, pixels) {
  setInput({ kind: "sample", index: i, pixels });
  app.gallery?.select(i);
  app.pad.show(ui.$("preview"));
  ui.$("pad-hint").hidden = true;
}

function pickModel(name) {
  app.current = name;
  ui.markModel(name, false);
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
    setInput(pixels ? { kind: "drawing", pixels } : null);
    refresh();
  };
  app.pad = new DrawingPad(ui.$("pad"), {
    onStart: () => {
      app.gallery?.select(null);
      ui.$("pad-hint").hidden = true;
    },
    onDraw: () => { frame ||= requestAnimationFrame(update); },
    onEnd: () => {
      cancelAnimationFrame(frame);
      update();
    },
  });
  ui.$("clear").addEventListener("click", () => {
    app.pad.clear();
    app.gallery?.select(null);
    ui.$("pad-hint").hidden = false;
    setInput(null);
    refresh();
  });
}

function showRuntime() {
  const v = variant(app.current);
  const runtime = v.runtime === "compiled" ? "compiled for this model" : `onnxruntime-web ${app.manifest.ort?.version}`;
  ui.setStatus(`${runtime} · WebAssembly · 1 thread${self.crossOriginIsolated ? " · cross-origin isolated" : ""}`);
}

// What ./later.js gets: the page's state and helpers.
const page = { app, ui, signature, fetchBytes, answer, getModel, variant, decodePixels,
  pick: (i, pixels) => { showSample(i, pixels); refresh(); } };

/** What the first answer does not need (the gallery, the benchmark, the sizes): loaded after it. */
async function startLater() {
  app.gallery = await (await later()).start(page);
}

function start() {
  setupDrawing();
  ui.renderBars(null);
  const boot = window.edgeshrinkBoot;
  if (!boot?.manifest) throw new Error("this page has no manifest: serve a folder made by edgeshrink bundle");
  app.manifest = boot.manifest;
  app.current = boot.shown;
  const names = app.manifest.variants.map((v) => v.name);
  // the model loads (fetch, compile) while the page renders its cards
  const model = getModel(app.current);
  model.catch(() => {});  // reported by the first prediction
  ui.renderModels(app.manifest.variants, app.current, pickModel);
  showRuntime();
  ready.resolve({ variants: names, runtime: variant(app.current).runtime });
  return model;
}

Promise.resolve()
  .then(start)
  .then(async () => {
    showSample(0, decodePixels(app.manifest.samples.first));
    try {
      await predictOnce();
      firstPrediction.resolve(performance.now());
    } catch (err) {
      ui.markModel(app.current, true);
      ui.showError(reason(err));
      firstPrediction.reject(err);
    }
    await startLater();
    galleryLoaded.resolve(true);
  })
  .catch((err) => {
    ui.showError(reason(err));
    ui.setStatus("not working: see the message above");
    for (const d of [ready, firstPrediction, galleryLoaded]) d.reject(err);
  });
