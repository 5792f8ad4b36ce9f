"""argparse value types shared by the sub-commands: each turns bad text into a one-line usage error."""

from __future__ import annotations

import argparse


def pixels(text: str) -> int:
    """A pixel count: ``401408``, ``401_408`` or a product such as ``1280*28*28``."""
    cleaned = text.replace("_", "").replace(" ", "")
    parts = cleaned.split("*")
    if not cleaned or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a pixel count (use a whole number such as 401408 or 1280*28*28)"
        )
    value = 1
    for p in parts:
        value *= int(p)
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be in (0, 1]")
    return value


def percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0.0 <= value <= 10000.0:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 10000 percent")
    return value
