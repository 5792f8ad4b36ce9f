"""Issue 19, class "output": a stdout that is full, closed or a pipe nobody reads, in every command;
and control characters from inputs (file names, model names, log text) on every stream.

The convention (README "Limits", ``gaudi_vl.cli``): a full disk (``> /dev/full``) or a closed
descriptor (``>&-``) is one line on stderr and exit 1; a reader that went away (``| head``) is a
quiet exit 141 (128 + SIGPIPE, what a shell reports for ``cat``). Nothing else on stderr, never a
traceback or Python's "Exception ignored" note.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import GAUDI_VL, assert_contract, fuzz, nasty_text, no_nul, run_cli, sandbox, write_model
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

HEALTHY_LOG = (
    "INFO 10-24 12:00:00 api_server.py:100] vLLM API server version 0.9.0\n"
    "INFO 10-24 12:00:01 launcher.py:29] Application startup complete.\n"
)
COMMANDS: dict[str, list[str]] = {
    "plan": ["plan"],
    "plan-json": ["plan", "--json"],
    "plan-env": ["plan", "--format", "env"],
    "plan-docker": ["plan", "--format", "docker"],
    "plan-k8s": ["plan", "--format", "k8s"],
    "serve-dry-run": ["serve", "qwen2.5-vl-7b", "--dry-run"],
    "doctor": ["doctor", "engine.log"],
    "align": ["align", "img.png", "--out", "out"],
    "boxes": ["boxes", "--transforms", "aligned/transforms.json", "--image", "img.png", "--to-original",
              "--", "1,2,3,4"],
    "help": ["plan", "--help"],
    "version": ["--version"],
}


def prepare(box: Path) -> None:
    (box / "engine.log").write_text(HEALTHY_LOG)
    Image.new("RGB", (300, 200), (1, 2, 3)).save(box / "img.png")
    done = subprocess.run([*GAUDI_VL, "align", "img.png", "--out", "aligned"], cwd=box, capture_output=True)
    assert done.returncode == 0, done.stderr


def run_with_stdout(args: list[str], box: Path, how: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_")}
    if how == "full":
        with open("/dev/full", "wb") as full:
            return subprocess.run([*GAUDI_VL, *args], cwd=box, stdout=full, stderr=subprocess.PIPE,
                                  env=env, timeout=60)
    if how == "closed":
        return subprocess.run([*GAUDI_VL, *args], cwd=box, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env, timeout=60, preexec_fn=lambda: os.close(1))
    read, write = os.pipe()
    os.close(read)  # the reader went away before the first byte
    try:
        return subprocess.run([*GAUDI_VL, *args], cwd=box, stdout=write, stderr=subprocess.PIPE, env=env,
                              timeout=60)
    finally:
        os.close(write)


@pytest.mark.parametrize("how", ["full", "closed", "broken-pipe"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_stdout_that_cannot_be_written(command: str, how: str) -> None:
    with sandbox() as box:
        prepare(box)
        done = run_with_stdout(COMMANDS[command], box, how)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    if how == "broken-pipe":
        assert done.returncode == 141 and err == "", (done.returncode, err)
        return
    lines = err.strip("\n").split("\n")
    assert done.returncode == 1, (done.returncode, err)
    assert len(lines) == 1 and lines[0].startswith("gaudi-vl"), err
    assert ("stdout is closed" if how == "closed" else "No space left on device") in lines[0]


# --- control characters -----------------------------------------------------------------------------

RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
"""What may not reach a terminal raw: C0 (but the line break), DEL, C1, the Unicode line breaks."""
HOSTILE_NAMES = st.one_of(
    st.sampled_from(["m\x1b[31mred", "a\nb", "\x1b]0;title\x07", "tab\there", "cr\rlf", "del\x7f", "c1\x9b2J",
                     "ls\u2028x", "bell\x07"]),
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x9f), min_size=1, max_size=8)
    .filter(no_nul).filter(lambda t: "/" not in t and t not in (".", "..")),
)


def assert_no_raw_control(*streams: str) -> None:
    for text in streams:
        found = RAW_CONTROL.search(text)
        if found is not None:
            around = text[max(0, found.start() - 80):found.end() + 80]
            pytest.fail(f"raw {found.group()!r} in {around!r}")


@fuzz
@given(name=HOSTILE_NAMES, fmt=st.sampled_from(["table", "env", "dotenv", "docker", "k8s", "json"]))
def test_model_folder_names_never_reach_a_stream_raw(name: str, fmt: str) -> None:
    with sandbox() as box:
        write_model(box / f"m{name}")
        r = run_cli(["plan", "--model", f"m{name}", "--format", fmt], box)
        s = run_cli(["serve", f"m{name}", "--dry-run"], box)
    for result in (r, s):
        assert_contract(result)
        assert_no_raw_control(result.stdout, result.stderr)
    if fmt == "json" and r.rc == 0:
        assert json.loads(r.stdout)["model"]["ref"].endswith(name)


@fuzz
@given(name=HOSTILE_NAMES, text=st.lists(nasty_text(), min_size=1, max_size=4))
def test_log_text_and_file_names_never_reach_a_stream_raw(name: str, text: list[str]) -> None:
    """The doctor quotes log text (an exception message) and names the file; align and the workload
    reader name files in their messages."""
    log = HEALTHY_LOG + "Traceback (most recent call last):\n  File \"x.py\", line 1, in load_model\n" + \
        "RuntimeError: " + " ".join(text) + "\n"
    with sandbox() as box:
        (box / f"log{name}.log").write_text(log, errors="surrogateescape")
        results = [run_cli(["doctor", f"log{name}.log"], box)]
        Image.new("RGB", (300, 200)).save(box / "ok.png")
        (box / f"bad{name}.png").write_bytes(b"%!PS-Adobe-3.0\n")
        results.append(run_cli(["align", "ok.png", f"bad{name}.png", "--out", "out"], box))
        rows = f"width,height\n640,480\n{' '.join(text)},1\n"
        (box / "w.csv").write_text(rows, errors="surrogateescape")
        results.append(run_cli(["plan", "--workload", "w.csv", "--target", "vllm"], box))
        results.append(run_cli(["plan", "--workload", f"missing{name}.csv"], box))
    for r in results:
        assert_contract(r, ok=(0, 1, 2, 3))
        assert_no_raw_control(r.stdout, r.stderr)


def test_the_dry_run_script_still_names_the_exact_file(tmp_path: Path) -> None:
    """Escaping must not change what the script runs: ``$'...'`` names the same bytes."""
    name = "m\x1b[31m\n\x7f\udcff"
    model = write_model(tmp_path / name)
    recorder = tmp_path / "fake-python"
    recorder.write_text(
        f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open('argv.json', 'w'))\n"
    )
    recorder.chmod(0o755)
    r = run_cli(["serve", str(model), "--dry-run", "--python", str(recorder)], tmp_path)
    assert r.rc == 0, r.stderr
    assert_no_raw_control(r.stdout)
    ran = subprocess.run(["bash"], input=r.stdout.encode("utf-8", "surrogateescape"), cwd=tmp_path,
                         capture_output=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    raw = (tmp_path / "argv.json").read_bytes()
    argv = json.loads(raw.decode("utf-8", "surrogateescape"))
    assert argv[argv.index("--model") + 1] == str(model)


# --- values the engine's argument parser would misread -----------------------------------------------


@pytest.mark.parametrize("host", ["-x", "--help", "a\n", "\n127.0.0.1", "127.0.0.1\n", "a b", ""])
def test_a_host_the_engine_would_misread_is_refused(host: str) -> None:
    with sandbox() as box:
        r = run_cli(["plan", f"--host={host}", "--format", "env"], box)
    assert_contract(r)
    assert r.rc == 2 and "--host" in r.stderr


def test_a_model_folder_named_like_an_option_reaches_the_engine_as_a_path() -> None:
    """``--model -evil`` would be an option to vLLM's parser ("expected one argument")."""
    with sandbox() as box:
        write_model(box / "-evil")
        r = run_cli(["serve", "--model=-evil", "--dry-run"], box)
        assert r.rc == 0, r.stderr
        exec_line = r.stdout.strip().splitlines()[-1]
        assert " --model ./-evil " in exec_line
        assert (box / "./-evil" / "config.json").exists()
