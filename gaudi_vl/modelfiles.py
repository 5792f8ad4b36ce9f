"""Edge: resolve ``--model`` to a ``ModelSpec`` from a built-in name or a local folder.

Reads ``config.json`` and ``preprocessor_config.json`` from a Hugging Face model folder on disk;
never contacts a hub. Each file is read strictly (``gaudi_vl.fileio.read_json_file``: a regular
file of at most 16 MiB, UTF-8, valid JSON without NaN, bounded nesting); its values are typed by
``gaudi_vl.models.model_spec_from_config``. Every problem is one line naming the file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.fileio import read_json_file
from gaudi_vl.models import ModelSpec, builtin_model, model_spec_from_config


def _read_json(path: Path) -> dict[str, Any]:
    data = read_json_file(path, "model file")
    if not isinstance(data, dict):
        raise GaudiVLError(f"{path} does not hold a JSON object", "restore the file")
    return data


def _processor_config(folder: Path) -> tuple[dict[str, Any] | None, str]:
    """The image processor's settings and where they come from: ``preprocessor_config.json``
    (transformers 4 and most checkpoints) or the ``image_processor`` entry of
    ``processor_config.json`` (what transformers 5's ``ProcessorMixin.save_pretrained`` writes)."""
    pre = folder / "preprocessor_config.json"
    if pre.exists():
        return _read_json(pre), "preprocessor_config.json"
    combined = folder / "processor_config.json"
    if combined.exists():
        image = _read_json(combined).get("image_processor")
        if image is not None and not isinstance(image, dict):
            raise GaudiVLError(
                f"{combined}: image_processor must be a JSON object, got {type(image).__name__}",
                "restore the file",
            )
        return image, "processor_config.json image_processor"
    return None, "preprocessor_config.json"


def load_model(name_or_path: str) -> ModelSpec:
    """A built-in model by name, or the model in a local folder (its path becomes ``hf_id``)."""
    if "\0" in name_or_path:
        raise GaudiVLError(f"model {name_or_path!r} holds a NUL byte", "pass a folder or a built-in name")
    path = Path(name_or_path)
    with contextlib.suppress(RuntimeError):  # "~user" of an unknown user: a literal path, then
        path = path.expanduser()
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError as exc:  # a name too long, permission denied on a parent
        raise GaudiVLError(f"cannot read model folder {path}: {exc.strerror}", "check the path") from None
    if is_dir:
        config = path / "config.json"
        if not config.exists():
            raise GaudiVLError(
                f"model folder {path} has no config.json",
                "point --model at a Hugging Face model folder or use a built-in name",
            )
        preprocessor, source = _processor_config(path)
        return model_spec_from_config(
            _read_json(config), preprocessor, name=path.resolve().name, hf_id=str(path),
            preprocessor_source=source,
        )
    if exists:
        raise GaudiVLError(f"{path} is not a folder", "pass the model folder, not a file inside it")
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_like_path:
        raise GaudiVLError(f"model folder {name_or_path} does not exist", "check the path")
    return builtin_model(name_or_path)
