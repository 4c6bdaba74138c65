"""`edgeshrink bundle|serve`: the browser-ready folder, served locally and verified in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink.cli import checks, render
from edgeshrink.cli.console import console, show
from edgeshrink.cli.render import VerifyOptions


def register(app: typer.Typer) -> None:
    app.command()(bundle)
    app.command()(serve)


def bundle(
    optimized: Annotated[Path, typer.Argument(help="The output folder of 'edgeshrink optimize'.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the bundle to.")] = Path("dist"),
    runtime: Annotated[str, typer.Option(
        callback=checks.runtime,
        help="compiled: a WebAssembly runtime generated for each model, where the compiler covers it (else "
             "onnxruntime-web, with the reason printed and in manifest.json); ort: onnxruntime-web for all.")
    ] = "compiled",
    build: Annotated[str, typer.Option(
        callback=checks.build,
        help="How the compiled runtime is built: page: small where that saves 5% of the module's bytes, else "
             "fast; fast: quickest per digit; small: fewest bytes (1.7-2.5x the time per digit).")] = "page",
    verify: Annotated[bool, typer.Option(
        help="Open the bundle in headless Chromium and check every variant against onnxruntime.")] = False,
    images: Annotated[int, typer.Option(min=1, help="Test digits each variant classifies in --verify.")] = 10_000,
    contexts: Annotated[int, typer.Option(
        min=1, help="Fresh browser contexts per timing profile in --verify (the median is kept).")] = 5,
    profiles: Annotated[str, typer.Option(
        callback=checks.profiles,
        help="Timing profiles for --verify, comma-separated: localhost, 4g (9 Mbit/s, 100 ms), "
             "slow-4g (1.6 Mbit/s, 150 ms), cpu4x (CPU slowed 4x).")] = "localhost,4g,slow-4g,cpu4x",
    baseline: Annotated[bool, typer.Option(
        help="Also ship the input model, loaded by the page only when picked; --no-baseline ships only the "
             "optimized one.")] = True,
    ort_dir: Annotated[Optional[Path], typer.Option(
        "--ort-dir", envvar="EDGESHRINK_ORT_DIR",
        help="Where npm installs onnxruntime-web (default: ~/.cache/edgeshrink/onnxruntime-web).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a folder that is not a bundle: edgeshrink's files there are replaced, the "
                        "others kept.")] = False,
    gallery_levels: Annotated[int, typer.Option(
        min=2, max=256, help="Grey levels of the gallery's digits, each pixel rounded to the nearest (8: samples.bin "
                             "6.4 KB brotli, 16: 7.9 KB), which the page and manifest.json say; 256 keeps their "
                             "exact pixels (13.2 KB).")] = 8,
) -> None:
    """Write a self-contained static folder: the web app, the optimized model (the page's default) and the
    baseline, their runtimes, manifest.json; every file with its .br and .gz.

    Rebuilding into an earlier bundle keeps the files you added there (a CNAME, say)."""
    if verify:
        from edgeshrink.web.check.browser import locate

        locate()  # Playwright and a Chromium, before the bundle is built, not after
    verifying = VerifyOptions(images, contexts, checks.names(profiles)) if verify else None
    bundle_report(optimized, output, verifying, baseline, ort_dir, runtime, force, build, gallery_levels)


def bundle_report(optimized: Path, output: Path, checks: "VerifyOptions | None", baseline: bool = True,
                  ort_dir: Path | None = None, runtime: str = "compiled", force: bool = False,
                  build: str = "page", gallery_levels: int = 8) -> None:
    from edgeshrink import web
    from edgeshrink.web.assemble.variants import from_optimize_output

    with console.status(f"bundling {optimized} into {output}") as status:
        def verify(folder: Path):
            status.update("verifying in headless Chromium")
            return web.verify(folder, images=checks.images, contexts=checks.contexts, profiles=checks.profiles)

        variants = from_optimize_output(optimized, baseline)
        # a bundle that fails the check is not written
        result = web.bundle(variants, output, ort_dir=ort_dir, runtime=runtime, default="optimized", force=force,
                            check=verify if checks else None, inputs=[optimized], build=build,
                            gallery_levels=gallery_levels)
    for name, (_, why) in result.runtimes.items():
        if why:
            console.print(f"note: {name} runs on onnxruntime-web, not the compiled runtime: {why}", highlight=False)
    show(render.bundle_table(result, output))
    show(render.first_visit_table(result))
    if result.checked:
        show(render.verify_table(result.checked))
    console.print(f"serve it with 'edgeshrink serve {output}'", highlight=False)


def serve(
    dist: Annotated[Path, typer.Argument(help="A bundle folder written by 'edgeshrink bundle'.")],
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0 picks a free one).")] = 8000,
    isolated: Annotated[bool, typer.Option(
        "--isolated", help="Send COOP/COEP (SharedArrayBuffer, precise timers); a fresh visit takes 20-40 ms more.",
    )] = False,
) -> None:
    """Serve a bundle as a static host would: precompressed files, correct MIME types, nothing from elsewhere."""
    from edgeshrink import web

    try:
        web.serve(dist, host, port, isolated=isolated,
                  on_ready=lambda url: console.print(f"serving {dist} at {url} (Ctrl-C stops)"))
    except KeyboardInterrupt:
        console.print("stopped")
