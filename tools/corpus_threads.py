"""Is a public thread already in the doctor corpus? The check a collector runs before writing a log.

    python tools/corpus_threads.py OWNER/REPO NUMBER [NUMBER ...] [--corpus tests/doctor_corpus]

A held-out batch is out of sample only if none of its threads is in the corpus already, and a thread an
earlier collector left out stays out (its reason is in the corpus README). For each number this prints
``SEEN`` with the evidence (a manifest entry's source URL, a log file named for the thread, the URL in the
README) or ``NEW``, and then the README lines that hold the bare number beside the repository's short name,
for a person to read: the lists of threads left out name them as ``vllm 188`` or ``vllm-omni 7555``, and a
line wrap can part the name from the number, or a list run over many lines (``listed_mentions``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "doctor_corpus"


def short_name(repo: str) -> str:
    """``vllm-project/vllm-ascend`` -> ``vllmascend``: how the corpus names log files for a repository."""
    return re.sub(r"[^a-z0-9]", "", repo.split("/", 1)[1].lower())


def evidence(repo: str, number: int, manifest: dict[str, dict], readme: str) -> list[str]:
    """Where the corpus already holds ``repo``'s thread ``number`` (empty: it does not)."""
    url = re.compile(rf"github\.com/{re.escape(repo)}/(?:issues|pull)/{number}(?!\d)", re.IGNORECASE)
    found = [f"manifest: {name}" for name, entry in manifest.items()
             if url.search(str(entry.get("source", "")))]
    prefix = re.compile(rf"{short_name(repo)}(?:pr)?{number}_")
    found += [f"file: {name}" for name in manifest if prefix.match(name.lower())]
    if url.search(readme):
        found.append("README: its URL")
    if named_in_readme(repo, number, readme):
        found.append("README: named with its repository (a list of threads left out or taken)")
    return found


def named_in_readme(repo: str, number: int, readme: str) -> bool:
    """The README names the thread with its full repository, as its lists do: ``containers/ramalama 2214,
    2523, 758``, ``kvcache-ai/Mooncake 436 and 874``, ``ramalama#2214`` (the repository's name before
    ``#N``)."""
    text = " ".join(readme.split())  # a wrap can part the name from its numbers
    owner_repo = re.escape(repo)
    listed = re.compile(rf"(?<![\w.\-/]){owner_repo}(?:\s+(?:issues?|PRs?|pull requests?))?\s+#?"
                        rf"((?:\d+(?:,\s*|\s+and\s+|\s+))*\d+)(?![\w/])", re.IGNORECASE)
    if any(str(number) in re.findall(r"\d+", m.group(1)) for m in listed.finditer(text)):
        return True
    name = re.escape(repo.split("/", 1)[1])
    return re.search(rf"(?<![\w.\-]){name}#{number}(?!\d)", text, re.IGNORECASE) is not None


def bare_mentions(repo: str, number: int, readme: str) -> list[str]:
    """README lines with the number alone beside the repository's name (lists of threads left out): the name
    on the line or the line before it (a wrap can part them), or a short form of it before ``#N``
    (``amd-strix-halo#69`` for kyuz0/amd-strix-halo-vllm-toolboxes)."""
    name, short = repo.split("/", 1)[1].lower(), short_name(repo)
    number_re = re.compile(rf"(?<![\d.]){number}(?!\d)")
    tagged = re.compile(rf"([\w.\-]+)#{number}(?!\d)")
    lines = readme.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not number_re.search(line):
            continue
        near = (lines[i - 1] + " " + line).lower() if i else line.lower()
        tags = (re.sub(r"[^a-z0-9]", "", m.group(1).lower()) for m in tagged.finditer(line))
        if name in near or short in near or any(len(t) >= 6 and short.startswith(t) for t in tags):
            found.append(line.strip()[:160])
    return found + [line for line in listed_mentions(name, number, readme) if line not in found]


LIST_WINDOW = 4000
"""How far back in a paragraph a left-out list's repository name may stand before one of its numbers: the
lists run for many lines (``vllm 4234, 4501, .. and 18970: prose, ..``), each number with its reason."""


def listed_mentions(name: str, number: int, readme: str) -> list[str]:
    """README lines where the number stands as a list item (``N:``, ``N,``, ``N and``, ``N (..)``) in a
    paragraph that names the repository (as a word of its own) earlier, however many lines back: a list of
    threads left out wraps over many lines (round 47 found vllm 10459 and PR 18970 listed so, out of the
    line-based check's reach)."""
    word = re.compile(rf"(?<![\w.\-/]){re.escape(name)}(?![\w\-/])", re.IGNORECASE)
    item = re.compile(rf"(?<=[\s,(])(?:PRs? |#)?{number}(?=:|,| and | \(|;|\))")
    found = []
    for para in re.split(r"\n\s*\n", readme):
        if str(number) not in para:
            continue
        for m in item.finditer(para):
            names = list(word.finditer(para, max(0, m.start() - LIST_WINDOW), m.start()))
            if names:
                start, end = para.rfind("\n", 0, m.start()) + 1, para.find("\n", m.end())
                found.append(para[start:end if end >= 0 else len(para)].strip()[:160])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", help="OWNER/REPO, e.g. vllm-project/vllm")
    parser.add_argument("numbers", nargs="+", type=int, help="issue or pull-request numbers")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    if args.repo.count("/") != 1:
        parser.error(f"repo must be OWNER/REPO, got {args.repo!r}")
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    readme = (args.corpus / "README.md").read_text()
    for number in args.numbers:
        found = evidence(args.repo, number, manifest, readme)
        print(("SEEN " if found else "NEW  ") + f"{args.repo}#{number}", "; ".join(found))
        for line in bare_mentions(args.repo, number, readme)[:5]:
            print("   README line with the bare number (read it):", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
