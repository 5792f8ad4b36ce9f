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


def printable_lines(text: str) -> str:
    """Multi-line output with each line :func:`printable` (the line breaks themselves kept)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _ansi_c(char: str) -> str:
    """One character inside bash's ``$'...'``: the bytes it stands for, as ``\\xNN`` escapes."""
    if char in "\\'":
        return "\\" + char
    if not _UNPRINTABLE.match(char):
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a path (surrogateescape): that byte
        return f"\\x{code - 0xDC00:02x}"
    return "".join(f"\\x{b:02x}" for b in char.encode("utf-8", "surrogatepass"))


def shell_quote(text: str) -> str:
    """``text`` as one shell word that prints as one line and names exactly the same bytes.

    Printable text: ``shlex.quote``. Text with control characters (a newline, a terminal escape in a
    file name, an undecodable byte): bash's ANSI-C quoting ``$'...'`` with every such character
    written as ``\\xNN`` escapes of its bytes, so the script or command line on the terminal is
    inert and still names the file the user named (bash, zsh and ksh read ``$'...'``).
    """
    import shlex

    if not _UNPRINTABLE.search(text):
        return shlex.quote(text)
    return "$'" + "".join(_ansi_c(c) for c in text) + "'"


def shell_join(argv: list[str]) -> str:
    """A command line of :func:`shell_quote` words."""
    return " ".join(shell_quote(a) for a in argv)


class GaudiVLError(ValueError):
    """A problem with the user's input, with a hint that says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint on one line, as the CLI prints them (control characters escaped)."""
        return printable(f"{self.message}; {self.hint}" if self.hint else self.message)
