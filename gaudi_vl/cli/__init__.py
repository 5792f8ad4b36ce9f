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
import errno
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn, TextIO

from gaudi_vl import __version__
from gaudi_vl.errors import GaudiVLError, printable

SUBCOMMANDS: tuple[str, ...] = ("plan", "align", "doctor", "serve")
"""Modules under ``gaudi_vl.cli`` that add a sub-command (missing ones are skipped)."""
PASSTHROUGH_COMMANDS = frozenset({"serve"})
"""Sub-commands whose arguments after ``--`` go to another program untouched."""

EXIT_USAGE = 2
EXIT_OUTPUT = 1
"""stdout could not be written (full disk, closed descriptor): a message on stderr, like coreutils."""
EXIT_BROKEN_PIPE = 128 + 13
"""The reader of stdout went away (``| head``): no message, exit 141 = 128 + SIGPIPE, what a shell
reports for ``cat`` or ``yes`` killed by SIGPIPE (``set -o pipefail`` sees the same as with them)."""


class OutputError(OSError):
    """Writing the command's output to stdout failed (``errno`` says why)."""


class GuardedStdout:
    """``sys.stdout`` whose write and flush failures are :class:`OutputError` (so they are told apart
    from other OS errors); ``None`` (descriptor 1 closed at start-up: ``>&-``) fails on first use
    with ``EBADF``. Everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._error: int | None = None
        """errno of a failed write, raised again by ``flush`` (argparse's ``--help`` swallows it)."""

    def _fail(self, exc: OSError | None = None) -> NoReturn:
        code = exc.errno if exc is not None and exc.errno else errno.EBADF
        self._error = code
        raise OutputError(code, os.strerror(code)) from None

    def write(self, text: str) -> int:
        if self._stream is None:
            self._fail()
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._fail(exc)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._error is not None:
            self._fail(OSError(self._error, os.strerror(self._error)))
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            self._fail(exc)

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def fileno(self) -> int:
        if self._stream is None:
            self._fail()
        return self._stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point descriptor 1 at /dev/null, so that the interpreter's final flush does not report the
    same failure again (as "Exception ignored ... BrokenPipeError")."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    inner = getattr(sys.stdout, "_stream", sys.stdout)
    if inner is not None:
        with contextlib.suppress(OSError, ValueError):
            inner.flush()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - what is left goes nowhere, quietly


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (what is wrong, where to look), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, printable(f"{self.prog}: error: {message}; see {self.prog} --help") + "\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``only``: register just that subcommand (``main`` passes the one named on the
    command line, so ``gaudi-vl doctor`` does not import the planner's stack: start-up on 2 busy cores)."""
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
        if only is not None and name != only:
            continue
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


def _guard_streams() -> None:
    if sys.stderr is None:  # 2>&-: messages go nowhere rather than raising
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if not isinstance(sys.stdout, GuardedStdout):
        sys.stdout = GuardedStdout(sys.stdout)  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    _guard_streams()
    _reconfigure_streams()
    ours, passthrough = _split_passthrough(list(sys.argv[1:] if argv is None else argv))
    named = next((a for a in ours if not a.startswith("-")), None)
    parser = build_parser(named if named in SUBCOMMANDS else None)
    try:
        args = parser.parse_args(ours)
    except SystemExit:  # --help, --version (argparse ignores write errors: flush to see them)
        try:
            sys.stdout.flush()
        except OutputError as exc:
            return _output_failed(exc, "")
        raise
    args.passthrough = passthrough
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a full disk shows here, inside the handler of errors
        return code
    except OutputError as exc:
        return _output_failed(exc, args.command)
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
    except KeyboardInterrupt:
        return 130


def _output_failed(exc: OSError, command: str) -> int:
    """stdout failed: quiet 141 for a reader that went away, else one line on stderr and exit 1."""
    _silence_stdout()
    if exc.errno == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    name = f"gaudi-vl {command}" if command else "gaudi-vl"
    why = "stdout is closed" if exc.errno == errno.EBADF else f"cannot write to stdout: {exc.strerror}"
    with contextlib.suppress(OSError, ValueError):
        print(f"{name}: error: {why}; write to a file with space left (or -o FILE)", file=sys.stderr)
    return EXIT_OUTPUT


if __name__ == "__main__":
    sys.exit(main())
