// Rendering of the page's parts from plain data; no model or runtime logic here.

export const $ = (id) => document.getElementById(id);
export const ANSWER_TIMING = "answer";  // the Element Timing name of a shown answer

export function formatBytes(n) {
  if (n == null) return "–";
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} kB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}

export function formatMs(ms) {
  if (ms == null) return "–";
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

// Thousands separators without Intl: the first toLocaleString call in a page costs 15-75 ms (ICU set-up),
// and the model cards render before the first prediction.
export const formatCount = (n) => (n == null ? "–" : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","));
export const formatPercent = (p, digits = 2) => (p == null ? "–" : `${(p * 100).toFixed(digits)} %`);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function showError(message) {
  const box = $("error");
  const line = el("p", null, message);
  box.append(line);
  box.hidden = false;
}

export function setStatus(text) {
  $("status").textContent = text;
}

/** Ten bars, one per digit; `probs` null draws them empty. */
export function renderBars(probs, prediction) {
  const list = $("bars");
  if (!list.children.length) {
    for (let d = 0; d < 10; d++) {
      const item = el("li", "bar");
      item.append(el("span", "bar-digit", String(d)), el("span", "bar-track"), el("span", "bar-value"));
      item.children[1].append(el("span", "bar-fill"));
      list.append(item);
    }
  }
  [...list.children].forEach((item, d) => {
    const p = probs ? probs[d] : 0;
    item.classList.toggle("best", probs != null && d === prediction);
    item.querySelector(".bar-fill").style.width = `${(p * 100).toFixed(1)}%`;
    item.querySelector(".bar-value").textContent = probs ? `${(p * 100).toFixed(1)}%` : "";
  });
}

let answerTimed = false;

/** The answer; the first digit goes in an element that Chromium reports when it reaches the screen. */
export function renderAnswer(prediction, probs, ms) {
  const digit = prediction == null ? "–" : el("span", null, String(prediction));
  if (prediction != null && !answerTimed) {
    digit.setAttribute("elementtiming", ANSWER_TIMING);
    answerTimed = true;
  }
  $("digit").replaceChildren(digit);
  $("confidence").textContent = probs ? `${(probs[prediction] * 100).toFixed(1)}% sure` : "";
  $("timing").textContent = ms == null ? "" : `inference ${formatMs(ms)}`;
}

/** Paint 784 uint8 pixels onto a 28x28 canvas (white digit on black). */
export function paintDigit(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = pixels ? pixels[i] : 0;
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** The model picker: one selectable card per variant with its size, accuracy and parameters. */
export function renderModels(variants, current, onPick) {
  const box = $("models");
  box.replaceChildren();
  for (const v of variants) {
    const card = el("button", "model");
    card.type = "button";
    card.setAttribute("role", "radio");
    card.setAttribute("aria-checked", String(v.name === current));
    card.dataset.model = v.name;
    const head = el("div", "model-head");
    head.append(el("span", "model-name", v.name), el("span", "model-acc", formatPercent(v.accuracy)));
    card.append(head);
    if (v.description) card.append(el("p", "model-desc", v.description));
    const facts = el("dl", "model-facts");
    const browser = v.browser?.latency_ms;
    for (const [k, value] of [
      ["size", `${formatBytes(v.bytes)} · gzip ${formatBytes(v.gzip_bytes)}`],
      ["params", v.nonzero_params < v.params ? `${formatCount(v.nonzero_params)} of ${formatCount(v.params)}`
        : formatCount(v.params)],
      ["latency", browser != null ? `${formatMs(browser)} browser · ${formatMs(v.latency_ms)} native`
        : `${formatMs(v.latency_ms)} native`],
    ]) facts.append(el("dt", null, k), el("dd", null, value));
    card.append(facts);
    card.addEventListener("click", () => onPick(v.name));
    box.append(card);
  }
}

export function markModel(name, failed) {
  for (const card of $("models").children) {
    card.setAttribute("aria-checked", String(card.dataset.model === name));
    if (card.dataset.model === name && failed) card.classList.add("failed");
  }
}
