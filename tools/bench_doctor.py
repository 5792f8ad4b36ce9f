"""Reading speed and memory of ``gaudi-vl doctor`` on a large synthetic engine log.

    python tools/bench_doctor.py [--mb 200] [--keep PATH] [--runs 3]

The log is built from real line shapes (the corpus' vllm-gaudi start-up up to its KV cache, warm-up
step lines, uvicorn access lines, vLLM request records and throughput lines, Qwen2.5-VL padding lines) with
changing numbers: a full start-up, then warm-up steps, then serving until ``--mb`` MB, then one
out-of-memory failure. Each run is ``python -m gaudi_vl doctor LOG --format json`` in a child process
(process start included); printed: MB/s per run and the child's peak RSS (``ru_maxrss``). The report
must say failed in serving with the OOM, or the benchmark exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "doctor_corpus"


def serving_block(i: int) -> str:
    t = f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
    return (
        f"(APIServer pid=1) INFO 11-25 {t} [logger.py:43] Received request chatcmpl-{i:032x}: prompt: "
        f"'<|im_start|>user\\n<|vision_start|><|image_pad|><|vision_end|>Describe image {i}', params: "
        f"SamplingParams(n=1, temperature=0.0, max_tokens=128)\n"
        f"(EngineCore_DP0 pid=469) INFO 11-25 {t} [qwen2_5_vl.py:400] Padding current image size "
        f"{1900 + i % 140} to 2048\n"
        f"(APIServer pid=1) INFO:     10.0.0.{i % 250}:{40000 + i % 20000} - \"POST /v1/chat/completions "
        f"HTTP/1.1\" 200 OK\n"
        f"(APIServer pid=1) INFO 11-25 {t} [loggers.py:123] Engine 000: Avg prompt throughput: "
        f"{1000 + i % 900}.5 tokens/s, Avg generation throughput: {80 + i % 40}.1 tokens/s, Running: "
        f"{i % 16} reqs, Waiting: 0 reqs, GPU KV cache usage: {i % 100}.0%, Prefix cache hit rate: 0.0%\n"
    )


def warmup_block(i: int, n: int) -> str:
    return (f"(Worker_TP0 pid=635023) INFO 11-25 10:00:{i % 60:02d} [hpu_model_runner.py:5231] "
            f"[Warmup][Graph/prompt][{i}/{n}] batch_size:{1 + i % 64} query_len:{128 * (1 + i % 32)} "
            f"num_blocks:{i % 512} free_mem:{14.93 - i * 1e-4:.4g} GiB\n")


def build(path: Path, mb: float) -> None:
    target = int(mb * 1e6)
    head = (CORPUS / "synth_gaudi_serving_healthy.log").read_text().splitlines(keepends=True)
    first_step = next(i for i, line in enumerate(head) if "[Warmup][" in line)
    start = head[:first_step]  # the start-up through the KV cache; the warm-up and serving follow
    with path.open("w", encoding="utf-8") as f:
        f.write("".join(start))
        n = 20_000
        f.write("".join(warmup_block(i, n) for i in range(1, n + 1)))
        f.write("INFO 11-25 10:05:00 [hpu_model_runner.py:6306] Warmup finished in 300 secs, "
                "allocated 3.1 GiB\n")
        f.write("(APIServer pid=1) INFO:     Application startup complete.\n")
        i = 0
        while f.tell() < target:
            f.write("".join(serving_block(i + k) for k in range(1000)))
            i += 1000
        f.write("RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM Allocation failed for "
                "size::939524096 (896)MB\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=200.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--keep", type=Path, default=None, help="write the log here and keep it")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log = args.keep or Path(tmp) / "big.log"
        build(log, args.mb)
        size = log.stat().st_size
        print(f"log: {size / 1e6:.1f} MB, {sum(1 for _ in log.open('rb')):,} lines")
        for run in range(args.runs):
            t0 = time.perf_counter()
            cmd = [sys.executable, "-m", "gaudi_vl", "doctor", str(log), "--format", "json"]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
            wall = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            report = json.loads(proc.stdout)
            ok = report["failed"] and report["failure_phase"] == "serving" and report["failure_kind"] == "oom"
            print(f"run {run + 1}: {wall:.2f} s, {size / 1e6 / wall:.1f} MB/s, peak RSS (max over runs) "
                  f"{rss:.0f} MiB, verdict {'ok' if ok else 'WRONG'} ({report['failure_phase']}, "
                  f"{report['failure_kind']}, {report['images_padded']:,} images)")
            if not ok:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
