"""The hostile inputs of issue 13, one by one, with the behaviour each must have now.

Each runs the real CLI in a process of its own (``hostile.run_cli``: a hang fails the test) and
checks the contract (no traceback, exit 0 or one line with exit 2, nothing outside the output
changed) plus the specific answer.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import (
    CONFIG,
    PREPROCESSOR,
    assert_contract,
    assert_unchanged,
    run_cli,
    sandbox,
    snapshot,
    write_model,
)
from PIL import Image


@pytest.fixture
def box() -> Path:
    with sandbox() as root:
        yield root


def one_line_error(r, *words: str) -> None:
    assert_contract(r)
    assert r.rc == 2, r.stdout[-500:]
    for word in words:
        assert word in r.stderr, r.stderr


# --- 1. -o never destroys what is there -------------------------------------------------------------


@pytest.mark.parametrize("target", ["victim-link", "dangling-link", "fifo", "dir", "out", ""])
def test_output_never_replaces_a_link_fifo_or_folder(box: Path, target: str) -> None:
    before = snapshot(box)
    r = run_cli(["plan", "-o", target], box)
    one_line_error(r, "gaudi-vl only creates or replaces regular files")
    assert_unchanged(box, before)
    assert (box / "victim.txt").read_text() == "precious\n"


def test_output_to_a_regular_file_still_works(box: Path) -> None:
    r = run_cli(["plan", "--format", "env", "-o", "out/plan.env"], box)
    assert r.rc == 0 and (box / "out" / "plan.env").read_text().startswith("export ")
    assert [p.name for p in (box / "out").iterdir()] == ["plan.env"]


# --- 2. no command injection through the dry-run script ---------------------------------------------


@pytest.mark.parametrize(
    "name", ["m\ntouch PWNED\n#", "m\rtouch PWNED", "m\u2028touch PWNED", "m\x1b]0;x\x07"]
)
def test_dry_run_script_runs_nothing_from_the_model_path(box: Path, name: str) -> None:
    model = write_model(box / name)
    recorder = box / "fake-python"
    recorder.write_text(
        f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open('argv.json', 'w'))\n"
    )
    recorder.chmod(0o755)
    r = run_cli(["serve", str(model), "--dry-run", "--python", str(recorder)], box)
    assert r.rc == 0, r.stderr
    ran = subprocess.run(["bash"], input=r.stdout.encode(), cwd=box, capture_output=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert not (box / "PWNED").exists(), "the model path ran a command"
    argv = json.loads((box / "argv.json").read_text())
    assert argv[argv.index("--model") + 1] == str(model)


# --- 3. no hang ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["plan", "--max-pixels", "9" * 29], ["--max-pixels", "above the limit of 178956970"]),
        (["plan", "--strategy", "exp", "--count", "9" * 20], ["--count", "above the limit of 256"]),
        (["plan", "--workload", "w.csv", "--max-buckets", "9" * 20], ["--max-buckets", "above the limit"]),
        (["plan", "--workload", "fifo"], ["not a folder or a regular file"]),
        (["plan", "--workload", "/dev/zero"], ["not a folder or a regular file"]),
        (["plan", "--workload", "/dev/zero", "--workload-format", "csv"], ["not a folder or a regular file"]),
        (["plan", "--max-model-len", "9" * 5000], ["--max-model-len"]),
        (["plan", "--device-memory", "9" * 400 + "GiB"], ["not a memory size"]),
    ],
)
def test_no_hang(box: Path, args: list[str], words: list[str]) -> None:
    (box / "w.csv").write_text("width,height\n640,480\n")
    one_line_error(run_cli(args, box, timeout=30), *words)


def test_largest_pixel_range_is_fast(box: Path) -> None:
    r = run_cli(
        ["plan", "--min-pixels", "178956970", "--max-pixels", "178956970", "--format", "json"],
        box,
        timeout=30,
    )
    assert_contract(r)


# --- 5. one line, not a traceback: model files ------------------------------------------------------


def _config(vision: dict | None = None, **top: object) -> dict:
    """The 7B config with top-level keys and ``vision_config`` keys replaced."""
    config = copy.deepcopy(CONFIG)
    config.update(top)
    if isinstance(config["vision_config"], dict):
        config["vision_config"].update(vision or {})
    return config


@pytest.mark.parametrize(
    ("config", "preprocessor", "words"),
    [
        ('{"model_type": "qwen2_5_vl", "name": "caf\xe9"}'.encode("latin-1"), None, ["not UTF-8"]),
        (b"[" * 100_000 + b"]" * 100_000, None, ["nested too deeply"]),
        (_config(hidden_size=None), None, ["hidden_size must be a whole number, got null"]),
        (_config(hidden_size=[3584]), None, ["hidden_size must be a whole number"]),
        (_config(hidden_size="abc"), None, ["hidden_size must be a whole number"]),
        (b'{"model_type": "qwen2_5_vl", "hidden_size": NaN}', None, ["NaN is not valid JSON"]),
        (_config(num_attention_heads=0), None, ["num_attention_heads must be in 1.."]),
        (_config(num_key_value_heads=0), None, ["num_key_value_heads must be in 1.."]),
        (_config(num_key_value_heads=-4), None, ["num_key_value_heads must be in 1.."]),
        (_config(num_key_value_heads=3), None, ["not divisible by num_key_value_heads 3"]),
        (_config(vision_config=None), None, ["vision_config must be a JSON object, got null"]),
        (_config({"fullatt_block_indexes": 7}), None, ["fullatt_block_indexes must be a list"]),
        (_config({"fullatt_block_indexes": [7, 32]}), None, ["fullatt_block_indexes must be in 0..31"]),
        (_config(tie_word_embeddings="false"), None, ["tie_word_embeddings must be true or false"]),
        (_config(hidden_size=2**70), None, ["hidden_size must be in 1..16,777,216"]),
        (
            None,
            {**PREPROCESSOR, "min_pixels": "abc"},
            ["preprocessor_config.json min_pixels must be a whole number"],
        ),
        (None, {**PREPROCESSOR, "max_pixels": 10**12}, ["max_pixels must be in 1..178,956,970"]),
        (
            None,
            {**PREPROCESSOR, "min_pixels": 5000, "max_pixels": 4000},
            ["min_pixels 5000 is above max_pixels 4000"],
        ),
        (None, {"size": "big"}, ["size must be a JSON object"]),
    ],
)
def test_hostile_model_files_are_one_line(
    box: Path, config: object, preprocessor: object, words: list[str]
) -> None:
    model = write_model(box / "model", config, preprocessor)
    one_line_error(run_cli(["plan", "--model", str(model)], box), *words)


def test_tie_word_embeddings_is_read_as_a_boolean(box: Path) -> None:
    """``false`` and ``true`` give different parameter counts (the lm_head is shared or not)."""
    params = {}
    for tie in (False, True):
        model = write_model(box / f"tie-{tie}", _config(tie_word_embeddings=tie))
        r = run_cli(["plan", "--model", str(model), "--json"], box)
        assert r.rc == 0, r.stderr
        params[tie] = json.loads(r.stdout)["model"]
    assert params[False] != params[True]


@pytest.mark.parametrize("kind", ["fifo", "devzero", "loop"])
def test_special_model_files_do_not_hang(box: Path, kind: str) -> None:
    model = write_model(box / "model")
    target = model / "config.json"
    target.unlink()
    {
        "fifo": lambda: os.mkfifo(target),
        "devzero": lambda: target.symlink_to("/dev/zero"),
        "loop": lambda: target.symlink_to("config.json"),
    }[kind]()
    assert_contract(run_cli(["plan", "--model", str(model)], box, timeout=30))
    assert run_cli(["plan", "--model", str(model)], box, timeout=30).rc == 2


# --- 5. one line: workloads -----------------------------------------------------------------------


def test_csv_field_over_the_limit_and_huge_counts_are_skipped_rows(box: Path) -> None:
    huge_field = '"' + "x" * 200_000 + '",5,5\n'
    rows = "100,100,1000000000000000000000000000000\n100,100,1e30\n320,240,1\n"
    (box / "w.csv").write_text("width,height,count\n640,480,3\n" + huge_field + rows)
    r = run_cli(["plan", "--workload", "w.csv", "--json"], box)
    assert r.rc == 0, r.stderr
    notes = " ".join(json.loads(r.stdout)["warnings"])
    assert "skipped 3 unreadable entries" in notes and "field larger than field limit" in notes
    assert run_cli(["plan", "--workload", "w.csv", "--strict"], box).rc == 2


def test_deep_jsonl_is_a_skipped_line(box: Path) -> None:
    Image.new("RGB", (640, 480)).save(box / "a.png")
    part = {"messages": [{"content": [{"type": "image_url", "image_url": {"url": "a.png"}}]}]}
    (box / "w.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps(part) + "\n")
    r = run_cli(["plan", "--workload", "w.jsonl", "--json"], box)
    assert r.rc == 0, r.stderr
    assert "nested too deeply" in " ".join(json.loads(r.stdout)["warnings"])


def test_log_numbers_of_thousands_of_digits_are_skipped(box: Path) -> None:
    (box / "w.log").write_text(
        "Padding current image size " + "9" * 5000 + " to 1\nPadding current image size 1000 to 1024\n"
    )
    r = run_cli(["plan", "--workload", "w.log", "--json"], box)
    assert r.rc == 0, r.stderr


def test_plot_suffix_is_checked(box: Path) -> None:
    (box / "w.csv").write_text("width,height\n640,480\n")
    one_line_error(run_cli(["plan", "--workload", "w.csv", "--plot", "out/x.txt"], box), "--plot", ".png")
    assert not list((box / "out").iterdir())


# --- 5. one line: boxes and align -------------------------------------------------------------------


def _aligned(box: Path) -> None:
    Image.new("RGB", (640, 480)).save(box / "cat.png")
    assert run_cli(["align", "cat.png", "--out", "al"], box).rc == 0


def test_boxes_after_double_dash_are_boxes(box: Path) -> None:
    _aligned(box)
    r = run_cli(
        [
            "boxes",
            "--transforms",
            "al/transforms.json",
            "--image",
            "cat.png",
            "--to-original",
            "--",
            "-10,-10,200,200",
        ],
        box,
    )
    assert r.rc == 0, r.stderr
    assert len(r.stdout.split()) == 1 and r.stdout.startswith("-")


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (["inf,0,1,1"], b"", ["finite"]),
        ([], b"[[Infinity, 0, 1, 1]]", ["finite"]),
        ([], b"[[1" + b"0" * 400 + b", 0, 1, 1]]", ["too large"]),
        ([], b"[" * 100_000, ["nested too deeply"]),
        ([], b"\xff\xfe", ["not JSON"]),
        (["1.79e308,0,1.79e308,1"], b"", ["overflows"]),
    ],
)
def test_hostile_boxes_are_one_line(box: Path, args: list[str], stdin: bytes, words: list[str]) -> None:
    _aligned(box)
    # 640 x 480 aligns to 672 x 448: x grows by 1.05 on the way to the aligned image
    direction = "--to-aligned" if args and args[0].startswith("1.79e308") else "--to-original"
    common = ["--transforms", "al/transforms.json", "--image", "cat.png", direction]
    one_line_error(run_cli(["boxes", *common, *args], box, stdin=stdin), *words)


def test_symlink_loop_in_an_align_batch_is_a_per_file_error(box: Path) -> None:
    src = box / "src"
    src.mkdir()
    Image.new("RGB", (300, 200)).save(src / "a.png")
    (src / "l1.png").symlink_to("l2.png")
    (src / "l2.png").symlink_to("l1.png")
    r = run_cli(["align", "src", "--out", "out/al"], box)
    assert_contract(r, ok=(1,))
    assert r.stderr.count("symbolic link loop") == 2
    assert json.loads((box / "out" / "al" / "transforms.json").read_text())["images"].keys() == {"a.png"}


def test_align_output_size_is_capped(box: Path) -> None:
    Image.new("RGB", (300, 200)).save(box / "a.png")
    one_line_error(
        run_cli(["align", "a.png", "--out", "out", "--min-pixels", "10000000000"], box),
        "--min-pixels",
        "above the limit of 178956970",
    )


def test_align_never_writes_through_a_link_in_out(box: Path) -> None:
    (box / "src" / "sub").mkdir(parents=True)
    Image.new("RGB", (300, 200)).save(box / "src" / "sub" / "a.png")
    (box / "out" / "sub").symlink_to(box / "dir")
    before = snapshot(box)
    r = run_cli(["align", "src", "--out", "out"], box)
    assert_contract(r, ok=(1,))
    assert "leads outside --out" in r.stderr
    assert_unchanged(box, before, allowed=["out/transforms.json"])


# --- 6. silent wrong output ---------------------------------------------------------------------------


def test_max_model_len_above_the_model_is_refused_like_vllm(box: Path) -> None:
    one_line_error(run_cli(["plan", "--max-model-len", "200000"], box), "max_position_embeddings 128000")
    r = run_cli(
        ["plan", "--max-model-len", "200000", "--json"], box, env={"VLLM_ALLOW_LONG_MAX_MODEL_LEN": "1"}
    )
    assert r.rc == 0 and any("VLLM_ALLOW_LONG_MAX_MODEL_LEN" in w for w in json.loads(r.stdout)["warnings"])


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--port", "9999"], "--port"),
        (["--port=9999"], "--port"),
        (["--po", "9999"], "--port"),
        (["-tp", "2"], "--tensor-parallel-size"),
        (["--tensor_parallel_size", "2"], "--tensor-parallel-size"),
        (["--mm-processor-kwargs.max_pixels", "5"], "--mm-processor-kwargs"),
        (["--model", "other"], "--model"),
    ],
)
def test_passthrough_may_not_override_the_plan(box: Path, extra: list[str], flag: str) -> None:
    r = run_cli(["serve", "qwen2.5-vl-7b", "--dry-run", "--", *extra], box)
    one_line_error(r, flag, "after --")


def test_passthrough_of_other_flags_still_works(box: Path) -> None:
    r = run_cli(
        ["serve", "qwen2.5-vl-7b", "--dry-run", "--", "--enforce-eager", "--served-model-name", "x"], box
    )
    assert r.rc == 0 and r.stdout.rstrip().endswith("--enforce-eager --served-model-name x")


# --- the doctor's reader and plan files ---------------------------------------------------------------


def test_doctor_on_an_endless_line_ends(box: Path) -> None:
    assert_contract(run_cli(["doctor", "/dev/zero"], box, timeout=5), ok=(0, 1, 2, 3))


@pytest.mark.parametrize("path", ["fifo", "/dev/zero"])
def test_plan_file_that_never_ends(box: Path, path: str) -> None:
    assert_contract(run_cli(["serve", "--plan", path, "--dry-run"], box, timeout=5))


def _plan_file(box: Path, path: list[str], value: object) -> str:
    r = run_cli(["plan", "--json", "-o", "plan.json"], box)
    assert r.rc == 0, r.stderr
    doc = json.loads((box / "plan.json").read_text())
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (box / "plan.json").write_text(json.dumps(doc))
    return "plan.json"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["serve", "tensor_parallel_size"], "2"),
        (["serve", "port"], "8000"),
        (["serve", "host"], 5),
        (["model", "ref"], 5),
        (["target"], "nope"),
        (["resolutions"], ["axb"]),
        (["serve", "fp32_softmax"], "false"),
        (["serve", "max_model_len"], 1.5),
        (["buckets"], [9223372036854775808]),
    ],
)
def test_plan_file_with_wrong_types_is_one_line(box: Path, path: list[str], value: object) -> None:
    one_line_error(run_cli(["serve", "--plan", _plan_file(box, path, value), "--dry-run"], box))
