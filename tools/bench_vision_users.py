"""What a transformers user gets from ``gaudi_vl.kernels.accelerate``: the 7B model, stock vs accelerated.

Measured side by side in one process, on one model (Qwen2.5-VL-7B config, random weights, bf16, built
on the GPU; no download):

* time to first token: ``model.generate(..., max_new_tokens=1)`` wall clock (synchronised), inputs
  already on the device (preprocessing excluded), for (a) one 1920x1080 image and (b) a batch of 8
  prompts with one photo each, the 8 most common COCO val2017 photo sizes; the vision tower's share
  (``get_image_features``) alone as well;
* the tower alone on a real image-size set: a seeded sample of COCO val2017 sizes, 8 images per call,
  images per second;
* accuracy: image features of stock bf16 and accelerated bf16 against the stock tower in fp32 (same
  weights), and whether the first 4 generated tokens agree (each variant against stock bf16 and against
  the stock model with its tower in fp32; with random weights the logits are nearly tied, so the
  fp32-tower row shows how many tokens bf16 rounding alone flips).

Variants: ``stock`` (transformers' sdpa forward); ``accelerated`` (``accelerate(model)``: the engine's
default buckets, frames packed per bucket call, varlen FlashAttention, Triton elementwise kernels,
CUDA graphs captured inside ``accelerate``, MLP padded); ``accelerated_unpacked`` (``packed=False``:
one frame per bucket with masks, issue 14's path); ``accelerated_nobuckets`` (``buckets="None"``:
each frame at its own size, eager); with ``--fused`` also ``accelerated_fused`` (``fused=True``,
unpacked). ``--variants`` picks among the first three.
Images go through transformers' own ``Qwen2VLImageProcessor`` with the 7B checkpoint's pixel range
(3136 .. 12845056), i.e. 28-px rounding: most grids have windows cut by the border.

    git --git-dir /work/.mirror/ruizewang+evaluate/repo/.git show HEAD:annotations/captions_val2017.json \\
        | python tools/workload_sets.py coco - -o coco_val2017.csv
    python tools/bench_vision_users.py --sizes coco_val2017.csv --out $OUT/vision_users.json
    python tools/bench_vision_users.py --sizes coco_val2017.csv --smoke   # tiny model on the CPU
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _kernels_import import import_kernels

K = import_kernels()
from model_dims import vision_config  # noqa: E402 - the checkout is on the path now

# Qwen/Qwen2.5-VL-7B-Instruct config.json (dims also in gaudi_vl/models.py), hub key names.
TEXT_7B = dict(
    vocab_size=152064,
    hidden_size=3584,
    intermediate_size=18944,
    num_hidden_layers=28,
    num_attention_heads=28,
    num_key_value_heads=4,
    max_position_embeddings=128000,
    rms_norm_eps=1e-6,
    rope_theta=1000000.0,
    rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]},
    bos_token_id=151643,
    eos_token_id=151645,
)
VISION_7B = vision_config(tokens_per_second=2)
IDS_7B = dict(
    image_token_id=151655, video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653
)
PIXELS_7B = {"shortest_edge": 3136, "longest_edge": 12845056}

SMOKE_TEXT = dict(
    TEXT_7B,
    vocab_size=300,
    hidden_size=128,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    rope_scaling={"type": "mrope", "mrope_section": [8, 12, 12]},
    bos_token_id=0,
    eos_token_id=1,
)
SMOKE_VISION = dict(
    VISION_7B,
    depth=4,
    hidden_size=64,
    num_heads=4,
    intermediate_size=96,
    out_hidden_size=128,
    fullatt_block_indexes=[1, 3],
)
SMOKE_IDS = dict(image_token_id=299, video_token_id=298, vision_start_token_id=297, vision_end_token_id=296)
SMOKE_PIXELS = {"shortest_edge": 3136, "longest_edge": 200 * 28 * 28}


def build_model(smoke: bool, device: str) -> torch.nn.Module:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(
        text_config=SMOKE_TEXT if smoke else TEXT_7B,
        vision_config=SMOKE_VISION if smoke else VISION_7B,
        **(SMOKE_IDS if smoke else IDS_7B),
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration._from_config(
            config, dtype=torch.bfloat16, attn_implementation="sdpa"
        )
    return model.eval()


def read_sizes(path: Path) -> list[tuple[int, int]]:
    """(width, height) per image, expanded from a ``width,height,count`` CSV (tools/workload_sets.py)."""
    out: list[tuple[int, int]] = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out += [(int(row["width"]), int(row["height"]))] * int(row["count"])
    return out


def most_common(sizes: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    from collections import Counter

    return [size for size, _ in Counter(sizes).most_common(n)]


def process(sizes: list[tuple[int, int]], pixels: dict, seed: int) -> dict[str, torch.Tensor]:
    """transformers' processor on random images of these sizes (content does not change the timing)."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    gen = torch.Generator().manual_seed(seed)
    images = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen) for w, h in sizes]
    out = Qwen2VLImageProcessor(size=pixels)(images=images, return_tensors="pt")
    return {"pixel_values": out["pixel_values"], "image_grid_thw": out["image_grid_thw"]}


def prompts(vision: dict[str, torch.Tensor], ids: dict, device: str) -> dict[str, torch.Tensor]:
    """One prompt per image (left-padded batch): a few text tokens, the image's placeholders, more text."""
    rows = []
    for t, h, w in vision["image_grid_thw"].tolist():
        n = t * h * w // 4
        rows.append(
            [10, 11, 12, ids["vision_start_token_id"]]
            + [ids["image_token_id"]] * n
            + [ids["vision_end_token_id"], 13, 14, 15]
        )
    width = max(map(len, rows))
    input_ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    out = {"input_ids": input_ids, "attention_mask": mask, **vision}
    return {k: v.to(device) for k, v in out.items()}


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def wall_ms(fn: Callable[[], object], reps: int, warmup: int) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), times


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def features(model, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        out = model.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"])
    return torch.cat(out.pooler_output)


def first_tokens(model, inputs: dict[str, torch.Tensor], n: int) -> list[list[int]]:
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return out[:, inputs["input_ids"].shape[1] :].tolist()


def measure(model, name: str, cases: dict, tower_set: list[dict], reps: int, record: Callable) -> dict:
    """TTFT and tower time per case, the tower over the size set; returns features/tokens for accuracy."""
    kept: dict = {}
    for case, inputs in cases.items():
        gen = lambda inputs=inputs: model.generate(**inputs, max_new_tokens=1, do_sample=False)  # noqa: E731
        sync()
        t0 = time.perf_counter()
        with torch.no_grad():
            gen()
        sync()
        cold = (time.perf_counter() - t0) * 1e3
        with torch.no_grad():
            ttft, times = wall_ms(gen, reps=reps, warmup=1)
            tower, _ = wall_ms(lambda inputs=inputs: features(model, inputs), reps=reps, warmup=1)
        record(name, case, ttft_ms=ttft, ttft_all_ms=times, first_call_ms=cold, tower_ms=tower)
        kept[case] = {
            "features": features(model, inputs).float().cpu(),
            "tokens": first_tokens(model, inputs, 4),
        }
    with torch.no_grad():
        run_all = lambda: [features(model, chunk) for chunk in tower_set]  # noqa: E731
        run_all()  # warm-up (captures the graphs of every bucket the set needs)
        ms, times = wall_ms(run_all, reps=2, warmup=0)
    n_images = sum(int(c["image_grid_thw"].shape[0]) for c in tower_set)
    record(name, "tower_set", images=n_images, ms=ms, images_per_s=n_images / (ms / 1e3), all_ms=times)
    # The same inputs again after every bucket of the set ran: graphs sharing one memory pool must
    # still give the first answers (bit for bit, as the stock forward does run to run).
    for case, inputs in cases.items():
        again = features(model, inputs).float().cpu()
        first = kept[case]["features"]
        record(name, f"{case}_repeat", equal=bool(torch.equal(again, first)), rel_err=rel_err(again, first))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=Path, required=True, help="width,height,count CSV (COCO val2017)")
    parser.add_argument("--out", type=Path, default=Path("vision_users.json"))
    parser.add_argument("--tower-images", type=int, default=128, help="images of the size-set sample")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--fused", action="store_true", help="also time accelerate(..., fused=True)")
    parser.add_argument(
        "--variants",
        default="accelerated,accelerated_unpacked,accelerated_nobuckets",
        help="comma-separated accelerate() variants to time after stock "
        "(accelerated, accelerated_unpacked, accelerated_nobuckets)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny model (GPU if present): checks the script runs"
    )
    args = parser.parse_args()
    import transformers

    device = "cuda" if torch.cuda.is_available() else "cpu"
    meta = {
        "device": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "dtype": "bfloat16",
        "model": "smoke" if args.smoke else "qwen2.5-vl-7b (random weights)",
    }
    print(json.dumps(meta), flush=True)
    records: list[dict] = []

    args.out.parent.mkdir(parents=True, exist_ok=True)

    def record(variant: str, case: str, **values: object) -> None:
        row = {"variant": variant, "case": case, **values, **meta}
        records.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in meta}), flush=True)
        args.out.write_text(json.dumps(records, indent=1) + "\n")  # kept if a later step dies

    t0 = time.perf_counter()
    model = build_model(args.smoke, device)
    sync()
    print(f"model built in {time.perf_counter() - t0:.1f} s", flush=True)
    pixels = SMOKE_PIXELS if args.smoke else PIXELS_7B
    ids = SMOKE_IDS if args.smoke else IDS_7B
    sizes = read_sizes(args.sizes)
    hd = (480, 270) if args.smoke else (1920, 1080)
    cases = {
        "one_1920x1080": prompts(process([hd], pixels, seed=1), ids, device),
        "batch8_coco_photos": prompts(process(most_common(sizes, 8), pixels, seed=2), ids, device),
    }
    sample = random.Random(0).sample(sizes, min(args.tower_images, len(sizes)))
    tower_set = [
        {k: v.to(device) for k, v in process(sample[i : i + 8], pixels, seed=100 + i).items()}
        for i in range(0, len(sample), 8)
    ]
    for name, inputs in cases.items():
        grids = inputs["image_grid_thw"].tolist()
        record("input", name, grids=grids, prompt_tokens=int(inputs["attention_mask"].sum()))
    record(
        "input",
        "tower_set",
        images=len(sample),
        patches=sum(int(c["image_grid_thw"].prod(-1).sum()) for c in tower_set),
    )

    results = {"stock": measure(model, "stock", cases, tower_set, args.reps, record)}
    known = {
        "accelerated": {},
        "accelerated_unpacked": {"packed": False},
        "accelerated_nobuckets": {"buckets": "None"},
    }
    variants = [(name, known[name]) for name in args.variants.split(",") if name]
    if args.fused:
        variants.append(("accelerated_fused", {"fused": True, "packed": False}))
    for name, kwargs in variants:
        base = torch.cuda.memory_allocated() if device == "cuda" else 0
        sync()
        t_setup = time.perf_counter()
        handle = K.accelerate(model, **kwargs)
        sync()
        record(name, "setup", accelerate_s=time.perf_counter() - t_setup)
        results[name] = measure(model, name, cases, tower_set, args.reps, record)
        held = torch.cuda.memory_allocated() - base if device == "cuda" else None
        record(
            name,
            "handle",
            graphs=handle.graphs,
            buckets=handle.buckets,
            mlp_padded_from=handle.mlp_width,
            counts={f"{k[0]}:{k[1]}": v for k, v in sorted(handle.runner.counts.items())},
            stock_calls=handle.stock_calls,
            held_bytes_after=held,
        )
        handle.undo()
        if device == "cuda":
            torch.cuda.empty_cache()

    # Accuracy against the stock tower in fp32 (same weights), and first-token agreement. With random
    # weights the next-token logits are nearly tied, so bf16 rounding alone flips tokens: the stock
    # model with its tower in fp32 (the more accurate features) is the yardstick for that.
    bf16_visual = model.model.visual
    visual32 = copy.deepcopy(bf16_visual).float()
    for case, inputs in cases.items():
        with torch.no_grad():
            ref = visual32(
                inputs["pixel_values"].float(), grid_thw=inputs["image_grid_thw"]
            ).pooler_output.cpu()
        stock = results["stock"][case]
        model.model.visual = visual32
        try:
            tokens32 = first_tokens(model, inputs, 4)
        finally:
            model.model.visual = bf16_visual
        row = {
            "stock_bf16_vs_fp32": rel_err(stock["features"], ref),
            "fp32_tower_first_tokens_equal_stock_bf16": [
                a == b for a, b in zip(tokens32, stock["tokens"], strict=True)
            ],
        }
        for name, res in results.items():
            if name == "stock":
                continue
            row[f"{name}_vs_fp32"] = rel_err(res[case]["features"], ref)
            row[f"{name}_vs_stock_bf16"] = rel_err(res[case]["features"], stock["features"])
            row[f"{name}_first_tokens_equal"] = [
                a == b for a, b in zip(res[case]["tokens"], stock["tokens"], strict=True)
            ]
            row[f"{name}_first_tokens_equal_fp32_tower"] = [
                a == b for a, b in zip(res[case]["tokens"], tokens32, strict=True)
            ]
        record("accuracy", case, **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()})
    del visual32

    versions = f"torch {meta['torch']}, transformers {meta['transformers']}"
    print(f"\n{meta['device']}, {meta['model']}, bf16; {versions}")
    print(f"{'variant':24s} {'case':20s} {'TTFT ms':>9s} {'1st call':>9s} {'tower ms':>9s} {'img/s':>7s}")
    for r in records:
        head = f"{r['variant']:24s} {r['case']:20s}"
        if "ttft_ms" in r:
            print(f"{head} {r['ttft_ms']:9.1f} {r['first_call_ms']:9.1f} {r['tower_ms']:9.1f}")
        elif r["case"] == "tower_set" and "images_per_s" in r:
            print(f"{head} {'':9s} {'':9s} {r['ms']:9.1f} {r['images_per_s']:7.1f}")


if __name__ == "__main__":
    main()
