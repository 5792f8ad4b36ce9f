"""A small YAML emitter for the plain types of a manifest: dict, list, str, int, bool, None.

Pure, stdlib only (the planning core takes no YAML library). Block style for mappings and
sequences, so that an operator can read and edit the output; every scalar is written so that a
YAML 1.1 parser (PyYAML, which ``kubectl``'s sigs.k8s.io/yaml follows for these cases) and a
YAML 1.2 parser read back exactly the value given:

- a string is left plain only when it is a conservative identifier-like word (letters, digits and
  ``_ . / -``, starting with a letter or ``/``) that no YAML 1.1 resolver reads as a bool, null or
  number (``yes``, ``No``, ``on``, ``OFF``, ``y``, ``n``, ``~``, ``1e3``, ``0x1f``, ``.inf`` ...);
- every other string is double-quoted, with ``\\`` and ``"`` escaped and every character that is
  not printable in YAML (C0/C1 controls, DEL, U+2028/9, U+FEFF, surrogates) written as an escape:
  ``\\n``, ``\\xNN``, ``\\uNNNN`` (the YAML 1.1 spec's double-quoted escapes, 5.7);
- ints are decimal, bools ``true``/``false``, None ``null``. Floats are refused: Kubernetes
  manifests have none (quantities are strings), and refusing keeps "what you read is what was
  built" exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9_./-]*$")
"""Strings safe to leave unquoted in block context: no ``: ``, `` #``, flow indicators or quotes,
and no leading digit, sign or dot, so no YAML 1.1 number form (``1e3``, ``0x1f``, ``1_000``,
``1:20``, ``.inf``) can match."""

_YAML11_WORDS = frozenset(
    w
    for base in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
    for w in (base, base.capitalize(), base.upper())
)
"""YAML 1.1's bool and null words in the three spellings its resolver accepts."""

_UNPRINTABLE = re.compile(r"[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
"""What YAML's printable set excludes, plus the line breaks it treats specially inside scalars."""

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _quoted(text: str) -> str:
    return '"' + _UNPRINTABLE.sub(_escape, text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _plain_ok(text: str) -> bool:
    return bool(_PLAIN.fullmatch(text)) and text not in _YAML11_WORDS


def scalar(value: Any) -> str:
    """One scalar as YAML text that parses back to ``value`` (type included)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if _plain_ok(value) else _quoted(value)
    raise TypeError(f"yamlout writes str, int, bool and None scalars, not {type(value).__name__}")


def _lines(value: Any, indent: int) -> list[str]:
    """``value`` (a mapping or sequence) as block lines at ``indent`` spaces."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"yamlout writes string keys only, not {type(key).__name__}")
            head = f"{pad}{scalar(key)}:"
            if isinstance(item, Mapping | list | tuple) and item:
                out.append(head)
                # A sequence under a key sits at the key's indent + 2, its mappings at + 4.
                out += _lines(item, indent + 2)
            else:
                out.append(f"{head} {_empty_or_scalar(item)}")
        return out
    for item in value:
        if isinstance(item, Mapping | list | tuple) and item:
            inner = _lines(item, indent + 2)
            out.append(f"{pad}- {inner[0][indent + 2:]}")
            out += inner[1:]
        else:
            out.append(f"{pad}- {_empty_or_scalar(item)}")
    return out


def _empty_or_scalar(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return scalar(value)


def to_yaml(doc: Mapping[str, Any] | Sequence[Any]) -> str:
    """One document (a mapping or a sequence at the top) as block YAML, newline-terminated."""
    if not doc:
        return _empty_or_scalar(doc) + "\n"
    return "\n".join(_lines(doc, 0)) + "\n"


def yaml_stream(docs: Iterable[Mapping[str, Any]], comments: Sequence[str] = ()) -> str:
    """A multi-document stream (``---`` before each document), after ``#`` comment lines.

    Comment lines are one line each: a newline inside one would start a YAML line of its own.
    """
    for c in comments:
        if _UNPRINTABLE.search(c) or "\n" in c or "\r" in c:
            raise ValueError(f"a YAML comment line must be one printable line: {c!r}")
    head = "".join(f"# {c}\n" if c else "#\n" for c in comments)
    return head + "".join("---\n" + to_yaml(d) for d in docs)
