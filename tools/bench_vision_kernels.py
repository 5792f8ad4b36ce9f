"""Benchmark the Qwen2.5-VL 7B vision tower on a CUDA GPU: transformers vs the engine's design vs ours.

Why: issue 7 claims the window-batched, bucket-static forward (``gaudi_vl.kernels``) makes the tower
fast AND graph-capturable. This measures, for one image of N patches (grids 32x32 .. 128x128, bucket
= N), in bf16 with random weights (transformers' init):

  (a) ``hf_sdpa``      transformers' module, ``attn_implementation="sdpa"`` (one SDPA call per window)
  (b) ``dense_masked`` the HPU engine's design in PyTorch: every layer one dense SDPA over the bucket
                       with a [bucket, bucket] block-diagonal boolean mask built by einsum
                       (vllm_gaudi/models/qwen2_5_vl.py; ``gaudi_vl.kernels.dense_masked_vision_forward``)
  (c) ``ours_eager``   ``bucketed_vision_forward``; ``ours_graph``: ``BucketGraph`` (CUDA graph, replayed;
                       timed per call including the buffer refill), ``ours_graph_replay`` (replay alone)

with milliseconds (CUDA events, median), peak activation bytes (``max_memory_allocated`` minus the
memory held before the call), relative error against (a), and a FLOP floor: the FLOPs our algorithm
must do over a measured bf16 matmul rate on the same GPU.

    python tools/bench_vision_kernels.py --out tools/results/vision_tower_h100.json
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _kernels_import import import_kernels

ROOT = Path(__file__).resolve().parents[1]


K = import_kernels()
from model_dims import vision_config  # noqa: E402 - the checkout is on the path now

SEVEN_B = vision_config()
"""The 7B tower (Qwen/Qwen2.5-VL-7B-Instruct config.json, as ``gaudi_vl.models`` holds it)."""
SMOKE = {
    **SEVEN_B,
    "depth": 4,
    "hidden_size": 64,
    "num_heads": 4,
    "intermediate_size": 96,
    "out_hidden_size": 48,
    "fullatt_block_indexes": [1, 3],
}
GRIDS = {1024: (32, 32), 4096: (64, 64), 9216: (96, 96), 16384: (128, 128)}


def _version(name: str) -> str | None:
    try:
        return __import__(name).__version__
    except ImportError:
        return None


def build_tower(cfg: dict, dtype: torch.dtype, device: str) -> torch.nn.Module:
    from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLVisionConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionTransformerPretrainedModel

    torch.manual_seed(0)
    config = Qwen2_5_VLVisionConfig(**cfg)
    with torch.device(device):
        model = Qwen2_5_VisionTransformerPretrainedModel._from_config(config, attn_implementation="sdpa")
    return model.to(device=device, dtype=dtype).eval()


def tower_flops(n: int, cfg: dict = SEVEN_B) -> float:
    """FLOPs of the window-batched forward for one image of n patches (matmuls and attention only)."""
    d, inter = cfg["hidden_size"], cfg["intermediate_size"]
    window = (cfg["window_size"] // cfg["patch_size"]) ** 2
    full = len(cfg["fullatt_block_indexes"])
    linear = 2 * n * (d * 3 * d + d * d + 3 * d * inter)  # qkv, proj, gate/up/down per layer
    attn_window = 4 * n * window * d  # QK^T and PV over 64-patch windows
    attn_full = 4 * n * n * d
    patch_in = cfg["in_channels"] * cfg["temporal_patch_size"] * cfg["patch_size"] ** 2
    embed = 2 * n * patch_in * d
    m2 = cfg["spatial_merge_size"] ** 2
    merger = 2 * (n // m2) * (d * m2) * (d * m2 + cfg["out_hidden_size"])
    depth = cfg["depth"]
    return embed + depth * linear + (depth - full) * attn_window + full * attn_full + merger


def time_ms(fn: Callable[[], object], reps: int = 20, warmup: int = 3) -> float:
    """Median milliseconds: CUDA events on a GPU, the host clock elsewhere (the --smoke run)."""
    for _ in range(warmup):
        fn()
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        if not cuda:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
            continue
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def peak_bytes(fn: Callable[[], object]) -> tuple[int | None, object]:
    """Activation peak of one call: max_memory_allocated above what was allocated before it."""
    if not torch.cuda.is_available():
        return None, fn()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    out = fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base, out


def matmul_tflops(dtype: torch.dtype, device: str, size: int = 8192) -> float:
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    ms = time_ms(lambda: a @ b, reps=30, warmup=5)
    return 2 * size**3 / (ms * 1e-3) / 1e12


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return ((out.float() - ref.float()).norm() / ref.float().norm()).item()


def bench_size(
    model: torch.nn.Module,
    fast: torch.nn.Module,
    n: int,
    device: str,
    record: Callable[..., None],
    skip_hf_above: int,
) -> None:
    """All implementations at one size (bucket = n), plus a smaller image replayed in the same graph.

    ``model`` is the tower as transformers builds it; ``fast`` the same weights with the MLP width
    padded to a multiple of 64 (``pad_mlp_for_tensor_cores``, exact), which (c) runs on. (a) is also
    timed on ``fast`` and (c) on ``model`` so that the padding's share of the speed-up is visible.
    """
    h, w = GRIDS.get(n, (8, n // 8))
    gen = torch.Generator(device=device).manual_seed(n)
    pixels = torch.randn(n, 1176, device=device, generator=gen)
    grid = torch.tensor([[1, h, w]], device=device)
    reps = 3 if n >= 9216 else 5

    ref = None
    if n <= skip_hf_above:
        peak, ref = peak_bytes(lambda: model(pixels, grid_thw=grid).pooler_output)
        ms = time_ms(lambda: model(pixels, grid_thw=grid).pooler_output, reps=reps, warmup=1)
        record("hf_sdpa", n, n, ms, peak)

    def err(out: torch.Tensor, ref: torch.Tensor | None = ref) -> float | None:
        return None if ref is None else round(rel_err(out, ref), 5)

    peak, out = peak_bytes(lambda: K.dense_masked_vision_forward(model, pixels, grid, n))
    ms = time_ms(lambda: K.dense_masked_vision_forward(model, pixels, grid, n), reps=reps, warmup=1)
    record("dense_masked", n, n, ms, peak, rel_err_vs_hf_sdpa=err(out))
    del out

    if n <= skip_hf_above:
        ms = time_ms(lambda: fast(pixels, grid_thw=grid).pooler_output, reps=reps, warmup=1)
        record("hf_sdpa_padded_mlp", n, n, ms, None)
    ms = time_ms(lambda: K.bucketed_vision_forward(model, pixels, grid, n), reps=10, warmup=2)
    record("ours_eager_unpadded_mlp", n, n, ms, None)

    model = fast  # (c) from here on
    peak, out = peak_bytes(lambda: K.bucketed_vision_forward(model, pixels, grid, n))
    ms = time_ms(lambda: K.bucketed_vision_forward(model, pixels, grid, n), reps=20, warmup=3)
    record("ours_eager", n, n, ms, peak, rel_err_vs_hf_sdpa=err(out))

    peak, out32 = peak_bytes(lambda: K.bucketed_vision_forward(model, pixels, grid, n, fp32_softmax=True))
    ms = time_ms(
        lambda: K.bucketed_vision_forward(model, pixels, grid, n, fp32_softmax=True),
        reps=10,
        warmup=2,
    )
    record("ours_eager_fp32_softmax", n, n, ms, peak, rel_err_vs_hf_sdpa=err(out32))

    base = torch.cuda.memory_allocated() if device == "cuda" else 0
    capture_peak, runner = peak_bytes(lambda: K.BucketGraph(model, n))
    retained = torch.cuda.memory_allocated() - base if device == "cuda" else None
    graph_out = runner(pixels, grid)
    ms = time_ms(lambda: runner(pixels, grid), reps=30, warmup=3)
    record(
        "ours_graph",
        n,
        n,
        ms,
        capture_peak,
        retained_bytes=retained,
        rel_err_vs_hf_sdpa=err(graph_out),
        rel_err_vs_ours_eager=round(rel_err(graph_out, out), 6),
        peak_note="peak during capture (warm-up + capture); replays allocate nothing",
    )
    if runner.graph is not None:
        ms = time_ms(runner.graph.replay, reps=30, warmup=3)
        record("ours_graph_replay", n, n, ms, None)

    if device == "cuda":  # elementwise chains fused by torch.compile (compiled once per bucket shape)
        peak, fused_out = peak_bytes(lambda: K.bucketed_vision_forward(model, pixels, grid, n, fused=True))
        ms = time_ms(lambda: K.bucketed_vision_forward(model, pixels, grid, n, fused=True), reps=20, warmup=2)
        record(
            "ours_fused_eager",
            n,
            n,
            ms,
            peak,
            rel_err_vs_hf_sdpa=err(fused_out),
            rel_err_vs_ours_eager=round(rel_err(fused_out, out), 6),
        )
        fused_peak, fused_runner = peak_bytes(lambda: K.BucketGraph(model, n, fused=True))
        fused_graph_out = fused_runner(pixels, grid)
        ms = time_ms(lambda: fused_runner(pixels, grid), reps=30, warmup=3)
        record(
            "ours_fused_graph",
            n,
            n,
            ms,
            fused_peak,
            rel_err_vs_hf_sdpa=err(fused_graph_out),
            rel_err_vs_ours_graph=round(rel_err(fused_graph_out, graph_out), 6),
        )
        ms = time_ms(fused_runner.graph.replay, reps=30, warmup=3)
        record("ours_fused_graph_replay", n, n, ms, None)

    # Replay with a smaller image (stale rows in the buffers) equals the eager padded forward.
    hs, ws = max(8, h - 8), w
    small = pixels[: hs * ws]
    replayed = runner(small, [1, hs, ws])
    eager_small = K.bucketed_vision_forward(model, small, [1, hs, ws], n)
    diff = (replayed.float() - eager_small.float()).abs().max().item()
    ms = time_ms(lambda: K.bucketed_vision_forward(model, small, [1, hs, ws], n), reps=10, warmup=2)
    record(
        "ours_eager_padded",
        hs * ws,
        n,
        ms,
        None,
        graph_replay_max_abs_diff=diff,
        graph_replay_equal=bool(torch.equal(replayed, eager_small)),
    )


def vllm_layout_tower(visual: torch.nn.Module):  # noqa: ANN201
    """The tower in vLLM's tensor layout, built without vLLM (no vLLM build runs on the device machine):
    ``qkv``/``proj`` return ``(output, bias)`` tuples unpacked by the adapter, the MLP is ONE merged
    ``gate_up`` matmul + SiLU-and-mul + ``down`` (vLLM's ``Qwen2_5_VisionMLP``), norms are opaque module
    calls. So the packed path runs with none of the transformers-only fusions (RMSNorm, SiLU gate)."""
    from gaudi_vl.kernels.tower import TowerBlock, as_tower

    base = as_tower(visual)

    def merged_mlp(mlp: torch.nn.Module):  # noqa: ANN202
        w = torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).detach()
        b = torch.cat([mlp.gate_proj.bias, mlp.up_proj.bias]).detach()
        width = mlp.gate_proj.weight.shape[0]

        def run(x: torch.Tensor) -> torch.Tensor:
            gate_up = torch.nn.functional.linear(x, w, b)
            return mlp.down_proj(torch.nn.functional.silu(gate_up[:, :width]) * gate_up[:, width:])

        return run

    def tuple_out(lin: torch.nn.Module):  # noqa: ANN202
        return lambda x: (lin(x), None)[0]

    blocks = tuple(
        TowerBlock(
            norm1=blk.norm1,
            qkv=tuple_out(blk.attn.qkv),
            proj=tuple_out(blk.attn.proj),
            norm2=blk.norm2,
            mlp=merged_mlp(blk.mlp),
        )
        for blk in visual.blocks
    )
    import dataclasses

    return dataclasses.replace(base, blocks=blocks, layouts={})


def hf_reference(model: torch.nn.Module, n: int, device: str, record: Callable[..., None]) -> torch.Tensor:
    """(a) transformers' tower at n patches, timed; returns its output (the accuracy reference)."""
    h, w = GRIDS.get(n, (8, n // 8))
    gen = torch.Generator(device=device).manual_seed(n)
    pixels = torch.randn(n, 1176, device=device, generator=gen)
    grid = torch.tensor([[1, h, w]], device=device)
    ref = model(pixels, grid_thw=grid).pooler_output
    ms = time_ms(lambda: model(pixels, grid_thw=grid).pooler_output, reps=3 if n >= 9216 else 5, warmup=1)
    record("hf_sdpa", n, n, ms, None)
    return ref


def _full_choices() -> dict:
    from gaudi_vl.kernels.fast import _FULL_CHOICE

    return _FULL_CHOICE


def bench_packed(model: torch.nn.Module, n: int, device: str, record: Callable[..., None], ref) -> None:  # noqa: ANN001
    """The default path of ``accelerate`` on CUDA: packed, varlen FlashAttention, Triton elementwise,
    one CUDA graph per bucket (``gaudi_vl.kernels.packed``); ``model`` has the padded MLP."""
    from gaudi_vl.kernels.packed import PackedGraph, packed_vision_forward, variant_for
    from gaudi_vl.kernels.tower import as_tower

    h, w = GRIDS.get(n, (8, n // 8))
    gen = torch.Generator(device=device).manual_seed(n)
    pixels = torch.randn(n, 1176, device=device, generator=gen)
    tower = as_tower(model)

    def err(out: torch.Tensor) -> float | None:
        return None if ref is None else round(rel_err(out, ref), 5)

    peak, out = peak_bytes(lambda: packed_vision_forward(tower, pixels, [(h, w)], n))
    ms = time_ms(lambda: packed_vision_forward(tower, pixels, [(h, w)], n), reps=20, warmup=3)
    record("packed_eager", n, n, ms, peak, rel_err_vs_hf_sdpa=err(out))
    t0 = time.perf_counter()
    variant = variant_for(tower, [(h, w)], n, pixels.device)
    capture_peak, graph = peak_bytes(lambda: PackedGraph(tower, n, variant=variant))
    capture_s = time.perf_counter() - t0
    gout, _ = graph(pixels, [(h, w)])
    ms = time_ms(lambda: graph(pixels, [(h, w)]), reps=30, warmup=3)
    record(
        "packed_graph",
        n,
        n,
        ms,
        capture_peak,
        capture_s=round(capture_s, 3),
        variant=str(variant),
        full_attention_choice=dict((str(k[0]), v) for k, v in _full_choices().items()),
        rel_err_vs_hf_sdpa=err(gout),
        rel_err_vs_packed_eager=round(rel_err(gout, out), 6),
    )
    if graph.graph is not None:
        record("packed_graph_replay", n, n, time_ms(graph.graph.replay, reps=30, warmup=3), None)
    # fp32 softmax: the packed path's FlashAttention already keeps softmax statistics in fp32, so the
    # switch runs the same graph; the unpacked path's fp32 attention (q/k/v upcast) is timed beside it.
    ms32 = time_ms(lambda: K.bucketed_vision_forward(model, pixels, [1, h, w], n, fp32_softmax=True), 5, 1)
    record("unpacked_eager_fp32_softmax_upcast", n, n, ms32, None)
    ms16 = time_ms(lambda: K.bucketed_vision_forward(model, pixels, [1, h, w], n), 5, 1)
    record("unpacked_eager", n, n, ms16, None)
    vtower = vllm_layout_tower(model)
    vgraph = PackedGraph(vtower, n, variant=variant)
    vout, _ = vgraph(pixels, [(h, w)])
    ms = time_ms(lambda: vgraph(pixels, [(h, w)]), reps=30, warmup=3)
    record("packed_graph_vllm_layout", n, n, ms, None, rel_err_vs_hf_sdpa=err(vout))
    from gaudi_vl.kernels.packed import Variant

    if variant.exact_fill:  # the key-mask graph the frame would get with one pad slot
        keymask = Variant(dense_full=True, batched_windows=variant.batched_windows)
        kgraph = PackedGraph(tower, n, variant=keymask)
        ms = time_ms(lambda: kgraph(pixels, [(h, w)]), reps=30, warmup=3)
        record("packed_graph_keymask", n, n, ms, None, rel_err_vs_hf_sdpa=err(kgraph(pixels, [(h, w)])[0]))
        del kgraph
    vgraph = PackedGraph(tower, n, variant=Variant())
    ms = time_ms(lambda: vgraph(pixels, [(h, w)]), reps=30, warmup=3)
    record("packed_graph_varlen_only", n, n, ms, None, rel_err_vs_hf_sdpa=err(vgraph(pixels, [(h, w)])[0]))


def profile_packed(model: torch.nn.Module, n: int) -> None:
    """Top CUDA kernels of one packed eager forward (the default path's kernels)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from gaudi_vl.kernels.packed import packed_vision_forward

    h, w = GRIDS.get(n, (8, n // 8))
    pixels = torch.randn(n, 1176, device="cuda")
    with torch.no_grad():
        packed_vision_forward(model, pixels, [(h, w)], n)
        torch.cuda.synchronize()
        with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
            packed_vision_forward(model, pixels, [(h, w)], n)
            torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=20, max_name_column_width=70))


def profile(model: torch.nn.Module, n: int) -> None:
    """Top CUDA kernels of one eager forward of (c): where the time over the floor goes."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    h, w = GRIDS.get(n, (8, n // 8))
    pixels = torch.randn(n, 1176, device="cuda")
    grid = [1, h, w]
    with torch.no_grad():
        K.bucketed_vision_forward(model, pixels, grid, n)
        torch.cuda.synchronize()
        with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
            K.bucketed_vision_forward(model, pixels, grid, n)
            torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patches", type=int, nargs="+", default=sorted(GRIDS))
    parser.add_argument("--out", type=Path, default=ROOT / "tools" / "results" / "vision_tower_h100.json")
    parser.add_argument("--skip-hf-above", type=int, default=1 << 30, help="skip (a) above this many patches")
    parser.add_argument("--profile", action="store_true", help="print the top CUDA kernels of (c) eager")
    parser.add_argument("--smoke", action="store_true", help="tiny tower on the CPU: checks the script runs")
    parser.add_argument(
        "--packed-only",
        action="store_true",
        help="only (a) and the packed default path of accelerate (issue 20), not the issue-7 variants",
    )
    args = parser.parse_args()
    import transformers

    dtype = torch.bfloat16
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = SMOKE if args.smoke else SEVEN_B
    device_name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu"
    meta = {
        "dtype": "bfloat16",
        "device": device_name,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "triton": _version("triton"),
    }
    print(json.dumps(meta), flush=True)
    rate = matmul_tflops(dtype, device, 1024 if args.smoke else 8192)
    print(f"bf16 matmul 8192^3: {rate:.1f} TFLOP/s", flush=True)
    model = build_tower(cfg, dtype, device)
    fast = K.fuse_gate_up(K.pad_mlp_for_tensor_cores(copy.deepcopy(model)))  # as accelerate() on CUDA
    records: list[dict] = []

    def record(impl: str, n: int, bucket: int, ms: float | None, peak: int | None, **extra: object) -> None:
        flops = tower_flops(n, cfg)
        row = {
            "impl": impl,
            "patches": n,
            "bucket": bucket,
            "ms": None if ms is None else round(ms, 3),
            "peak_activation_bytes": peak,
            "floor_ms": round(flops / (rate * 1e12) * 1e3, 3),
            "tower_gflop": round(flops / 1e9, 1),
            **meta,
            **extra,
        }
        records.append(row)
        print(json.dumps(row), flush=True)

    with torch.no_grad():
        for n in args.patches:
            if args.packed_only:
                bench_packed(fast, n, device, record, hf_reference(model, n, device, record))
            else:
                bench_size(model, fast, n, device, record, args.skip_hf_above)
            if device == "cuda":
                torch.cuda.empty_cache()

        # Accuracy in bf16 against an fp32 copy of the same weights (small sizes: fp32 HF is slow).
        model32 = copy.deepcopy(model).float()
        for n in [s for s in args.patches if s <= 4096]:
            h, w = GRIDS.get(n, (8, n // 8))
            pixels = torch.randn(
                n, 1176, device=device, generator=torch.Generator(device=device).manual_seed(7)
            )
            grid = torch.tensor([[1, h, w]], device=device)
            ref32 = model32(pixels, grid_thw=grid).pooler_output
            from gaudi_vl.kernels.packed import packed_vision_forward

            accuracy = {
                "hf_sdpa_bf16": rel_err(model(pixels, grid_thw=grid).pooler_output, ref32),
                "packed_bf16": rel_err(packed_vision_forward(fast, pixels, [(h, w)], n), ref32),
                "ours_bf16": rel_err(K.bucketed_vision_forward(model, pixels, grid, n), ref32),
                "ours_bf16_fp32_softmax": rel_err(
                    K.bucketed_vision_forward(model, pixels, grid, n, fp32_softmax=True), ref32
                ),
                "ours_fp32": rel_err(K.bucketed_vision_forward(model32, pixels, grid, n), ref32),
            }
            record("accuracy_vs_fp32_hf", n, n, None, None, **{k: round(v, 6) for k, v in accuracy.items()})

    if args.profile and device == "cuda":
        if args.packed_only:
            for n in args.patches:
                profile_packed(fast, n)
        else:
            profile(fast, max(args.patches))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1) + "\n")
    print(f"\nbf16 matmul rate {rate:.1f} TFLOP/s on {device_name}")
    print(f"{'impl':26s} {'patches':>7s} {'bucket':>7s} {'ms':>9s} {'floor ms':>9s} {'peak MiB':>9s}")
    for row in records:
        if row["ms"] is None:
            continue
        peak = "-" if row["peak_activation_bytes"] is None else f"{row['peak_activation_bytes'] / 2**20:.0f}"
        sizes = f"{row['patches']:7d} {row['bucket']:7d}"
        print(f"{row['impl']:26s} {sizes} {row['ms']:9.2f} {row['floor_ms']:9.2f} {peak:>9s}")


if __name__ == "__main__":
    main()
