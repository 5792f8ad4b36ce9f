"""One exception type for user mistakes.

A ``GaudiVLError`` carries what is wrong and how to fix it; the CLI prints it as one line on
stderr and exits with code 2. Programming errors still raise their normal exceptions.
"""

from __future__ import annotations


class GaudiVLError(ValueError):
    """A problem with the user's input, with a hint that says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint on one line, as the CLI prints them."""
        return f"{self.message}; {self.hint}" if self.hint else self.message
