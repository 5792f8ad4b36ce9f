"""Command-line options derived from the serving settings' one declaration (``gaudi_vl.settings``).

Each ``ServeSettings`` field becomes one option (two for a nullable switch: ``--x`` / ``--no-x``)
with its flag, type, bounds, choices and help; ``settings_from_args`` builds the settings object
back from the parsed namespace. Options are registered with ``argparse.SUPPRESS`` as their default,
so a namespace holds exactly the settings the user gave (``given_settings``): ``serve --plan`` uses
that to tell a conflicting flag from a default.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import Field
from typing import Any

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.settings import SERVE_FIELDS, ServeSettings, Spec, parse_text, spec_of

GROUP_TITLES = {
    "engine": "engine", "memory": "memory", "kubernetes": "kubernetes (--format k8s, helm-values)"
}


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


def _default_text(spec: Spec, default: Any) -> str:
    if spec.nullable or spec.kind is bool:
        return ""
    return f" (default: {default})"


def add_setting_arguments(
    parser: argparse.ArgumentParser, settings: Sequence[Field[Any]] = SERVE_FIELDS, dest_prefix: str = ""
) -> None:
    """One option per setting (the serving settings unless ``settings`` names another declaration,
    e.g. ``gaudi_vl.k8s.K8S_FIELDS``), grouped as the declaration says; ``dest_prefix`` keeps
    another declaration's names apart from the serving settings' in the namespace."""
    groups: dict[str, Any] = {}
    for f in settings:
        spec = spec_of(f)
        dest = dest_prefix + f.name
        group = groups.get(spec.group)
        if group is None:
            group = groups[spec.group] = parser.add_argument_group(GROUP_TITLES.get(spec.group, spec.group))
        if spec.kind is bool:
            if spec.negative_flag and not spec.nullable and f.default is True:
                group.add_argument(spec.negative_flag, dest=dest, action="store_false",
                                   default=argparse.SUPPRESS,
                                   help=f"turn off what is on by default: {spec.help}")
                continue
            group.add_argument(spec.flag, dest=dest, action="store_true", default=argparse.SUPPRESS,
                               help=spec.help)
            if spec.negative_flag:
                group.add_argument(spec.negative_flag, dest=dest, action="store_false",
                                   default=argparse.SUPPRESS, help=f"the opposite of {spec.flag}")
            continue
        group.add_argument(
            spec.flag, dest=dest, type=_arg_type(spec), default=argparse.SUPPRESS,
            metavar=spec.metavar or ("{" + ",".join(spec.choices) + "}" if spec.choices else None),
            help=spec.help + _default_text(spec, f.default),
        )


def given_settings(
    args: argparse.Namespace, settings: Sequence[Field[Any]] = SERVE_FIELDS, dest_prefix: str = ""
) -> dict[str, Any]:
    """The settings present on the command line, by field name."""
    given = {f.name: dest_prefix + f.name for f in settings}
    return {name: getattr(args, dest) for name, dest in given.items() if hasattr(args, dest)}


def settings_from_args(args: argparse.Namespace, base: ServeSettings | None = None) -> ServeSettings:
    """``base`` (default: all defaults) with the settings given on the command line."""
    values = (base or ServeSettings()).to_dict()
    values.update(given_settings(args))
    return ServeSettings(**values)
