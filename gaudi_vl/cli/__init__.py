"""The ``gaudi-vl`` command line: parse arguments, call the library, print. Nothing else.

Each sub-command lives in its own module with ``register(subparsers)``; a user mistake
(``GaudiVLError``) becomes one line on stderr and exit code 2, never a traceback. Control
characters in what is printed are escaped (``gaudi_vl.errors.printable``), so the line stays one.

``--``: only ``serve`` passes what follows it to another program (the engine). Every other command
leaves it to argparse, where it means "the rest are arguments, not options"
(``gaudi-vl boxes ... -- -10,-10,200,200``).

Output encoding: stdout writes undecodable bytes of a path back as the same bytes
(``surrogateescape``), so a script or an env file names the file the user named; stderr escapes them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from gaudi_vl import __version__
from gaudi_vl.errors import GaudiVLError, printable

SUBCOMMANDS: tuple[str, ...] = ("plan", "align", "doctor", "serve")
"""Modules under ``gaudi_vl.cli`` that add a sub-command (missing ones are skipped)."""
PASSTHROUGH_COMMANDS = frozenset({"serve"})
"""Sub-commands whose arguments after ``--`` go to another program untouched."""

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (what is wrong, where to look), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, printable(f"{self.prog}: error: {message}; see {self.prog} --help") + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="gaudi-vl",
        description=(
            "Plan, align and launch Qwen2.5-VL on Intel Gaudi (HPU) with vLLM: buckets, memory, "
            "environment and server command computed instead of tuned by trial and crash."
        ),
        epilog="Start with: gaudi-vl plan --min-pixels 401408",
    )
    parser.add_argument("--version", action="version", version=f"gaudi-vl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"gaudi_vl.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gaudi_vl.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """``(ours, passthrough)``: what follows the first ``--`` of a passthrough command."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in PASSTHROUGH_COMMANDS and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def _reconfigure_streams() -> None:
    for stream, errors in ((sys.stdout, "surrogateescape"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=errors)


def main(argv: Sequence[str] | None = None) -> int:
    _reconfigure_streams()
    parser = build_parser()
    ours, passthrough = _split_passthrough(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(ours)
    args.passthrough = passthrough
    try:
        return int(args.handler(args) or 0)
    except GaudiVLError as exc:
        print(f"gaudi-vl {args.command}: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeEncodeError as exc:
        print(
            f"gaudi-vl {args.command}: error: cannot print {printable(exc.object[exc.start:exc.end])!r} "
            f"in this terminal's encoding ({exc.encoding}); use a UTF-8 locale (LANG=C.UTF-8)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, and keep the interpreter's final flush of
        # stdout from reporting the same broken pipe again.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
