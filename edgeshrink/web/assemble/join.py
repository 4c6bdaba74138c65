"""The page's ES modules joined into one file, so a first visit asks for the app's code once.

Each request costs a round trip on a phone's network, and a browser opens only six connections to a
host on HTTP/1.1: the app's six modules, its stylesheet, manifest and icon, and the model's runtime and
weights took two rounds before the first prediction could run.

The app's own modules follow a small convention, which `join` checks rather than assumes: static imports
are `import { a, b as c } from "./x.js";` or `import * as x from "./x.js";` of a sibling module, and
exports are declarations (`export function`, `export class`, `export const`). The modules follow each other
in dependency order in one scope when no name declared at the top of one is a name another uses other than as
its import (`hoisted`): an import then is the declaration itself, `import * as x` an object of x's exports.
Otherwise each imported module becomes a function scope that returns its exports, and the entry module keeps
its own top level. Dynamic `import()` (the backends) stays as it is: it resolves against the joined file,
which takes the entry's place in the same folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from edgeshrink.errors import BundleError

IMPORT = re.compile(r'^import\s+(?:\{(?P<names>[^}]*)\}|\*\s+as\s+(?P<star>[\w$]+))\s+'
                    r'from\s+"\./(?P<file>[\w.-]+\.js)";[ \t]*$', re.M)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+([\w$]+)", re.M)
OTHER_EXPORT = re.compile(r"^export\s+(?!(?:async\s+)?(?:function\*?|class|const|let)\s)", re.M)
OTHER_IMPORT = re.compile(r"^import\s", re.M)


def join(folder: Path, entry: str = "app.js") -> tuple[str, list[str]]:
    """The entry module with the modules it imports statically, as one module; and those modules' names."""
    texts: dict[str, str] = {}
    order: list[str] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise BundleError(f"the page's modules import each other in a cycle: {' -> '.join(chain + (name,))}")
        if name in order:
            return
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{chain[-1]} imports ./{name}, which is not in {folder}")
        texts[name] = path.read_text(encoding="utf-8")
        for found in IMPORT.finditer(texts[name]):
            visit(found["file"], chain + (name,))
        order.append(name)

    visit(entry, ())
    heading = f"// {entry} and the modules it imports ({', '.join(order[:-1])}), joined by edgeshrink bundle"
    for name in order:
        _check(name, IMPORT.sub("", texts[name]))
    one_scope = hoisted(texts, order)
    if one_scope is not None:
        return "\n".join([heading, *one_scope]), order[:-1]
    parts = [heading]
    for name in order:
        body = _check(name, IMPORT.sub(_binding, texts[name]))
        if name == entry:
            parts.append(body)
            continue
        exports = EXPORT.findall(body)
        body = re.sub(r"^export\s+", "", body, flags=re.M)
        parts.append(f"const {_scope(name)} = (() => {{\n{body}\nreturn {{ {', '.join(exports)} }};\n}})();")
    return "\n".join(parts), order[:-1]


def hoisted(texts: dict[str, str], order: list[str]) -> list[str] | None:
    """The modules' bodies in one scope (imports bound by their declarations, `export ` dropped), or None when
    a name declared at the top of one module is a name another uses other than as that import: it would then
    mean the other module's binding (or its own, or a global) no longer."""
    exports = {name: EXPORT.findall(texts[name]) for name in order}
    bodies, imported = {}, {}
    for name in order:
        imported[name] = {}  # name bound in this module -> the module it comes from

        def bind(found: re.Match, name=name) -> str:
            source = found["file"]
            if found["star"]:
                for export in exports[source]:
                    imported[name][export] = source
                return f"const {found['star']} = {{ {', '.join(exports[source])} }};"
            bound = []
            for item in (n.strip() for n in found["names"].split(",") if n.strip()):
                original, _, alias = (p.strip() for p in item.partition(" as "))
                imported[name][original] = source
                if alias and alias != original:
                    bound.append(f"const {alias} = {original};")
            return " ".join(bound)

        bodies[name] = re.sub(r"^export\s+", "", IMPORT.sub(bind, texts[name]), flags=re.M)
    scanned = {name: _names(bodies[name]) for name in order}
    if any(found is None for found in scanned.values()):
        return None
    for name in order:
        declared = scanned[name][0]
        for other in order:
            if other == name:
                continue
            used = scanned[other][1]
            if any(n in used and imported[other].get(n) != name for n in declared):
                return None
    return [bodies[name] for name in order]


_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_DECLARES = {"const", "let"}


def _names(code: str) -> tuple[set[str], set[str]] | None:
    """The names `code` declares at its top (or may: more, never fewer) and every name it uses anywhere (a word
    not after a '.', outside strings, template text, regular expressions and comments); None for code this
    cannot tell (a `var`, brackets that do not match)."""
    from edgeshrink.web.assemble import minify

    code = minify.js(code)
    declared, used = set(), set()
    depth, i, after_dot, brackets = 0, 0, False, []
    in_declaration = False  # after a top-level const or let, until its ';': a name after a ',' is declared
    pattern = 0  # the depth of a top-level declaration's destructuring pattern (0: none): its names are declared
    previous = ""  # the last word or punctuation
    while i < len(code):
        c = code[i]
        if c in "'\"":
            i, previous = minify._string_end(code, i), "string"
            continue
        if c == "`":
            end = minify._template_end(code, i)
            j = i + 1
            while j < end - 1:
                if code[j] == "\\":
                    j += 2
                elif code.startswith("${", j):
                    close = minify._expression_end(code, j + 2)
                    inner = _names(code[j + 2:close - 1])
                    if inner is None:
                        return None
                    used |= inner[0] | inner[1]
                    j = close
                else:
                    j += 1
            i, previous = end, "string"
            continue
        if c == "/" and minify._regex_may_start(list(code[max(0, i - 12):i])):
            i, previous = minify._regex_end(code, i), "regex"
            continue
        if code.startswith("...", i):
            i, after_dot, previous = i + 3, False, "..."
            continue
        word = _WORD.match(code, i)
        if word:
            w = word.group()
            if w == "var":
                return None
            if not after_dot:
                used.add(w)
                if pattern or depth == 0 and (previous in ("function", "class", "*") and w != "function"
                                              or in_declaration and previous in _DECLARES | {","}):
                    declared.add(w)
            if w in _DECLARES and depth == 0:
                in_declaration = True
            previous, after_dot, i = w, False, word.end()
            continue
        if c.isdigit():
            i += re.match(r"[\w.]+", code[i:]).end()
            previous, after_dot = "number", False
            continue
        if c in "([{":
            if depth == 0 and in_declaration and previous in _DECLARES | {","} and c in "[{":
                pattern = 1
            brackets.append(c)
            depth += 1
        elif c in ")]}":
            if not brackets or "([{"[")]}".index(c)] != brackets.pop():
                return None
            depth -= 1
            if depth == 0:
                pattern = 0
        elif c == ";" and depth == 0:
            in_declaration = False
        if not c.isspace():
            after_dot, previous = c == ".", c
        i += 1
    return (declared, used) if depth == 0 else None


def _binding(found: re.Match) -> str:
    if found["star"]:
        return f"const {found['star']} = {_scope(found['file'])};"
    names = [n.strip() for n in found["names"].split(",") if n.strip()]
    pairs = [": ".join(p.strip() for p in n.split(" as ")) if " as " in n else n for n in names]
    return f"const {{ {', '.join(pairs)} }} = {_scope(found['file'])};"


def _check(name: str, body: str) -> str:
    """What is left after the imports were bound must be plain declarations: anything else is refused."""
    for pattern, what in ((OTHER_IMPORT, "an import"), (OTHER_EXPORT, "an export")):
        found = pattern.search(body)
        if found:
            line = body[found.start():].splitlines()[0]
            raise BundleError(f"{name} has {what} the bundle cannot join ({line.strip()!r}); import siblings as "
                              f'`import {{ a }} from "./x.js";` and export declarations')
    return body


def _scope(file: str) -> str:
    return "__" + re.sub(r"\W", "_", file)
