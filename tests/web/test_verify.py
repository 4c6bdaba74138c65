"""verify: every variant classifies real digits in Chromium as onnxruntime does, or the bundle is refused."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnx
import pytest
from onnx import helper

from edgeshrink import inference
from edgeshrink.core import model as model_io
from edgeshrink.errors import BundleError
from edgeshrink.web import Variant, bundle, verify
from edgeshrink.web.assemble import wasmtext
from edgeshrink.web.assemble.pagecopy import page_copy


@pytest.fixture
def dist_copy(dist, tmp_path):
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    return copy


@pytest.fixture
def small_dist(web_variants, tmp_path):
    """Two variants and five gallery digits: enough for the checks that fail or skip the measurement."""
    return bundle(web_variants[:2], tmp_path / "small", samples=5).out_dir


LIGHT = {"runs": 10, "contexts": 1, "profiles": ("localhost",)}  # the timing is tested once, below


@pytest.mark.browser
def test_every_variant_passes_and_is_recorded(dist_copy, browser, web_variants):
    result = verify(dist_copy, images=300, runs=50, contexts=1, profiles=("localhost",), browser=browser)
    assert [c.name for c in result.variants] == [v.name for v in web_variants]
    for check in result.variants:
        assert check.images == 300 and check.agreement == 1 and check.accuracy > 0.9 and check.runtime == "ort"
        assert 0 < check.latency_ms < 50 and 0 < check.first_prediction_ms < 60_000
        assert check.first_prediction_by_profile == {"localhost": check.first_prediction_ms}
        assert check.first_prediction_ms <= check.first_shown_ms < 60_000  # on screen after it is in the page
        assert 2_000_000 < check.first_visit_bytes < 3_000_000  # onnxruntime-web's 2.4 MB, sent as brotli
    assert result.variants[0].max_score_diff < 1e-3  # logits: wasm and x86 kernels agree to float rounding
    doc = json.loads((dist_copy / "manifest.json").read_text())
    assert doc["verification"]["browser"] == result.browser and result.browser.startswith("Chromium ")
    for entry, check in zip(doc["variants"], result.variants):
        assert entry["browser"]["latency_ms"] == check.latency_ms and entry["browser"]["images"] == 300
    page = (dist_copy / "index.html").read_text()  # the page's copy of the manifest, from the same record
    assert json.loads(re.search(r'id="manifest">(.*?)</script>', page, re.S).group(1)) == page_copy(doc)
    assert result.rows()[0]["name"] == web_variants[0].name


@pytest.mark.browser
def test_verify_can_leave_the_manifest_alone(small_dist, browser):
    before = [(small_dist / name).read_bytes() for name in ("manifest.json", "index.html")]
    verify(small_dist, images=10, update_manifest=False, browser=browser, **LIGHT)
    assert [(small_dist / name).read_bytes() for name in ("manifest.json", "index.html")] == before


def _nchwc_model(base: onnx.ModelProto) -> onnx.ModelProto:
    """The model with its last activations (16 channels) sent through NCHWc blocked layout and back:
    onnxruntime's x86 CPU kernels (com.microsoft.nchwc) that the WebAssembly build does not have."""
    model = onnx.ModelProto()
    model.CopyFrom(base)
    flatten = next(node for node in model.graph.node if node.op_type == "Flatten")
    activations = flatten.input[0]
    flatten.input[0] = "unblocked"
    at = list(model.graph.node).index(flatten)
    model.graph.node.insert(at, helper.make_node("ReorderOutput", ["blocked"], ["unblocked"],
                                                 domain="com.microsoft.nchwc", channels=16))
    model.graph.node.insert(at, helper.make_node("ReorderInput", [activations], ["blocked"],
                                                 domain="com.microsoft.nchwc"))
    model.opset_import.append(helper.make_opsetid("com.microsoft.nchwc", 1))
    return model


@pytest.mark.browser
def test_a_variant_the_browser_cannot_run_fails_naming_it(web_variants, browser, tmp_path):
    fp32 = web_variants[0]
    path = model_io.save(_nchwc_model(model_io.load(fp32.model_path)), tmp_path / "nchwc.onnx")
    out = bundle([fp32, Variant("x86-nchwc", path, fp32.signature, fp32.accuracy, 1, 1, None)],
                 tmp_path / "dist", samples=5)
    with pytest.raises(BundleError, match=r"variant x86-nchwc does not run in the browser: .*"
                                          r"com\.microsoft\.nchwc:ReorderInput.* is not a registered"):
        verify(out.out_dir, images=10, browser=browser, **LIGHT)
    assert json.loads((out.out_dir / "manifest.json").read_text())["verification"] is None


@pytest.mark.browser
def test_a_request_to_another_origin_fails(small_dist, browser):
    index = small_dist / "index.html"
    index.write_text(index.read_text().replace("</body>", '<img src="http://127.0.0.1:9/pixel.png" alt=""></body>'))
    with pytest.raises(BundleError, match=r"requested another origin: http://127\.0\.0\.1:9/pixel\.png"):
        verify(small_dist, images=10, browser=browser, **LIGHT)


@pytest.mark.browser
def test_browser_answers_that_differ_from_onnxruntime_are_caught(small_dist, browser, monkeypatch):
    predict = inference.predict
    monkeypatch.setattr(inference, "predict", lambda *args: (predict(*args) + 1) % 10)
    with pytest.raises(BundleError, match=r"variant fp32 \(\w+\): the browser's digit differs from onnxruntime's "
                                          r"on 10 of 10"):
        verify(small_dist, images=10, browser=browser, **LIGHT)


@pytest.mark.browser
def test_int8_scores_are_bit_identical_on_all_test_images_and_timings_are_recorded(fast_run, browser, tmp_path):
    from edgeshrink.web.assemble.variants import from_optimize_output

    _, out = fast_run
    dist = bundle(from_optimize_output(out), tmp_path / "dist", default="optimized", samples=5).out_dir
    result = verify(dist, runs=20, contexts=1, profiles=("localhost", "4g", "cpu4x"), browser=browser)
    checks = {c.name: c for c in result.variants}
    assert checks["optimized"].images == 10_000 and checks["optimized"].identical_scores is True
    assert checks["baseline"].max_score_diff < 1e-3  # float: the same classes, scores within rounding
    for check in checks.values():
        profiles = check.first_prediction_by_profile
        assert list(profiles) == ["localhost", "4g", "cpu4x"] and all(ms > 0 for ms in profiles.values())
        assert profiles["4g"] > 100  # at least one emulated round trip
        assert check.latency_ms_cpu4x > 0  # (not compared with latency_ms: on a busy machine either may be slower)
    doc = json.loads((dist / "manifest.json").read_text())
    assert set(doc["verification"]["profiles"]) == {"localhost", "4g", "cpu4x"}
    assert doc["variants"][1]["browser"]["identical_scores"] is True


@pytest.mark.browser
def test_int8_scores_are_bit_identical_on_onnxruntime_web_too(fast_run, browser, tmp_path):
    from edgeshrink import engine
    from edgeshrink.web.assemble.variants import from_optimize_output

    _, out = fast_run
    dist = bundle(from_optimize_output(out), tmp_path / "ort", default="optimized", runtime="ort", samples=5).out_dir
    result = verify(dist, images=2000, browser=browser, **LIGHT)
    checks = {c.name: c for c in result.variants}
    assert checks["optimized"].runtime == "ort" and checks["optimized"].identical_scores is True
    doc = json.loads((dist / "manifest.json").read_text())
    assert doc["variants"][1]["quantized"] is True  # integer arithmetic in onnxruntime-web: held to bit identity
    assert doc["verification"]["reference"] == engine.current().to_dict()  # the CPU and onnxruntime it ran with


def test_nchwc_model_is_valid_for_python_onnxruntime(web_variants, test_split):
    """The failing variant above fails because of the browser, not because the model is broken."""
    fp32 = web_variants[0]
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):  # only x86 builds have the NCHWc kernels
        pytest.skip(f"onnxruntime's NCHWc kernels exist on x86-64 only, this machine is {platform.machine()}")
    model = _nchwc_model(model_io.load(fp32.model_path))
    session = inference.session(model, threads=1)  # on x86-64, a load failure is a failure, not a skip
    base = inference.session(model_io.load(fp32.model_path), threads=1)
    pixels = test_split.images[:20]
    assert np.array_equal(inference.predict(session, fp32.signature, pixels),
                          inference.predict(base, fp32.signature, pixels))


@pytest.mark.browser
def test_compiled_variants_answer_like_onnxruntime_and_load_no_onnxruntime_web(web_variants, browser, tmp_path):
    dist = bundle(web_variants[:3], tmp_path / "compiled", samples=5).out_dir  # the three forms it compiles
    result = verify(dist, images=2000, browser=browser, **LIGHT)
    assert [c.runtime for c in result.variants] == ["compiled"] * 3
    for check in result.variants:
        assert check.agreement == 1 and check.max_score_diff < 1e-3 and check.accuracy > 0.9
        assert check.first_visit_bytes < 100_000  # no onnxruntime-web (2.4 MB) was requested


@pytest.mark.browser
def test_a_page_loads_only_the_runtime_and_model_of_the_variant_it_shows(small_dist, browser):
    """?model=NAME loads that variant's files and not the default's (a link to a small variant must not
    download the default model too), and without ?model= only the default's."""
    from edgeshrink.web.assemble import transfer
    from edgeshrink.web.check.browser import Watch, open_page, settle
    from edgeshrink.web.check.serve import running

    doc = json.loads((small_dist / "manifest.json").read_text())
    sizes = transfer.measure(small_dist)
    files = {e["name"]: {f for f in transfer.first_visit_files(sizes, e) if f.startswith(("models/", "ort/"))}
             for e in doc["variants"]}
    assert len(files) == 2 and not files[doc["default"]]  # the default's small model is inside index.html
    default_wasm = next(e for e in doc["variants"] if e["name"] == doc["default"])["compiled"]["wasm"]
    with running(small_dist) as url:
        for query, shown in [("", doc["default"]), *[(f"?model={n}", n) for n in files if n != doc["default"]]]:
            context = browser.new_context()
            requested = []
            page = context.new_page()
            page.on("request", lambda request, seen=requested: seen.append(request.url))
            page = open_page(context, url + query, Watch(url), page)
            assert settle(page, "window.edgeshrink.timeToFirstPrediction")[0] == "ok"
            context.close()
            paths = {r[len(url):].lstrip("/").split("?")[0] for r in requested}
            for name, own in files.items():
                assert (own <= paths) if name == shown else not (own - files[shown]) & paths, (query, name, paths)
            assert default_wasm not in paths


def _answers(browser, dist, name: str, pixels: np.ndarray) -> tuple[dict, list[str]]:
    """`name`'s answer to `pixels` in the page of `dist`, and the files the page loaded."""
    from edgeshrink.web.check.browser import Watch, open_page, settle
    from edgeshrink.web.check.serve import running

    with running(dist) as url:
        context = browser.new_context()
        page = open_page(context, url, Watch(url))
        assert settle(page, "window.edgeshrink.timeToFirstPrediction")[0] == "ok"
        answer = page.evaluate("([name, pixels]) => window.edgeshrink.classify(name, pixels)",
                               [name, pixels.ravel().tolist()])
        loaded = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
        context.close()
    return answer, loaded


@pytest.mark.browser
def test_the_carried_model_answers_bit_identically_to_its_file(small_dist, browser, tmp_path, test_split):
    # the default variant's wasm inside index.html, each byte rotated (wasmtext.py) and decoded by the page's
    # first script, against the same page fetching models/NAME/model.wasm
    doc = json.loads((small_dist / "manifest.json").read_text())
    wasm_path = next(e for e in doc["variants"] if e["name"] == doc["default"])["compiled"]["wasm"]
    page = (small_dist / "index.html").read_text()
    carried = re.search(r'id="inline-wasm" data-name="(.*?)" data-rotation="(\d+)"', page)
    assert int(carried[2]) == wasmtext.rotation((small_dist / wasm_path).read_bytes())
    fetching = tmp_path / "fetching"
    shutil.copytree(small_dist, fetching)
    for suffix in (".gz", ".br"):
        (fetching / f"index.html{suffix}").unlink()
    (fetching / "index.html").write_text(page.replace(carried[0], 'id="inline-wasm" data-name=""'))  # not carried
    pixels = test_split.images[:300]
    inside, loaded_inside = _answers(browser, small_dist, doc["default"], pixels)
    fetched, loaded_fetched = _answers(browser, fetching, doc["default"], pixels)
    assert not any(f.endswith(wasm_path) for f in loaded_inside) and any(f.endswith(wasm_path) for f in loaded_fetched)
    assert inside["predictions"] == fetched["predictions"] and inside["scores"] == fetched["scores"]
    assert np.mean(np.array(inside["predictions"]) == test_split.labels[:300]) > 0.9
