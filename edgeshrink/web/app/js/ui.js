// Rendering of the page's parts from plain data; no model or runtime logic here.

export const $ = (id) => document.getElementById(id);
export const ANSWER_TIMING = "answer";  // the Element Timing name of a shown answer

/** An element of class `className` (if any) holding `children` (elements, or text for anything else). */
export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

// null, where a figure is unknown, shows as a dash
const known = (format) => (x) => (x == null ? "–" : format(x));

export const formatBytes = known((n) => (n < 1e3 ? `${n} B`
  : n < 1e6 ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} kB` : `${(n / 1e6).toFixed(2)} MB`));

export const formatMs = known((ms) => (ms < 1 ? `${(ms * 1e3).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`));

// Thousands separators without Intl: the first toLocaleString call in a page costs 15-75 ms (ICU set-up),
// and the model cards render before the first prediction.
const formatCount = known((n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","));

const formatAccuracy = known((p) => `${(p * 100).toFixed(2)} %`);
const percent = (p) => `${(p * 100).toFixed(1)}%`;

export function showError(message) {
  $("error").append(el("p", null, message));
  $("error").hidden = false;
}

export function setStatus(text) {
  $("status").textContent = text;
}

/** The ten bars of index.html, one per digit; `probs` null empties them. */
export function renderBars(probs, prediction) {
  [...$("bars").children].forEach((bar, d) => {
    const [, track, value] = bar.children;
    bar.classList.toggle("best", probs != null && d === prediction);
    track.firstChild.style.width = percent(probs?.[d] ?? 0);
    value.textContent = probs ? percent(probs[d]) : "";
  });
}

let answerTimed = false;

/** The answer; the first digit goes in an element that Chromium reports when it reaches the screen. */
export function renderAnswer(prediction, probs, ms) {
  const digit = prediction == null ? "–" : el("span", null, prediction);
  if (prediction != null && !answerTimed) {
    digit.setAttribute("elementtiming", ANSWER_TIMING);
    answerTimed = true;
  }
  $("digit").replaceChildren(digit);
  $("confidence").textContent = probs ? `${percent(probs[prediction])} sure` : "";
  $("timing").textContent = ms == null ? "" : `inference ${formatMs(ms)}`;
}

/** Paint 784 uint8 pixels (or none: black) onto a 28x28 canvas, white digit on black. */
export function paintDigit(canvas, pixels) {
  const image = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = pixels?.[i] ?? 0;
    image.data.set([v, v, v, 255], i * 4);
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
}

/** The model picker: one selectable card per variant with its size, accuracy and parameters. */
export function renderModels(variants, current, onPick) {
  $("models").replaceChildren(...variants.map((v) => {
    const browser = v.browser?.latency_ms;
    const facts = {
      size: `${formatBytes(v.bytes)} · gzip ${formatBytes(v.gzip_bytes)}`,
      params: v.nonzero_params < v.params ? `${formatCount(v.nonzero_params)} of ${formatCount(v.params)}`
        : formatCount(v.params),
      latency: `${browser != null ? `${formatMs(browser)} browser · ` : ""}${formatMs(v.latency_ms)} native`,
    };
    const card = el("button", "model",
      el("div", "model-head", el("span", "model-name", v.name), el("span", "model-acc", formatAccuracy(v.accuracy))),
      v.description ? el("p", "model-desc", v.description) : "",
      el("dl", "model-facts", ...Object.entries(facts).flatMap(([k, text]) => [el("dt", null, k), el("dd", null, text)])));
    card.type = "button";
    card.setAttribute("role", "radio");
    card.dataset.model = v.name;
    card.onclick = () => onPick(v.name);
    return card;
  }));
  markModel(current);
}

export function markModel(name, failed) {
  for (const card of $("models").children) {
    const shown = card.dataset.model === name;
    card.setAttribute("aria-checked", shown);
    if (shown && failed) card.classList.add("failed");
  }
}
