// A canvas to draw on with a mouse, a pen or a finger (pointer events), white ink on black like MNIST.

/**
 * The pad on `canvas`: `onStart()` is called when a stroke starts, `onDraw()` after every stroke segment,
 * `onEnd()` when it ends. Returns { canvas, clear(), show(image) }.
 */
export function drawingPad(canvas, { onStart, onDraw, onEnd }) {
  const { width, height } = canvas;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  Object.assign(ctx, { strokeStyle: "#fff", lineWidth: 22, lineCap: "round", lineJoin: "round" });
  let last = null;  // the stroke's last point, while one is drawn
  let showing = false;  // an image is shown: the next stroke starts a fresh drawing

  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, width, height);
    showing = false;
  };
  // canvas pixels of a pointer event
  const point = (e) => {
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * width) / rect.width, y: ((e.clientY - rect.top) * height) / rect.height };
  };
  // a line from the last point to `to`, which becomes the last
  const segment = (to) => {
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    last = to;
  };

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button > 0) return;  // the mouse's main button, a pen or a finger
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    if (showing) clear();
    last = point(e);
    segment(last);
    onStart();
    onDraw();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const events = e.getCoalescedEvents?.() ?? [];
    for (const each of events.length ? events : [e]) segment(point(each));
    onDraw();
  });
  // the stroke ends when the pointer lets the canvas go (after pointerup or pointercancel)
  canvas.addEventListener("lostpointercapture", () => {
    last = null;
    onEnd();
  });
  clear();
  return {
    canvas,
    clear,
    /** Show 784 pixels (e.g. a gallery digit) on the pad; the next stroke starts a fresh drawing. */
    show(pixels) {
      // each ink pixel a square; a drawImage of the 28x28 preview made Chromium recompute the page's style
      // before the first answer (3-5 ms against under 1)
      clear();
      pixels.forEach((v, i) => {
        if (!v) return;
        ctx.fillStyle = `rgb(${v} ${v} ${v})`;
        ctx.fillRect((i % 28) * width / 28, ((i / 28) | 0) * height / 28, width / 28, height / 28);
      });
      showing = true;
    },
  };
}
