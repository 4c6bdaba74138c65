// Rendering of the page's parts from plain data; no model or runtime logic here.

export const $ = (id) => document.getElementById(id);

/** An element of class `className` (if any) holding `children` (elements, or text for anything else). */
export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

export const formatMs = (ms) => (ms == null ? "–" : ms < 1 ? `${(ms * 1e3).toFixed(0)} µs`
  : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

const percent = (p) => `${(p * 100).toFixed(1)}%`;

export function showError(message) {
  $("error").append(el("p", null, message));
  $("error").hidden = false;
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

/** The answer; its digit goes in a new element that Chromium reports when it reaches the screen (the first
 * one reported is the first answer: ./later.js, answerShown). */
export function renderAnswer(prediction, probs, ms) {
  const digit = el("span", null, prediction ?? "–");
  digit.setAttribute("elementtiming", "answer");
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

/** The model picker's cards (index.html carries them: the bundle renders them from the manifest, picker.py). */
export function setupModels(current, onPick) {
  $("models").onclick = (e) => {
    const card = e.target.closest(".model");
    if (card) onPick(card.dataset.model);
  };
  markModel(current);
}

export function markModel(name, failed) {
  for (const card of $("models").children) {
    const shown = card.dataset.model === name;
    card.setAttribute("aria-checked", shown);
    if (shown && failed) card.classList.add("failed");
  }
}
