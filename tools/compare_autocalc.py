"""Text graphs: gaudi-vl's count and memory estimate beside vllm-gaudi's autocalc, on autocalc's inputs.

vllm-gaudi ships ``.cd/server/vllm_autocalc_rules.py`` + ``settings_vllm.csv``: per model, estimated
text graph counts x MB per graph. This tool runs autocalc's OWN functions (``git show`` from the
mirror, exec'd in order of its ``PARAM_CALC_FUNCS``) on a csv row, then feeds the same settings
(strategy, bucket variables, max_num_seqs, max_num_batched_tokens, max_model_len, KV blocks) to
gaudi-vl's vllm-gaudi text-bucket generator (the engine's own rules, ``gaudi_vl.engines.text_buckets``)
and its graph-memory estimate (``gaudi_vl.memory.text_graph_bytes``). Prints a markdown table.

    python tools/compare_autocalc.py [--gaudi-git DIR] [--commit C] [--device GAUDI3]
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaudi_vl.engines import VLLM_GAUDI  # noqa: E402
from gaudi_vl.engines.text_buckets import TextBucketInputs, text_buckets  # noqa: E402
from gaudi_vl.memory import text_graph_bytes  # noqa: E402

GIB = 1024**3
MODELS = {
    # num_hidden_layers, hidden_size, intermediate_size from each model's config.json (public)
    "meta-llama/Llama-3.1-8B-Instruct": (32, 4096, 14336),
    "Qwen/Qwen2.5-7B-Instruct": (28, 3584, 18944),
    "Qwen/Qwen2.5-VL-7B-Instruct": (28, 3584, 18944),
    "Qwen/Qwen2.5-32B-Instruct": (64, 5120, 27648),
}
ENV_KEYS = ("VLLM_PROMPT_BS_BUCKET_MIN", "VLLM_PROMPT_BS_BUCKET_STEP", "VLLM_PROMPT_BS_BUCKET_MAX",
            "VLLM_DECODE_BS_BUCKET_MIN", "VLLM_DECODE_BS_BUCKET_STEP", "VLLM_PROMPT_QUERY_BUCKET_MIN",
            "VLLM_PROMPT_QUERY_BUCKET_STEP", "VLLM_PROMPT_CTX_BUCKET_STEP", "VLLM_DECODE_BLOCK_BUCKET_MIN",
            "VLLM_DECODE_BLOCK_BUCKET_STEP", "VLLM_DECODE_BLOCK_BUCKET_MAX")


def git_show(git_dir: Path, commit: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
                          capture_output=True, text=True, check=True).stdout


def value(text: str) -> object:
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def autocalc(rules: types.ModuleType, row: dict[str, str], device: str) -> dict[str, object]:
    ctx: dict[str, object] = {k: value(v) for k, v in row.items()}
    ctx["HPU_MEM"] = {"GAUDI2": 96, "GAUDI3": 128}
    ctx["DEVICE_NAME"] = device
    for name, fn in rules.PARAM_CALC_FUNCS.items():
        ctx[name] = fn(ctx)
    return ctx


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--gaudi-git", type=Path, default=Path("/work/.mirror/vllm-project+vllm-gaudi/repo"))
    ap.add_argument("--commit", default="091bbadda10b")
    ap.add_argument("--device", default="GAUDI3",
                    help="autocalc's HPU_MEM key (the csv's rows are 128 GB cards)")
    args = ap.parse_args(argv)
    rules = types.ModuleType("vllm_autocalc_rules")
    exec(compile(git_show(args.gaudi_git, args.commit, ".cd/server/vllm_autocalc_rules.py"),  # noqa: S102
                 "vllm_autocalc_rules.py", "exec"), rules.__dict__)
    table = git_show(args.gaudi_git, args.commit, ".cd/server/settings_vllm.csv")
    rows = list(csv.DictReader(io.StringIO(table)))
    print(f"vllm-gaudi @{args.commit}, device {args.device}; autocalc = its own functions on its csv row")
    print("| model | max_model_len | seqs | blocks | autocalc prompt / decode graphs | gaudi-vl prompt / "
          "decode buckets (graphed) | autocalc prompt / decode MB | gaudi-vl prompt / decode estimate |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if row["MODEL"] not in MODELS:
            continue
        ctx = autocalc(rules, row, args.device)
        layers, hidden, inter = MODELS[row["MODEL"]]
        env = {k: str(int(ctx[k])) for k in ENV_KEYS if ctx.get(k) is not None}  # type: ignore[call-overload]
        env["VLLM_EXPONENTIAL_BUCKETING"] = "true" if ctx["VLLM_EXPONENTIAL_BUCKETING"] else "false"
        tb = replace(VLLM_GAUDI.text_buckets, contiguous_pa=bool(ctx["VLLM_CONTIGUOUS_PA"]))
        seqs, blocks = int(ctx["MAX_NUM_SEQS"]), int(ctx["EST_HPU_BLOCKS"])  # type: ignore[call-overload]
        mnbt, mml = int(ctx["MAX_NUM_BATCHED_TOKENS"]), int(ctx["MAX_MODEL_LEN"])  # type: ignore[call-overload]
        inp = TextBucketInputs(seqs, mnbt, mml, int(ctx["BLOCK_SIZE"]), blocks, env)  # type: ignore[call-overload]
        got = text_buckets(tb, inp)
        spec = types.SimpleNamespace(num_layers=layers, hidden_size=hidden, intermediate_size=inter)
        tp = int(ctx["TENSOR_PARALLEL_SIZE"])  # type: ignore[call-overload]
        p_bytes, d_bytes = text_graph_bytes(spec, got, tp, 2)  # type: ignore[arg-type]
        print(f"| {row['MODEL']} | {ctx['MAX_MODEL_LEN']} | {seqs} | {blocks} | "
              f"{float(ctx['EST_NUM_PROMPT_GRAPHS']):.0f} / {float(ctx['NUM_DECODE_GRAPHS']):.0f} | "  # type: ignore[arg-type]
              f"{len(got.prompt)} ({len(got.prompt_graphed)}) / {len(got.decode)} | "
              f"{float(rules.calc_EST_PROMPT_GRAPH_MEM(ctx)):.0f} / "
              f"{float(rules.calc_EST_DECODE_GRAPH_MEM(ctx)):.0f} | "
              f"{p_bytes / GIB:.1f} GiB / {d_bytes / GIB:.2f} GiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
