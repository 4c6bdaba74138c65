"""The page's own code and style without what only its readers need: comments and indentation.

Every byte of index.html comes before the first answer, and a third of the app's code was comments. Names
stay as written (brotli makes short names worth little) and a line break stays wherever JavaScript could put
an automatic semicolon (where the source had one), so the shipped code reads like the source and this
stays a lexer, not a compiler: strings, the text of template literals and regular expressions pass through
untouched (a template's ${...} parts are code, minified as such).
"""

from __future__ import annotations

import re

# a '/' after one of these (or at the start) begins a regular expression, elsewhere it divides
_BEFORE_REGEX = set("(,=:[!&|?{};+-*%<>~^") | {""}
_WORD = re.compile(r"[\w$]")
_WORDS_BEFORE_REGEX = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw"}


def js(text: str) -> str:
    """`text` without comments, indentation or blank lines."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c in "'\"":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif c == "`":
            end = _template_end(text, i)
            out.append(_template(text[i:end]))
            i = end
        elif c == "/" and _regex_may_start(out):
            end = _regex_end(text, i)
            out.append(text[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return _cut_blanks(out)


def _cut_blanks(pieces: list[str]) -> str:
    """The pieces joined, with the blanks that separate nothing cut from the code between the tokens (a piece
    of more than one character is a string, template or regular expression: it keeps its lines and spaces)."""
    text, code = [], []
    for piece in [*pieces, ""]:
        if len(piece) == 1:
            code.append(piece)
            continue
        before = "".join(text)[-1:]
        lines = _joined(re.sub(r"[ \t]*\n\s*", "\n", "".join(code)), before, piece[:1])
        text.append(_tight(lines, before, piece[:1]))
        code.clear()
        text.append(piece)
    return "".join(text).strip()


# A line break after one of these, or before one of the others, ends no statement: JavaScript's automatic
# semicolon never goes there (the tokens before want more; the ones after continue what came before, or end
# it themselves: `}`, `;`). `++`, `--` (which a break makes prefix), `/`, words and `)` `]` `}` before a break
# keep it, and a `.` joins only after a closing bracket (`1\n.5` is not `1.5`).
_JOINS_AFTER = set("{([;,=:?&|")
_JOINS_BEFORE = set("})];,:?")


def _joined(code: str, before: str, after: str) -> str:
    """`code` (between `before` and `after`) without the line breaks that mean nothing."""
    def newline(found: re.Match) -> str:
        left = code[found.start() - 1] if found.start() else before
        right = code[found.end()] if found.end() < len(code) else after
        joins = left in _JOINS_AFTER or right in _JOINS_BEFORE or (right == "." and left in ")]}")
        return "" if joins and left and right else "\n"

    return re.sub(r"\n", newline, code)


def _tight(code: str, before: str, after: str) -> str:
    """`code` (between `before` and `after`) without the spaces within its lines that separate nothing: a space
    stays between two word characters (`return x`) and where two tokens would merge (`a - -b`, `a / /re/`)."""
    def space(found: re.Match) -> str:
        left = code[found.start() - 1] if found.start() else before
        right = code[found.end()] if found.end() < len(code) else after
        word = _WORD.match(left) and _WORD.match(right)
        return " " if word or left + right in ("++", "--", "//") else ""

    return re.sub(r"[ \t]+", space, code)


def css(text: str) -> str:
    """`text` without comments and without the spaces around punctuation that mean nothing; a number's leading
    zero goes too (`0.5` is `.5`). Strings and url(...) stay as written."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    parts = re.split(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|url\([^)]*\))""", text)
    return "".join(part if i % 2 else _css_code(part) for i, part in enumerate(parts)).replace(";}", "}").strip()


def _css_code(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,>/])\s*", r"\1", text)  # a '/' only separates values (rgb(0 0 0 / .5), 1 / -1)
    text = re.sub(r":\s+", ":", text)  # after a colon only: before one, a space is a descendant selector
    return re.sub(r"(?<![\w.#-])0\.(\d)", r".\1", text)


def _string_end(text: str, i: int) -> int:
    quote, j = text[i], i + 1
    while text[j] != quote:
        if text[j] == "\n":
            raise ValueError(f"an unterminated string at offset {i}")
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _template(text: str) -> str:
    """A template literal as written, its ${...} expressions minified (they are code)."""
    out, j = [], 0
    while j < len(text):
        if text[j] == "\\":
            out.append(text[j:j + 2])
            j += 2
        elif text.startswith("${", j):
            end = _expression_end(text, j + 2)
            out.append("${" + js(text[j + 2:end - 1]) + "}")
            j = end
        else:
            out.append(text[j])
            j += 1
    return "".join(out)


def _template_end(text: str, i: int) -> int:
    """The end of the template literal at `i`, skipping its ${...} parts (strings and templates inside)."""
    j = i + 1
    while text[j] != "`":
        if text[j] == "\\":
            j += 2
        elif text.startswith("${", j):
            j = _expression_end(text, j + 2)
        else:
            j += 1
    return j + 1


def _expression_end(text: str, j: int) -> int:
    depth = 1
    while depth:
        c = text[j]
        if c in "'\"":
            j = _string_end(text, j)
            continue
        if c == "`":
            j = _template_end(text, j)
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        j += 1
    return j


def _regex_may_start(out: list[str]) -> bool:
    before = "".join(out[-12:]).rstrip()
    word = re.search(r"[\w$]+$", before)
    if word:
        return word.group() in _WORDS_BEFORE_REGEX
    return (before[-1:] if before else "") in _BEFORE_REGEX


def _regex_end(text: str, i: int) -> int:
    j, in_class = i + 1, False
    while in_class or text[j] != "/":
        if text[j] == "\n":
            raise ValueError(f"an unterminated regular expression at offset {i}")
        if text[j] == "\\":
            j += 1
        elif text[j] == "[":
            in_class = True
        elif text[j] == "]":
            in_class = False
        j += 1
    j += 1
    while j < len(text) and (text[j].isalpha()):
        j += 1
    return j
