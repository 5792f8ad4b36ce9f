"""Edge: resolve ``--model`` to a ``ModelSpec`` from a built-in name or a local folder.

Reads ``config.json`` and ``preprocessor_config.json`` from a Hugging Face model folder on disk;
never contacts a hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.models import ModelSpec, builtin_model, model_spec_from_config


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GaudiVLError(f"cannot read {path}: {exc.strerror}", "check the path and permissions") from None
    except json.JSONDecodeError as exc:
        raise GaudiVLError(f"{path} is not valid JSON (line {exc.lineno})", "restore the file") from None
    if not isinstance(data, dict):
        raise GaudiVLError(f"{path} does not hold a JSON object", "restore the file")
    return data


def _processor_config(folder: Path) -> dict[str, Any] | None:
    """The image processor's settings: ``preprocessor_config.json`` (transformers 4 and most
    checkpoints) or the ``image_processor`` entry of ``processor_config.json`` (what transformers 5's
    ``ProcessorMixin.save_pretrained`` writes)."""
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        return _read_json(pre)
    combined = folder / "processor_config.json"
    if combined.is_file():
        image = _read_json(combined).get("image_processor")
        return image if isinstance(image, dict) else None
    return None


def load_model(name_or_path: str) -> ModelSpec:
    """A built-in model by name, or the model in a local folder (its path becomes ``hf_id``)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise GaudiVLError(
                f"model folder {path} has no config.json",
                "point --model at a Hugging Face model folder or use a built-in name",
            )
        preprocessor = _processor_config(path)
        return model_spec_from_config(
            _read_json(config), preprocessor, name=path.resolve().name, hf_id=str(path)
        )
    if path.exists():
        raise GaudiVLError(f"{path} is not a folder", "pass the model folder, not a file inside it")
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_like_path:
        raise GaudiVLError(f"model folder {name_or_path} does not exist", "check the path")
    return builtin_model(name_or_path)
