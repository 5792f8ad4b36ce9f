"""``gaudi-vl align`` (112-align image files) and ``gaudi-vl boxes`` (map boxes with the sidecar).

Why: aligning images once, before they reach the engine, gives Gaudi 112-multiple images with the
stock processor (no patched transformers), and the sidecar lets grounding answers, given in the
aligned image's pixels, be mapped back to the originals.

Output rules (``align``):

* Inputs are files and directories; directories are walked recursively for files with an image
  extension Pillow knows (hidden files and the ``--out`` folder are skipped). A named file is
  always tried, whatever its extension.
* Each image is written under ``--out`` with its path relative to the directory it was found in
  (or its bare name for a named file). JPEG sources stay JPEG (quality 95, their ``.jpg``-type
  suffix kept); every other format becomes PNG (lossless) with a ``.png`` suffix. EXIF is not
  copied: the orientation is already applied to the pixels (:mod:`gaudi_vl.align`); the ICC
  profile is kept.
* Inputs are never overwritten: ``--out`` may not be an input directory, and a run whose outputs
  could land on an input file is refused before anything is written (exit 2). A file already in
  ``--out`` is replaced only if the sidecar lists it as an earlier output; any other existing file
  is left alone and reported as a failure of the input that would have replaced it.
* Every file is written to a temporary file in its folder and moved into place with
  ``os.replace``: a crash leaves the old file or the new one, never half of one. The sidecar
  ``transforms.json`` (one per ``--out``; entries of earlier runs into the same folder are kept,
  same names replaced) is written the same way, once at the end, also when interrupted.
* Interrupted by SIGINT, SIGTERM or SIGHUP, align finishes the image being written, writes the
  sidecar for the images done and exits with ``128 + N``; a second signal abandons the image being
  written at once (its temporary file is removed) and still writes the sidecar. Running the same
  command again continues: the earlier outputs are in the sidecar, so they may be replaced. (After
  SIGKILL, which no program can catch, the images of that run are not in the sidecar: move them
  away before the rerun.)
* Outputs stay inside ``--out``: an output folder that is a symbolic link leading elsewhere is a
  failure of that input, and so is an existing output that is not a regular file
  (``gaudi_vl.fileio``). Symbolic link loops among the inputs are failures of those inputs.
* A bad input (missing, unreadable, not an image, corrupt, truncated, empty, too large, too wide)
  is reported as one line ``gaudi-vl align: PATH: what; hint`` on stderr and the batch goes on.
  Exit status: 0 all aligned, 1 some input failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaudi_vl.align import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    MODES,
    AlignTransform,
    align_image,
    load_image,
)
from gaudi_vl.cli import OutputError
from gaudi_vl.cli.argtypes import pixels
from gaudi_vl.errors import GaudiVLError, printable
from gaudi_vl.fileio import atomic_writer, read_json_file
from gaudi_vl.geometry import WINDOW_PX, PixelRange

SIDECAR = "transforms.json"
SIDECAR_VERSION = 1
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
JPEG_QUALITY = 95
EXIT_FAILED = 1
INTERRUPTING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MAX_STDIN_BYTES = 16 << 20
"""16 MiB of boxes JSON on stdin at most (about 400,000 boxes)."""


def _real(path: Path) -> Path:
    """``os.path.realpath``: unlike ``Path.resolve`` on Python < 3.13 it does not raise on a
    symbolic link loop (the loop is then reported by the input that holds it)."""
    return Path(os.path.realpath(path))


class Interrupted(BaseException):
    """A second signal: stop now, whatever is being done (``finally`` blocks still run)."""


class _Signals:
    """SIGINT/SIGTERM/SIGHUP while aligning: the first one asks the batch to stop after the image
    being written (checked between images, so no write is cut in half); a second one stops at once
    (:class:`Interrupted`); once the sidecar is being written, further signals are ignored."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.cleaning = False
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, _frame: Any) -> None:
        if self.first is None:
            self.first = signum
        elif not self.cleaning:
            self.cleaning = True
            raise Interrupted(signum)

    def __enter__(self) -> _Signals:
        self._previous = {s: signal.signal(s, self._handler) for s in INTERRUPTING}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)


@dataclass(frozen=True)
class _Input:
    path: Path
    rel: Path
    """Output path relative to ``--out``, before the suffix is chosen."""


def _image_suffixes() -> frozenset[str]:
    from PIL import Image

    return frozenset(ext.lower() for ext in Image.registered_extensions())


def _collect(sources: list[str], out_dir: Path, report: Callable[[str, str], None]) -> list[_Input]:
    suffixes = _image_suffixes()
    found: list[_Input] = []
    out_resolved = _real(out_dir)

    def walk_error(exc: OSError) -> None:
        report(str(exc.filename), f"cannot read directory ({exc.strerror})")

    for source in sources:
        path = Path(source)
        if path.is_dir():
            before = len(found)
            for root, dirs, files in os.walk(path, onerror=walk_error):
                root_path = Path(root)
                dirs[:] = sorted(
                    d for d in dirs if not d.startswith(".") and _real(root_path / d) != out_resolved
                )
                for name in sorted(files):
                    file = root_path / name
                    if name.startswith(".") or file.suffix.lower() not in suffixes:
                        continue
                    found.append(_Input(file, file.relative_to(path)))
            if len(found) == before:
                report(source, "no image files found in this directory")
        elif path.exists() or path.is_symlink():
            found.append(_Input(path, Path(path.name)))
        else:
            report(source, "no such file or directory")
    return found


def _output_name(rel: Path, source_format: str | None) -> Path:
    if source_format == "JPEG":
        return rel if rel.suffix.lower() in JPEG_SUFFIXES else rel.with_suffix(".jpg")
    return rel.with_suffix(".png")


def _candidate_outputs(rel: Path) -> set[Path]:
    return {rel, rel.with_suffix(".png"), rel.with_suffix(".jpg")}


def _check_no_overwrite(sources: list[str], inputs: list[_Input], out_dir: Path) -> None:
    out_resolved = _real(out_dir)
    for source in sources:
        if Path(source).is_dir() and _real(Path(source)) == out_resolved:
            raise GaudiVLError(
                f"--out {out_dir} is an input directory: the aligned images would overwrite the originals",
                "pass another --out folder",
            )
    input_files = {_real(item.path) for item in inputs}
    for item in inputs:
        for candidate in _candidate_outputs(item.rel):
            if _real(out_resolved / candidate) in input_files:
                raise GaudiVLError(
                    f"--out {out_dir} would overwrite the input {item.path}",
                    "pass an --out folder that holds no input image",
                )


def _save_image(
    item: _Input, out_dir: Path, args: argparse.Namespace, taken: dict[str, Path], ours: set[str]
) -> tuple[Path, dict[str, Any]]:
    loaded = load_image(item.path)
    aligned = align_image(
        loaded.image, min_pixels=args.min_pixels, max_pixels=args.max_pixels, mode=args.mode
    )
    name = _output_name(item.rel, loaded.source_format)
    if name.as_posix() in taken:
        raise GaudiVLError(
            f"its output {name.as_posix()} is already taken by {taken[name.as_posix()]}",
            "align files with the same name in separate runs",
        )
    if not _real((out_dir / name).parent).is_relative_to(_real(out_dir)):
        raise GaudiVLError(
            f"its output folder {(out_dir / name).parent} leads outside --out {out_dir} (a symbolic link)",
            "remove the link or pick another --out folder",
        )
    if name.as_posix() not in ours and os.path.lexists(out_dir / name):
        raise GaudiVLError(
            f"{out_dir / name} exists and was not written by gaudi-vl align (not in {SIDECAR})",
            "move it away or pick another --out folder",
        )
    options: dict[str, Any] = {}
    icc = loaded.image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
    if loaded.source_format == "JPEG":
        options.update(format="JPEG", quality=JPEG_QUALITY)
    else:
        options.update(format="PNG")
    with atomic_writer(out_dir / name) as handle:
        aligned.image.save(handle, **options)
    taken[name.as_posix()] = item.path
    record = aligned.transform.to_dict()
    record.update(
        source=str(item.path),
        output=name.as_posix(),
        source_format=loaded.source_format,
        source_mode=loaded.source_mode,
        exif_rotated=loaded.exif_rotated,
    )
    return name, record


def _read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar's image table; empty when there is none or it cannot be read."""
    if not os.path.lexists(path):
        return {}
    try:
        data = read_json_file(path, "sidecar")
    except GaudiVLError:
        return {}
    images = data.get("images") if isinstance(data, dict) else None
    return dict(images) if isinstance(images, dict) else {}


def _write_sidecar(out_dir: Path, records: dict[str, dict[str, Any]]) -> Path:
    path = out_dir / SIDECAR
    merged = _read_sidecar(path)
    merged.update(records)
    doc = {
        "version": SIDECAR_VERSION,
        "tool": "gaudi-vl align",
        "factor": WINDOW_PX,
        "images": dict(sorted(merged.items())),
    }
    with atomic_writer(path, "w") as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")
    return path


def _error_line(command: str, where: str, message: str) -> str:
    if message.startswith(f"{where}: "):
        message = message[len(where) + 2 :]
    return printable(f"gaudi-vl {command}: {where}: {message}")


def run_align(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    PixelRange(min_pixels=args.min_pixels, max_pixels=args.max_pixels)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise GaudiVLError(f"--out {out_dir} is a file", "pass a folder (it is created if missing)")
    failures: list[dict[str, str]] = []
    bar: Any = None
    held: list[str] | None = []  # lines of inputs found bad while collecting: shown once the run goes on

    def report(where: str, message: str) -> None:
        failures.append({"path": where, "error": message})
        line = _error_line("align", where, message)
        if held is not None:
            held.append(line)
        elif bar is not None:
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    records: dict[str, dict[str, Any]] = {}
    sidecar: Path | None = None
    text = args.format == "text"
    with _Signals() as signals:
        inputs = _collect(args.inputs, out_dir, report)
        _check_no_overwrite(args.inputs, inputs, out_dir)  # a usage error: one line, nothing else
        for line in held:
            print(line, file=sys.stderr)
        held = None
        taken: dict[str, Path] = {}
        ours = set(_read_sidecar(out_dir / SIDECAR))
        bar = tqdm(
            total=len(inputs), file=sys.stderr, disable=not sys.stderr.isatty(), unit="image", desc="align"
        )
        try:
            for item in inputs:
                if signals.first is not None:
                    break
                try:
                    name, record = _save_image(item, out_dir, args, taken, ours)
                    records[name.as_posix()] = record
                    if text:
                        bar.write(printable(_describe(item.path, out_dir / name, record)), file=sys.stdout)
                except GaudiVLError as exc:
                    report(str(item.path), exc.one_line())
                except (BrokenPipeError, OutputError):
                    raise  # our stdout failed (| head, a full disk): stop, the sidecar is still written
                except OSError as exc:
                    report(str(item.path), f"cannot write the output ({exc.strerror or exc})")
                finally:
                    bar.update(1)
        except Interrupted:
            pass  # the second signal: signals.first says which one came first
        finally:
            signals.cleaning = True
            bar.close()
            sidecar = _write_sidecar(out_dir, records) if records else None
    if text:
        summary = f"aligned {len(records)} of {len(inputs)} images into {out_dir}"
        if sidecar is not None:
            summary += f"; transforms in {sidecar}"
        if failures:
            summary += f"; {len(failures)} failed (see stderr)"
        print(printable(summary))
    else:
        doc = {
            "out": str(out_dir),
            "transforms": str(sidecar) if sidecar else None,
            "images": list(records.values()),
            "failed": failures,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    if signals.first is not None:
        name = signal.Signals(signals.first).name
        print(printable(f"gaudi-vl align: interrupted by {name} after {len(records)} of {len(inputs)} "
                        "images; run the same command again to continue"), file=sys.stderr)
        return 128 + signals.first
    return EXIT_FAILED if failures else 0


def _describe(source: Path, target: Path, r: dict[str, Any]) -> str:
    (w, h), (aw, ah), (gh, gw) = r["original_size"], r["aligned_size"], r["grid"]
    return f"{source} -> {target}: {w}x{h} -> {aw}x{ah} ({r['mode']}), grid {gh}x{gw}, {r['patches']} patches"


def _parse_box(text: str) -> list[float]:
    parts = text.replace(" ", "").split(",")
    try:
        box = [float(p) for p in parts]
    except ValueError:
        box = []
    if len(box) != 4:
        raise GaudiVLError(
            f"{text!r} is not a box", "write boxes as x1,y1,x2,y2 (use -- before negative values)"
        )
    return box


def _boxes_from_stdin() -> list[list[float]]:
    raw = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(raw) > MAX_STDIN_BYTES:
        raise GaudiVLError(f"stdin holds over {MAX_STDIN_BYTES:,} bytes", "map fewer boxes per call")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise GaudiVLError(
            f"stdin is not JSON ({detail})", "pipe [[x1, y1, x2, y2], ...] or give boxes as arguments"
        ) from None
    if isinstance(data, dict) and "boxes" in data:
        data = data["boxes"]
    if isinstance(data, list) and len(data) == 4 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in data
    ):
        data = [data]
    ok = isinstance(data, list) and all(
        isinstance(b, list)
        and len(b) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
        for b in data
    )
    if not ok:
        raise GaudiVLError(
            "stdin must hold a JSON list of [x1, y1, x2, y2] boxes", "e.g. [[10, 20, 110, 220]]"
        )
    try:
        return [[float(v) for v in b] for b in data]
    except OverflowError:
        raise GaudiVLError("a box coordinate is too large", "pass pixel coordinates of the image") from None


def find_transform(sidecar: Path, name: str) -> tuple[str, AlignTransform]:
    """The sidecar entry for ``name``: an output name, a source path, or a unique file name."""
    doc = read_json_file(sidecar, "sidecar")
    images = doc.get("images") if isinstance(doc, dict) else None
    if not isinstance(images, dict):
        raise GaudiVLError(
            f"{sidecar} has no 'images' table", "pass the transforms.json that gaudi-vl align wrote"
        )
    if name in images:
        return name, AlignTransform.from_dict(images[name], f"{sidecar} images[{name!r}]")
    matches = [
        key
        for key, rec in images.items()
        if isinstance(rec, dict)
        and name in (rec.get("source"), Path(str(rec.get("source", ""))).name, Path(key).name)
    ]
    if len(matches) == 1:
        return matches[0], AlignTransform.from_dict(images[matches[0]], f"{sidecar} images[{matches[0]!r}]")
    if matches:
        raise GaudiVLError(
            f"{name!r} matches several images: {', '.join(sorted(matches))}", "pass one of those names"
        )
    known = ", ".join(sorted(images)[:5]) + (", ..." if len(images) > 5 else "")
    raise GaudiVLError(f"no image {name!r} in {sidecar}", f"known names: {known or 'none'}")


def _fmt(v: float) -> str:
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def run_boxes(args: argparse.Namespace) -> int:
    key, transform = find_transform(Path(args.transforms), args.image)
    boxes = [_parse_box(b) for b in args.boxes] if args.boxes else _boxes_from_stdin()
    if args.to_original:
        mapped = transform.to_original(boxes, clip=args.clip) if boxes else []
    else:
        mapped = transform.to_aligned(boxes, clip=args.clip) if boxes else []
    if args.format == "json":
        doc = {"image": key, "to": "original" if args.to_original else "aligned", "boxes": mapped}
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        for box in mapped:
            print(",".join(_fmt(v) for v in box))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "align",
        help="resize images to 112-pixel multiples for Gaudi, with a box-mapping sidecar",
        description=(
            "Write 112-aligned copies of images (transformers' smart_resize rule with factor 112) into "
            "--out, plus transforms.json with each image's transform for mapping boxes back. EXIF "
            "orientation is applied; JPEG stays JPEG (quality 95), everything else becomes PNG; inputs are "
            "never overwritten and every write is atomic."
        ),
        epilog="Example: gaudi-vl align photos/ --out aligned/ --mode pad. Exit: 0 ok, 1 some files failed, "
        "2 usage error.",
    )
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="resize",
        help="resize: stretch each axis to the aligned size (like the stock processor); pad: keep the aspect "
        "ratio and letterbox with black bars (default: %(default)s)",
    )
    p.add_argument(
        "--min-pixels",
        type=pixels,
        default=DEFAULT_MIN_PIXELS,
        metavar="N",
        help="processor min_pixels (default: %(default)s, the Qwen2.5-VL checkpoints')",
    )
    p.add_argument(
        "--max-pixels",
        type=pixels,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="processor max_pixels (default: %(default)s, the Qwen2.5-VL checkpoints')",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=run_align)

    b = sub.add_parser(
        "boxes",
        help="map [x1,y1,x2,y2] boxes between aligned and original images",
        description=(
            "Map boxes with the transforms.json written by gaudi-vl align: --to-original for boxes the model "
            "answered on the aligned image, --to-aligned for ground truth on the original. Boxes come as "
            "arguments x1,y1,x2,y2 or, without arguments, as JSON on stdin ([[x1,y1,x2,y2], ...])."
        ),
        epilog="Example: gaudi-vl boxes --transforms aligned/transforms.json --image cat.png --to-original "
        "10,20,110,220",
    )
    b.add_argument("boxes", nargs="*", metavar="x1,y1,x2,y2")
    b.add_argument("--transforms", required=True, metavar="FILE", help="transforms.json of an align run")
    b.add_argument("--image", required=True, metavar="NAME", help="output name, source path or file name")
    direction = b.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to-original", action="store_true", help="aligned pixels -> original pixels")
    direction.add_argument("--to-aligned", action="store_true", help="original pixels -> aligned pixels")
    b.add_argument("--clip", action="store_true", help="clamp the mapped boxes to the target image")
    b.add_argument("--format", choices=["text", "json"], default="text")
    b.set_defaults(handler=run_boxes)
