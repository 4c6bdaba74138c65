// A canvas to draw on with a mouse, a pen or a finger (pointer events), white ink on black like MNIST.

export class DrawingPad {
  /** `onDraw()` is called after every stroke segment, `onEnd()` when a stroke ends. */
  constructor(canvas, { lineWidth = 22, onStart = () => {}, onDraw = () => {}, onEnd = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.lineWidth = lineWidth;
    this.callbacks = { onStart, onDraw, onEnd };
    this.last = null;
    this.empty = true;
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
    this.empty = true;
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
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * this.canvas.width) / rect.width,
      y: ((e.clientY - rect.top) * this.canvas.height) / rect.height,
    };
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    if (this.showing) this.clear();
    this.last = this.point(e);
    this.segment(this.last, this.last);
    this.empty = false;
    this.callbacks.onStart();
    this.callbacks.onDraw();
  }

  move(e) {
    if (!this.last) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const each of events.length ? events : [e]) {
      const p = this.point(each);
      this.segment(this.last, p);
      this.last = p;
    }
    this.callbacks.onDraw();
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.callbacks.onEnd();
  }

  segment(from, to) {
    const { ctx } = this;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = this.lineWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
}
