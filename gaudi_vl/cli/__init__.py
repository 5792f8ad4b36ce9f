"""The ``gaudi-vl`` command line: parse arguments, call the library, print. Nothing else.

Each sub-command lives in its own module with ``register(subparsers)``; a user mistake
(``GaudiVLError``) becomes one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from gaudi_vl import __version__
from gaudi_vl.errors import GaudiVLError

SUBCOMMANDS: tuple[str, ...] = ("plan", "align", "doctor", "serve")
"""Modules under ``gaudi_vl.cli`` that add a sub-command (missing ones are skipped)."""

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (what is wrong, where to look), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see {self.prog} --help\n")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is passed through untouched (e.g. extra engine flags for serve).
    passthrough: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.passthrough = passthrough
    try:
        return int(args.handler(args) or 0)
    except GaudiVLError as exc:
        print(f"gaudi-vl {args.command}: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
