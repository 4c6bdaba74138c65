// The test hook's calls beyond the first answer (window.edgeshrink in app.js), each given the page first: what
// `edgeshrink verify`, the tests and the screenshot script call. A file of its own, loaded when one is called, so
// a visitor's page, which never calls them, never loads it.

import { benchmark, classify } from "./later.js";

/** Pixels given to the hook: n x 784 uint8 as an array or a base64 string. */
function decodePixels(pixels) {
  return typeof pixels === "string" ? Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0)) : Uint8Array.from(pixels);
}

/** Variant `name` of the bundle, or an error that names the ones it has. */
function variant(page, name) {
  const found = page.variant(name);
  if (!found) {
    const known = page.app.manifest.variants.map((v) => v.name).join(", ");
    throw new Error(`no model variant named ${name}; the bundle has ${known}`);
  }
  return found;
}

const getModel = (page, name) => page.getModel(variant(page, name).name);

export const hook = {
  // The drawing's 28x28 input (null when the pad shows no drawing).
  drawnPixels: ({ app }) => (app.input?.kind === "drawing" ? Array.from(app.input.pixels) : null),
  state: ({ app }) => ({ model: app.current, prediction: app.prediction, probabilities: app.probs }),
  // The state once the predictions already asked for (by drawing, clicking) have been shown.
  settled: async (page) => {
    while (page.app.running) await page.app.running;
    return hook.state(page);
  },
  // Load every variant now (they otherwise load when picked): the page then works offline.
  loadAll: async (page) => {
    await Promise.all(page.app.manifest.variants.map((v) => page.getModel(v.name)));
    return true;
  },
  classify: async (page, name, pixels) => classify(await getModel(page, name), decodePixels(pixels)),
  benchmark: async (page, name, runs = 200) => benchmark(page, await getModel(page, name), runs),
  // The tensor the page feeds variant `name` for n images (the tests compare it with Python's Signature.feed).
  feed: async (page, name, pixels, n) => {
    const v = variant(page, name);
    await page.signature.prepare(v);
    const [type, data, dims] = page.signature.feed(v, decodePixels(pixels), n);
    return { type, data: Array.from(data), dims };
  },
};

