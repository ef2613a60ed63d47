"""Hardened YAML reading: bytes in, a small tree of positioned nodes out, or one clear problem.

PyYAML's own loaders build Python objects with last-one-wins duplicate keys, expand aliases
(billion laughs), honour arbitrary tags and recurse (Cython recursion on the C loader), so this
module drives the event stream of the fastest safe parser itself and builds the tree without
recursion, refusing anchors, aliases, unknown tags and duplicate keys as it goes.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import stat
from typing import Any, Union

import yaml

# libyaml's parser is about ten times faster than the pure-Python one (performance-notes.md).
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_T}{n}" for n in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCT = yaml.constructor.SafeConstructor()
_TAB_INDENT = re.compile(r"^[ ]*\t")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

PathPart = Union[str, int]


class YamlProblem(Exception):
    """Why a text is not acceptable YAML for planner, with where (path inside, line, column)."""

    def __init__(self, message: str, path: tuple[PathPart, ...] = (),
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(message)

    def located(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{self.message} ({where})"


class Node:
    """One YAML value with its place in the text; `value` is built, `raw` is the source text."""

    __slots__ = ("kind", "line", "column", "value", "raw", "quoted", "items")

    def __init__(self, kind: str, line: int, column: int, value: Any = None,
                 raw: str | None = None, quoted: bool = False) -> None:
        self.kind = kind  # "scalar" | "map" | "seq"
        self.line = line  # 1-based, like column
        self.column = column
        self.value = value  # scalar: str/int/float/bool/None/date/datetime
        self.raw = raw  # scalar text as written (e.g. "01234" for the integer 668)
        self.quoted = quoted
        self.items: list = []  # seq: [Node]; map: [(key Node, value Node)]

    def describe(self) -> str:
        """What the value is, for messages: "a mapping", "the integer 7", ..."""
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return describe_scalar(self.value)


def describe_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, datetime.datetime):
        return "a timestamp"
    if isinstance(value, datetime.date):
        return "a date"
    return "a string"


def quote(text: str, limit: int = 60) -> str:
    """A JSON-style quoted string that stays on one short visible line: control, format (bidi,
    zero-width) and line-separator characters are escaped; other non-ASCII text is kept."""
    if len(text) > limit:
        text = text[:limit] + "..."
    return printable(json.dumps(text, ensure_ascii=False))


def printable(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def format_path(parts: tuple[PathPart, ...] | list[PathPart]) -> str:
    """("contact", "contactIndividuals", 0, "value") -> "contact.contactIndividuals[0].value"."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif len(part) <= 60 and _NAME.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{quote(part)}]"
    # a path 32 levels deep is unreadable anyway: keep its two ends
    return text if len(text) <= 300 else f"{text[:140]}...{text[-140:]}"


def read_limited(path: str, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, refusing anything over `limit` before reading it (and while reading)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block, /dev/zero would never end
        raise YamlProblem("not a regular file")
    size = info.st_size
    if size > limit:
        raise YamlProblem(f"file is too large ({size:,} bytes; the limit is {limit:,})")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise YamlProblem(f"file is too large (over {limit:,} bytes)")
    return data


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is tolerated), refusing binary content with a position."""
    if len(data) > MAX_BYTES:
        raise YamlProblem(f"file is too large ({len(data):,} bytes; the limit is {MAX_BYTES:,})")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlProblem("UTF-16 text; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise YamlProblem("binary content (a NUL byte), not YAML text", (),
                          data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}",
                          (), line) from None


def _tag_name(tag: str) -> str:
    name = "!!" + tag[len(_T):] if tag.startswith(_T) else tag
    return printable(name if len(name) <= 60 else name[:60] + "...")


_STR = f"{_T}str"


def _scalar(event: Any, loader: Any) -> Node:
    """A scalar Node; raises YamlProblem without a path (the caller knows the place)."""
    line, col, text = event.start_mark.line + 1, event.start_mark.column + 1, event.value
    tag = event.tag
    if tag is None:
        tag = loader.resolve(yaml.ScalarNode, text, event.implicit)
    elif tag == "!":
        tag = _STR
    # The common cases without building a yaml node (the file is mostly plain strings).
    if tag == _STR:
        return Node("scalar", line, col, value=text, raw=text, quoted=bool(event.style))
    if tag == f"{_T}merge":
        raise YamlProblem("merge keys (<<) are not supported", (), line, col)
    if tag == f"{_T}value":
        return Node("scalar", line, col, value=text, raw=text, quoted=bool(event.style))
    if tag not in _SCALAR_TAGS:
        raise YamlProblem(f"YAML tag {_tag_name(tag)} is not allowed", (), line, col)
    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
    kind = tag[len(_T):]
    try:
        value = getattr(_CONSTRUCT, f"construct_yaml_{kind}")(node)
    except (ValueError, KeyError, TypeError, OverflowError, IndexError, yaml.YAMLError):
        if kind != "timestamp":
            raise YamlProblem(f"invalid !!{kind} value {quote(text, 40)}", (), line,
                              col) from None
        value = text  # 2026-02-30: kept as text; a date field reports it as invalid
    return Node("scalar", line, col, value=value, raw=text, quoted=bool(event.style))


def _syntax_problem(exc: yaml.YAMLError, text: str, path: tuple[PathPart, ...]) -> YamlProblem:
    lines = text.splitlines()
    if isinstance(exc, yaml.reader.ReaderError):
        pos = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, pos) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return YamlProblem(f"invalid YAML: unacceptable character {char}", path, line)
    mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    for m in (mark, context_mark):
        if m is not None and 0 <= m.line < len(lines) and _TAB_INDENT.match(lines[m.line]):
            return YamlProblem("a tab is used for indentation; YAML indents with spaces only",
                               path, m.line + 1)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "maximum nesting depth" in problem and mark is not None:  # libyaml's own limit (1000)
        return YamlProblem(f"nested deeper than {MAX_DEPTH} levels", path, mark.line + 1,
                           mark.column + 1)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {context}, {problem}" if context else f"invalid YAML: {problem}"
    if mark is None:
        return YamlProblem(message, path)
    return YamlProblem(message, path, mark.line + 1, mark.column + 1)


def compose(text: str) -> Node | None:
    """The single document of `text` as a Node tree (None when there is no document)."""
    try:
        loader = LOADER(text)  # the pure-Python reader already checks characters here
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text, ()) from None
    # Each open collection: [node, path, pending key node or None, {key marker: line}]
    stack: list[list[Any]] = []
    root: Node | None = None
    documents = 0
    try:
        while True:
            try:
                if not loader.check_event():
                    break
                event = loader.get_event()
            except yaml.YAMLError as exc:
                raise _syntax_problem(exc, text, stack[-1][1] if stack else ()) from None
            try:
                kind = type(event)
                if kind is yaml.ScalarEvent:
                    if event.anchor is not None:
                        _refuse_anchor(event)
                    root = _attach(stack, _scalar(event, loader), root)
                elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                    root = _attach(stack, stack.pop()[0], root)
                elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                    stack.append(_open(event, stack))
                elif kind is yaml.AliasEvent:
                    raise YamlProblem(f"aliases (*{event.anchor}) are not supported; write "
                                      "the value out", (), *_position(event))
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise YamlProblem("more than one YAML document (---); use one file "
                                          "per contact", (), event.start_mark.line + 1)
            except YamlProblem as problem:
                if not problem.path and stack:
                    problem.path = stack[-1][1] + _child(stack[-1])
                raise
    finally:
        loader.dispose()
    return root


def _position(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _refuse_anchor(event: Any) -> None:
    raise YamlProblem(f"anchors (&{event.anchor}) are not supported", (), *_position(event))


def _open(event: Any, stack: list[list[Any]]) -> list[Any]:
    """The stack frame of a mapping or sequence that starts at `event`."""
    if event.anchor is not None:
        _refuse_anchor(event)
    is_map = isinstance(event, yaml.MappingStartEvent)
    if event.tag not in (None, "!", f"{_T}map" if is_map else f"{_T}seq"):
        raise YamlProblem(f"YAML tag {_tag_name(event.tag)} is not allowed", (),
                          *_position(event))
    if len(stack) >= MAX_DEPTH:
        raise YamlProblem(f"nested deeper than {MAX_DEPTH} levels", (), *_position(event))
    node = Node("map" if is_map else "seq", *_position(event))
    if stack and stack[-1][0].kind == "map" and stack[-1][2] is None:
        raise YamlProblem(f"mapping keys must be plain strings, not {node.describe()}",
                          stack[-1][1], *_position(event))
    return [node, stack[-1][1] + _child(stack[-1]) if stack else (), None, {}]


def _child(frame: list[Any]) -> tuple[PathPart, ...]:
    node, _, key, _ = frame
    if node.kind == "seq":
        return (len(node.items),)
    if key is None:
        return ()
    return (key.value if isinstance(key.value, str) else str(key.raw),)


def _attach(stack: list[list[Any]], node: Node, root: Node | None) -> Node | None:
    if not stack:
        return node
    frame = stack[-1]
    parent = frame[0]
    if parent.kind == "seq":
        parent.items.append(node)
    elif frame[2] is None:  # a key
        marker = (type(node.value).__name__, node.value)
        seen = frame[3]
        if marker in seen:
            raise YamlProblem(f"duplicate key {quote(str(node.raw))}, "
                              f"first given at line {seen[marker]}; give each key once",
                              frame[1] + (str(node.value),), node.line, node.column)
        seen[marker] = node.line
        frame[2] = node
    else:
        parent.items.append((frame[2], node))
        frame[2] = None
    return root


def to_python(node: Node | None) -> Any:
    """Plain Python data of a tree (for tests and schema checks); iterative, no aliasing."""
    if node is None:
        return None
    out: dict[int, Any] = {}
    order: list[Node] = []
    todo = [node]
    while todo:
        current = todo.pop()
        order.append(current)
        if current.kind == "seq":
            todo.extend(current.items)
        elif current.kind == "map":
            todo.extend(v for _, v in current.items)
    for current in reversed(order):
        if current.kind == "scalar":
            out[id(current)] = current.value
        elif current.kind == "seq":
            out[id(current)] = [out[id(i)] for i in current.items]
        else:
            out[id(current)] = {k.value: out[id(v)] for k, v in current.items}
    return out[id(node)]
