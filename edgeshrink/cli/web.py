"""`edgeshrink bundle|serve`: the browser-ready folder, served locally and verified in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink.cli.console import console, show
from edgeshrink.report.table import Table


def register(app: typer.Typer) -> None:
    app.command()(bundle)
    app.command()(serve)


def bundle(
    optimized: Annotated[Path, typer.Argument(help="The output folder of 'edgeshrink optimize'.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the bundle to.")] = Path("dist"),
    verify: Annotated[bool, typer.Option(
        help="Open the bundle in headless Chromium and check every variant against onnxruntime.")] = False,
    images: Annotated[int, typer.Option(min=1, help="Test digits each variant classifies in --verify.")] = 300,
    baseline: Annotated[bool, typer.Option(
        help="Also ship the input model, for comparison in the page; --no-baseline ships only the optimized one.")] = True,
    ort_dir: Annotated[Optional[Path], typer.Option(
        "--ort-dir", envvar="EDGESHRINK_ORT_DIR",
        help="Where npm installs onnxruntime-web (default: ~/.cache/edgeshrink/onnxruntime-web).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a folder that is not a bundle: edgeshrink's files there are replaced, the "
                        "others kept.")] = False,
) -> None:
    """Write a self-contained static folder: the web app, baseline and optimized models, manifest.json.

    Rebuilding into an earlier bundle keeps the files you added there (a CNAME, say)."""
    bundle_report(optimized, output, verify, images, baseline, ort_dir, force)


def bundle_report(optimized: Path, output: Path, verify: bool, images: int = 300, baseline: bool = True,
                  ort_dir: Path | None = None, force: bool = False) -> None:
    from edgeshrink import web
    from edgeshrink.web.variants import from_optimize_output

    with console.status(f"bundling {optimized} into {output}"):
        result = web.bundle(from_optimize_output(optimized, baseline), output, ort_dir=ort_dir, force=force)
    rows = [[r["part"], str(r["files"]), f"{r['raw']:,}", f"{r['gzip']:,}", f"{r['brotli']:,}"] for r in result.rows()]
    show(Table(f"bundle {output} (onnxruntime-web {result.runtime_version})",
               ["part", "files", "bytes", "gzip", "brotli"], rows, {"files", "bytes", "gzip", "brotli"}))
    if verify:
        with console.status("verifying in headless Chromium"):
            checked = web.verify(output, images=images)
        rows = [[c.name, str(c.images), f"{100 * c.agreement:.1f}%", f"{100 * c.accuracy:.1f}%",
                 f"{c.latency_ms:.3f} ms", f"{c.first_prediction_ms:.0f} ms"] for c in checked.variants]
        show(Table(f"verified in {checked.browser}, onnxruntime-web {checked.runtime}, 1 thread",
                   ["variant", "images", "agrees with ORT", "accuracy", "latency", "first prediction"], rows,
                   {"images", "agrees with ORT", "accuracy", "latency", "first prediction"}))
    console.print(f"serve it with 'edgeshrink serve {output}'", highlight=False)


def serve(
    dist: Annotated[Path, typer.Argument(help="A bundle folder written by 'edgeshrink bundle'.")],
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0 picks a free one).")] = 8000,
) -> None:
    """Serve a bundle with COOP/COEP headers (precise timers, wasm threads) and correct MIME types."""
    from edgeshrink import web

    try:
        web.serve(dist, host, port, on_ready=lambda url: console.print(f"serving {dist} at {url} (Ctrl-C stops)"))
    except KeyboardInterrupt:
        console.print("stopped")
