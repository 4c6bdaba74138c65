// A canvas to draw on with a mouse, a pen or a finger (pointer events), white ink on black like MNIST.

export class DrawingPad {
  /** `onStart()` is called when a stroke starts, `onDraw()` after every stroke segment, `onEnd()` when it ends. */
  constructor(canvas, { onStart, onDraw, onEnd }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    Object.assign(this.ctx, { strokeStyle: "#fff", lineWidth: 22, lineCap: "round", lineJoin: "round" });
    this.callbacks = { onStart, onDraw, onEnd };
    this.last = null;
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, () => this.up());
    }
  }

  clear() {
    const { ctx, canvas } = this;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    this.showing = false;
  }

  /** Show an image (e.g. a gallery digit) on the pad; the next stroke starts a fresh drawing. */
  show(source) {
    this.clear();
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(source, 0, 0, this.canvas.width, this.canvas.height);
    this.showing = true;
  }

  point(e) {
    const { canvas } = this;
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * canvas.width) / rect.width, y: ((e.clientY - rect.top) * canvas.height) / rect.height };
  }

  down(e) {
    if (e.button > 0) return;  // the mouse's main button, a pen or a finger
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    if (this.showing) this.clear();
    this.last = this.point(e);
    this.segment(this.last);
    this.callbacks.onStart();
    this.callbacks.onDraw();
  }

  move(e) {
    if (!this.last) return;
    e.preventDefault();
    const events = e.getCoalescedEvents?.() ?? [];
    for (const each of events.length ? events : [e]) this.segment(this.point(each));
    this.callbacks.onDraw();
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.callbacks.onEnd();
  }

  /** A line from the last point to `to`, which becomes the last. */
  segment(to) {
    const { ctx, last } = this;
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    this.last = to;
  }
}
