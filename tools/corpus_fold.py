"""Fold a collector's batch files into the doctor corpus's manifest and README.

    python tools/corpus_fold.py BATCH [--corpus tests/doctor_corpus]

A collector commits its logs with ``new_BATCH.json`` (manifest entries: file name -> entry) and
``new_BATCH.md`` (its README section) instead of editing the shared files, so that four collectors' branches
merge without conflicts. This appends the entries to ``manifest.json`` in its one-entry-a-line layout (the
existing lines are kept byte for byte), puts the section before the README's closing sections, and deletes
the two batch files. It refuses a batch whose entries name a log that is missing, a file already in the
manifest, or another batch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "doctor_corpus"
README_TAIL = "## Lines produced from the engines' logger format strings"
"""The README's closing sections start here; batch sections go before them."""


def fold(corpus: Path, batch: str) -> int:
    manifest_path, readme_path = corpus / "manifest.json", corpus / "README.md"
    new_json, new_md = corpus / f"new_{batch}.json", corpus / f"new_{batch}.md"
    manifest = json.loads(manifest_path.read_text())
    new = json.loads(new_json.read_text())
    problems = [f"{name}: already in the manifest" for name in new if name in manifest]
    problems += [f"{name}: no such log" for name in new if not (corpus / name).is_file()]
    problems += [f"{name}: batch {entry.get('batch')!r}" for name, entry in new.items()
                 if entry.get("batch") != batch]
    if problems:
        raise SystemExit(f"corpus_fold: {batch} not folded: " + "; ".join(problems[:5]))
    text = manifest_path.read_text().rstrip()
    if not text.endswith("}"):
        raise SystemExit("corpus_fold: manifest.json does not end with '}'")
    lines = "".join(f",\n  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                    for k, v in new.items())
    text = text[:-1].rstrip() + lines + "\n}\n"
    if json.loads(text) != {**manifest, **new}:
        raise SystemExit("corpus_fold: the folded manifest does not read back as manifest + batch")
    readme = readme_path.read_text()
    if README_TAIL not in readme:
        raise SystemExit(f"corpus_fold: README.md has no {README_TAIL!r} section")
    section = new_md.read_text().rstrip() + "\n\n"
    manifest_path.write_text(text)
    readme_path.write_text(readme.replace(README_TAIL, section + README_TAIL, 1))
    new_json.unlink()
    new_md.unlink()
    return len(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("batch", help="the batch name, e.g. K40")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    print(f"{args.batch}: {fold(args.corpus, args.batch)} entries folded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
