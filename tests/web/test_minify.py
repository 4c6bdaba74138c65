"""The page's code and style without comments and indentation, and nothing else changed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from edgeshrink.web.assemble import join, minify
from edgeshrink.web.assemble.ortweb import default_app_dir

TRICKY = """// a comment
const a = "// not a comment", b = '/* nor this */';  // but this is
/** and this,
 * over lines */
const re = /\\/\\/[^/]*\\//g, half = 10 / 2 / 1;
const t = `line one
    keeps its indentation ${a ? `nested // ${b}` : "}"} /* text */`;
    if (a) { return re.test(t); }
"""


def test_comments_and_indentation_go_and_strings_templates_and_regexes_stay():
    out = minify.js(TRICKY)
    assert "comment" not in out.replace('"// not a comment"', "") and "and this" not in out
    assert '"// not a comment"' in out and "'/* nor this */'" in out
    assert "/\\/\\/[^/]*\\//g" in out and "half=10/2/1" in out
    assert "`line one\n    keeps its indentation ${a?`nested // ${b}`:\"}\"} /* text */`" in out
    assert "`;if(a){return re.test(t);}" in out


def test_spaces_stay_only_where_tokens_would_merge():
    out = minify.js("const x = a - -b + +c / /re/.source.length, y = typeof x === \"string\";\n")
    assert out == 'const x=a- -b+ +c/ /re/.source.length,y=typeof x==="string";'


def test_line_breaks_go_only_where_no_semicolon_could_be_inserted():
    source = """const f = (a,
  b) => {
  const x = a
  const y = b
    ? [a,
      b]
    : null;
  x
  ++y
  x++
  y--
  return f(x)
    .then(y)
}
const n = 1
.5
function g() {
  if (a) return
}
"""
    assert minify.js(source) == ("const f=(a,b)=>{const x=a\nconst y=b?[a,b]:null;x\n++y\nx++\ny--\n"
                                 "return f(x).then(y)}\nconst n=1\n.5\nfunction g(){if(a)return}")


def test_css_keeps_what_its_spaces_mean():
    out = minify.css("/* x */ .a .b:hover , .c > .d { color: red ; grid-template-areas: \"a b\"; }\n")
    assert out == '.a .b:hover,.c>.d{color:red;grid-template-areas:"a b"}'


def test_css_drops_leading_zeros_and_spaces_around_slashes_outside_strings_and_urls():
    out = minify.css('.a { opacity: 0.5; margin: -0.5em 10.05px; grid-column: 1 / -1; color: rgb(0 0 0 / 0.04); '
                     'content: "0.5 / 2"; background: url(x/0.5 /y.png) }')
    assert out == ('.a{opacity:.5;margin:-0.5em 10.05px;grid-column:1/-1;color:rgb(0 0 0/.04);'
                   'content:"0.5 / 2";background:url(x/0.5 /y.png)}')


@pytest.mark.skipif(shutil.which("node") is None, reason="Node checks the syntax")
def test_the_minified_app_is_valid_javascript(tmp_path):
    app = default_app_dir() / "js"
    for name, text in [("app.mjs", join.join(app, "app.js")[0]), ("later.mjs", join.join(app, "later.js")[0]),
                       ("formats.mjs", (app / "formats.js").read_text())]:
        (tmp_path / name).write_text(minify.js(text))
        check = subprocess.run(["node", "--check", str(tmp_path / name)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
