"""Fuzz ``gaudi-vl plan`` and ``gaudi-vl serve --dry-run``: hostile option values, output targets,
extra engine flags; the dry-run script must stay a script of exactly the plan's command."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from hostile import (
    assert_contract,
    assert_unchanged,
    fuzz,
    nasty_number,
    nasty_text,
    run_cli,
    sandbox,
    snapshot,
    write_model,
)
from hypothesis import given
from hypothesis import strategies as st

from gaudi_vl.errors import printable

MODELS = ["qwen2.5-vl-7b", "qwen2.5-vl-3b", "Qwen/Qwen2.5-VL-72B-Instruct", "qwen2.5-vl-32b"]
NUMERIC = [
    "--min-pixels",
    "--max-pixels",
    "--max-aspect",
    "--step",
    "--count",
    "--tp",
    "--max-model-len",
    "--max-num-seqs",
    "--max-num-batched-tokens",
    "--gpu-memory-utilization",
    "--images-per-prompt",
    "--port",
    "--device-memory",
    "--max-buckets",
    "--max-waste",
]
CHOICE = {
    "--strategy": ["default", "linear", "exp", "optimal", ""],
    "--target": ["vllm-fork", "vllm-gaudi", "vllm", "tgi", ""],
    "--device": ["gaudi2", "gaudi3", "Gaudi-3", "h100", ""],
    "--kv-dtype": ["auto", "bfloat16", "fp8", "int4"],
    "--objective": ["time", "patches", "speed"],
}
FLAGS = [
    "--fp32-softmax",
    "--fp32-softmax-vision",
    "--skip-warmup",
    "--no-align",
    "--no-cover-range",
    "--strict",
]
K8S_TEXT = [
    "--k8s-name",
    "--k8s-namespace",
    "--k8s-image",
    "--k8s-service-type",
    "--k8s-model-pvc",
    "--k8s-recipe-cache-pvc",
    "--k8s-shm",
    "--k8s-hugepages",
    "--k8s-memory",
]
K8S_NUMERIC = ["--k8s-replicas", "--k8s-recipe-cache-mb"]
BUCKET_LISTS = [
    "2048,4096,8192",
    "64",
    "None",
    "",
    " ",
    "64,64",
    "100",
    "-64",
    "0",
    "a,b",
    "64,,128",
    "9223372036854775808",
    "1" + "0" * 40,
    ",".join(str(64 * i) for i in range(1, 300)),
]


def option() -> st.SearchStrategy[list[str]]:
    """One option with a hostile (or ordinary) value."""
    return st.one_of(
        st.tuples(st.sampled_from(NUMERIC), nasty_number()).map(list),
        st.sampled_from(sorted(CHOICE)).flatmap(
            lambda flag: st.one_of(st.sampled_from(CHOICE[flag]), nasty_text()).map(lambda v: [flag, v])
        ),
        st.sampled_from(FLAGS).map(lambda f: [f]),
        st.one_of(st.sampled_from(BUCKET_LISTS), nasty_text()).map(lambda v: ["--buckets", v]),
        st.one_of(st.sampled_from(MODELS), nasty_text()).map(lambda v: ["--model", v]),
        nasty_text().map(lambda v: ["--host", v]),
        st.tuples(st.sampled_from(NUMERIC), nasty_text()).map(list),
        st.tuples(st.sampled_from(K8S_TEXT), nasty_text()).map(list),
        st.tuples(st.sampled_from(K8S_NUMERIC), nasty_number()).map(list),
    )


def assert_valid_manifests(text: str) -> None:
    """Whatever the options, what ``--format k8s`` prints is YAML the Kubernetes schema accepts."""
    import kubernetes_validate
    import yaml

    for doc in yaml.safe_load_all(text):
        kubernetes_validate.validate(doc, "1.37", strict=True)


def options() -> st.SearchStrategy[list[str]]:
    return st.lists(option(), max_size=6).map(lambda opts: [a for o in opts for a in o])


OUTPUTS = [
    "out/plan.txt",
    "victim-link",
    "dangling-link",
    "fifo",
    "dir",
    "out",
    "missing/x.json",
    "-",
    "victim.txt",
    "",
]


@fuzz
@given(
    opts=options(),
    fmt=st.sampled_from(["table", "json", "env", "dotenv", "docker", "k8s", "helm-values", "yaml"]),
    output=st.one_of(st.none(), st.sampled_from(OUTPUTS)),
)
def test_plan(opts: list[str], fmt: str, output: str | None) -> None:
    with sandbox() as box:
        argv = ["plan", *opts, "--format", fmt] + ([] if output is None else ["-o", output])
        before = snapshot(box)
        r = run_cli(argv, box)
        assert_contract(r)
        if r.rc == 0 and fmt == "k8s" and output is None:
            assert_valid_manifests(r.stdout)
        # Only a regular file may be written; the victim itself is a regular file the user named.
        written = output if r.rc == 0 and output in ("out/plan.txt", "victim.txt") else None
        assert_unchanged(box, before, allowed=[written] if written else [])
        if r.rc == 0 and output in ("victim-link", "dangling-link", "fifo", "dir", "out"):
            raise AssertionError(f"-o {output} was accepted")


PASSTHROUGH = [
    "--enforce-eager",
    "--served-model-name",
    "a b'c",
    "--port",
    "--port=1",
    "--po",
    "9999",
    "-tp",
    "2",
    "--max_model_len",
    "--mm-processor-kwargs.max_pixels",
    "--tensor-parallel-size=2",
    "--dtype",
    "float16",
    "--",
    "-",
    "$(touch PWNED)",
    "\n",
    "--model",
    "-O3",
    "-1",
    "--host",
]


ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'")


def bash_split(line: str) -> list[str]:
    """``shlex.split`` that also reads bash's ``$'...'`` words as gaudi-vl writes them (``\\xNN``
    bytes, ``\\\\`` and ``\\'``): the script quotes a value with control characters that way."""

    def plain(match: re.Match[str]) -> str:
        out = bytearray()
        for escape in re.finditer(r"\\x([0-9a-f]{2})|\\(.)|(.)", match.group(1), re.S):
            byte, escaped, literal = escape.groups()
            out += bytes([int(byte, 16)]) if byte else (escaped or literal).encode("utf-8", "surrogateescape")
        return shlex.quote(out.decode("utf-8", "surrogateescape"))

    return shlex.split(ANSI_C.sub(plain, line))


@fuzz
@given(
    opts=options(),
    model_name=st.one_of(st.none(), nasty_text()),
    extra=st.lists(st.one_of(st.sampled_from(PASSTHROUGH), nasty_text()), max_size=5),
)
def test_serve_dry_run_script(opts: list[str], model_name: str | None, extra: list[str]) -> None:
    """The script is: shebang, comments of printable characters, set, unset, exports, one exec line;
    the exec line's words are the plan's command with the model path exactly as given, then ``extra``."""
    with sandbox() as box:
        model = ["qwen2.5-vl-7b"]
        usable = model_name is not None and model_name.strip("./~ ") and "/" not in model_name
        if usable and len(model_name.encode("utf-8", "surrogateescape")) <= 200:
            model = [str(write_model(box / "models" / model_name))]
        argv = ["serve", *model, *opts, "--dry-run", "--python", sys.executable, "--", *extra]
        before = snapshot(box)
        r = run_cli(argv, box)
        assert_contract(r)
        assert_unchanged(box, before)
        if r.rc != 0:
            return
        lines = r.stdout.split("\n")
        assert lines[0] == "#!/usr/bin/env bash" and lines[-1] == ""
        comments, commands, pending = [], [], ""
        for line in lines[1:-1]:  # a quoted value may hold a newline: join until the quotes close
            if not pending and line.startswith("#"):
                comments.append(line)
                continue
            pending = f"{pending}\n{line}" if pending else line
            try:
                commands.append(bash_split(pending))
            except ValueError:
                continue
            pending = ""
        assert not pending, "an unclosed quotation"
        assert all(printable(line) == line for line in comments), "a comment holds a control character"
        assert commands[0] == ["set", "-euo", "pipefail"] and commands[-1][0] == "exec"
        for words in commands[1:-1]:
            assert words[0] in ("unset", "export"), words
            if words[0] == "export":
                assert len(words) == 2 and "=" in words[1], words
        words = commands[-1]
        assert words[1:4] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
        folder = Path(model[0]).is_absolute()
        assert words[words.index("--model") + 1] == (model[0] if folder else "Qwen/Qwen2.5-VL-7B-Instruct")
        if extra:
            assert words[len(words) - len(extra) :] == extra
        planned = words[4 : len(words) - len(extra)]
        flags = [w for w in planned if w.startswith("--")]
        assert len(flags) == len(set(flags)), f"a plan flag repeated: {flags}"
