"""The page's modules joined into one: the same exports under the same names, and refusals for what it cannot join."""

import json
import subprocess

import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble.join import join
from edgeshrink.web.assemble.ortweb import default_app_dir


def _node(code: str, cwd) -> str:
    return subprocess.run(["node", "--input-type=module", "-e", code], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


def test_joined_modules_keep_their_bindings(tmp_path):
    (tmp_path / "a.js").write_text('export const A = 1;\nexport function twice(x) { return 2 * x; }\n')
    (tmp_path / "b.js").write_text('import { A, twice as double } from "./a.js";\n'
                                   'export class B { get v() { return double(A); } }\n')
    (tmp_path / "main.js").write_text('import { B } from "./b.js";\nimport * as a from "./a.js";\n'
                                      'const A = "the entry\'s own A";\n'
                                      'console.log(JSON.stringify([new B().v, a.twice(a.A), A]));\n')
    text, joined = join(tmp_path, "main.js")
    assert joined == ["a.js", "b.js"]  # dependencies first, each once
    (tmp_path / "out.mjs").write_text(text)
    assert json.loads(_node("await import('./out.mjs')", tmp_path)) == [2, 2, "the entry's own A"]


def test_the_page_joins_into_one_module_that_imports_no_sibling():
    text, joined = join(default_app_dir() / "js", "app.js")
    assert set(joined) == {"compiled.js", "draw.js", "runtime.js", "signature.js", "ui.js"}
    assert join(default_app_dir() / "js", "later.js")[1] == ["mnist.js"]  # after the first answer
    # the backend left a file of its own is found from the document: the joined code runs inside index.html
    assert 'from "./' not in text and 'import(new URL("js/backends/ort.js", document.baseURI).href)' in text


@pytest.mark.parametrize(("files", "message"), [
    ({"main.js": 'import { x } from "./gone.js";\n'}, "main.js imports ./gone.js, which is not in"),
    ({"main.js": 'import { x } from "./a.js";\n', "a.js": 'import { y } from "./main.js";\nexport const x = 1;\n'},
     "in a cycle: main.js -> a.js -> main.js"),
    ({"main.js": 'import { x } from "./a.js";\n', "a.js": "const x = 1;\nexport { x };\n"},
     "a.js has an export the bundle cannot join ('export { x };')"),
    ({"main.js": 'import x from "./a.js";\n', "a.js": "export const x = 1;\n"},
     "main.js has an import the bundle cannot join"),
])
def test_what_it_cannot_join_is_refused_by_name(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BundleError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        join(tmp_path, "main.js")
