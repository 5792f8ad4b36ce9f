"""One exception type for user mistakes.

A ``GaudiVLError`` carries what is wrong and how to fix it; the CLI prints it as one line on
stderr and exits with code 2. Programming errors still raise their normal exceptions.

"One line" holds whatever the user typed: :func:`printable` escapes control characters (a newline
in a path, a terminal escape sequence) before a message is printed.
"""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\uffff\U00010000-\U0010ffff]")
"""C0/C1 control characters, DEL, the line and paragraph separators and lone surrogates
(undecodable bytes of a path): what may break a line, a terminal or a shell comment."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"  # every one is <= U+FFFF


def printable(text: str) -> str:
    """``text`` with every character that could break a line or a terminal escaped (``\\x0a``)."""
    return _UNPRINTABLE.sub(_escape, text)


class GaudiVLError(ValueError):
    """A problem with the user's input, with a hint that says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint on one line, as the CLI prints them (control characters escaped)."""
        return printable(f"{self.message}; {self.hint}" if self.hint else self.message)
