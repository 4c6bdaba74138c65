"""The page's modules joined into one: the same exports under the same names, and refusals for what it cannot join."""

import json
import subprocess

import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble.join import _names, join
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


def test_modules_whose_names_do_not_meet_share_one_scope(tmp_path):
    (tmp_path / "a.js").write_text('export const A = 1;\nexport function twice(x) { return 2 * x; }\n'
                                   'const { floor, max: largest } = Math, [first, , third = 3] = [7, 8];\n')
    (tmp_path / "b.js").write_text('import { A, twice as double } from "./a.js";\n'
                                   'export class B { get v() { return double(A); } }\n')
    (tmp_path / "main.js").write_text('import { B } from "./b.js";\nimport * as a from "./a.js";\n'
                                      'const own = (...xs) => `${xs.map((x) => x.length)}`;\n'
                                      'console.log(JSON.stringify([new B().v, a.twice(a.A), own("ab", "c")]));\n')
    text, _ = join(tmp_path, "main.js")
    assert "__a_js" not in text and "const double = twice;" in text and "const a = { A, twice };" in text
    (tmp_path / "out.mjs").write_text(text)
    assert json.loads(_node("await import('./out.mjs')", tmp_path)) == [2, 2, "2,1"]


@pytest.mark.parametrize("main", [
    'import { A } from "./a.js";\nconst f = (floor) => floor + A;\nconsole.log(JSON.stringify([f(1), A]));\n',
    'import { A } from "./a.js";\nconst { third } = { third: A };\nconsole.log(JSON.stringify([third, A]));\n',
    'import { A } from "./a.js";\nconsole.log(JSON.stringify([`${typeof largest}`, A]));\n',
])
def test_a_name_one_module_declares_and_another_uses_keeps_each_in_its_scope(tmp_path, main):
    (tmp_path / "a.js").write_text('export const A = 1;\nconst { floor, max: largest } = Math, [first, , third] = [7];\n')
    (tmp_path / "main.js").write_text(main)
    text, _ = join(tmp_path, "main.js")
    assert "const __a_js = (() => {" in text  # a parameter, a declaration, a global: each means its own
    (tmp_path / "out.mjs").write_text(text)
    assert json.loads(_node("await import('./out.mjs')", tmp_path))[1] == 1


def test_names_declared_at_the_top_are_found_wherever_they_are_written():
    declared, used = _names('export const a = 1, b = f(x, y), { c, d: [e] } = g;\nfunction h() { const i = 1; }\n'
                            'async function j() {}\nclass K extends L {}\nconst m = `${n + o.p}`, q = /r/g;\n'
                            "for (const s of t) s(...u);\n")
    assert {"a", "b", "c", "e", "h", "j", "K", "m", "q"} <= declared and not {"i", "s", "x", "L", "n"} & declared
    assert {"f", "x", "y", "g", "L", "n", "o", "t", "u", "s"} <= used and "p" not in used and "r" not in used
    assert _names("var a = 1;\n") is None and _names("f(]") is None


def test_the_page_joins_into_one_module_that_imports_no_sibling():
    text, joined = join(default_app_dir() / "js", "app.js")
    assert set(joined) == {"compiled.js", "draw.js", "runtime.js", "signature.js", "ui.js"}
    assert "const __" not in text  # one scope: no module's names meet another's
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
