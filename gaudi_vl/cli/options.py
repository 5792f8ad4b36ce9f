"""Command-line options derived from the serving settings' one declaration (``gaudi_vl.settings``).

Each ``ServeSettings`` field becomes one option (two for a nullable switch: ``--x`` / ``--no-x``)
with its flag, type, bounds, choices and help; ``settings_from_args`` builds the settings object
back from the parsed namespace. Options are registered with ``argparse.SUPPRESS`` as their default,
so a namespace holds exactly the settings the user gave (``given_settings``): ``serve --plan`` uses
that to tell a conflicting flag from a default.
"""

from __future__ import annotations

import argparse
from typing import Any

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.settings import DEFAULTS, SERVE_FIELDS, ServeSettings, Spec, parse_text, spec_of

GROUP_TITLES = {"engine": "engine", "memory": "memory"}


def setting_type(name: str) -> Any:
    """The argparse type of the serving setting ``name`` (its declared type and bounds), for commands
    that take the same value outside ``ServeSettings`` (e.g. ``doctor --tp``)."""
    return _arg_type(next(spec_of(f) for f in SERVE_FIELDS if f.name == name))


def _arg_type(spec: Spec) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse_text(spec, text)
        except GaudiVLError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    convert.__name__ = spec.describe_bounds()
    return convert


def _default_text(name: str, spec: Spec) -> str:
    if spec.nullable or spec.kind is bool:
        return ""
    return f" (default: {DEFAULTS[name]})"


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per serving setting, grouped as the declaration says."""
    groups: dict[str, Any] = {}
    for f in SERVE_FIELDS:
        spec = spec_of(f)
        group = groups.get(spec.group)
        if group is None:
            group = groups[spec.group] = parser.add_argument_group(GROUP_TITLES.get(spec.group, spec.group))
        if spec.kind is bool:
            if spec.negative_flag and not spec.nullable and f.default is True:
                group.add_argument(spec.negative_flag, dest=f.name, action="store_false",
                                   default=argparse.SUPPRESS,
                                   help=f"turn off what is on by default: {spec.help}")
                continue
            group.add_argument(spec.flag, dest=f.name, action="store_true", default=argparse.SUPPRESS,
                               help=spec.help)
            if spec.negative_flag:
                group.add_argument(spec.negative_flag, dest=f.name, action="store_false",
                                   default=argparse.SUPPRESS, help=f"the opposite of {spec.flag}")
            continue
        group.add_argument(
            spec.flag, dest=f.name, type=_arg_type(spec), default=argparse.SUPPRESS,
            metavar=spec.metavar or ("{" + ",".join(spec.choices) + "}" if spec.choices else None),
            help=spec.help + _default_text(f.name, spec),
        )


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings present on the command line, by field name."""
    return {f.name: getattr(args, f.name) for f in SERVE_FIELDS if hasattr(args, f.name)}


def settings_from_args(args: argparse.Namespace, base: ServeSettings | None = None) -> ServeSettings:
    """``base`` (default: all defaults) with the settings given on the command line."""
    values = (base or ServeSettings()).to_dict()
    values.update(given_settings(args))
    return ServeSettings(**values)
