"""The log doctor on real engine lines (reference notes, vllm-fork docs, engine format strings)."""

# ruff: noqa: E501  (log lines are quoted verbatim)

from __future__ import annotations

import re
import time

import pytest

from gaudi_vl.doctor import MAX_KEPT_FINDINGS, Doctor, Phase
from gaudi_vl.models import builtin_model

GIB = 2**30

# vllm-fork docs "Managing memory" / README_GAUDI log excerpt (Llama-3.1-8B on Gaudi2), verbatim
DOCS_LOG = """\
INFO 08-02 17:37:52 hpu_model_runner.py:430] Pre-loading model weights on hpu:0 took 14.97 GiB of device memory (14.97 GiB/94.62 GiB used) and 2.95 GiB of host memory (475.2 GiB/1007 GiB used)
INFO 08-02 17:37:52 hpu_model_runner.py:438] Wrapping in HPU Graph took 0 B of device memory (14.97 GiB/94.62 GiB used) and -252 KiB of host memory (475.2 GiB/1007 GiB used)
INFO 08-02 17:37:52 hpu_model_runner.py:442] Loading model weights took in total 14.97 GiB of device memory (14.97 GiB/94.62 GiB used) and 2.95 GiB of host memory (475.2 GiB/1007 GiB used)
INFO 08-02 17:37:54 hpu_worker.py:134] Model profiling run took 504 MiB of device memory (15.46 GiB/94.62 GiB used) and 180.9 MiB of host memory (475.4 GiB/1007 GiB used)
INFO 08-02 17:37:54 hpu_worker.py:158] Free device memory: 79.16 GiB, 39.58 GiB usable (gpu_memory_utilization=0.5), 15.83 GiB reserved for HPUGraphs (VLLM_GRAPH_RESERVED_MEM=0.4), 23.75 GiB reserved for KV cache
INFO 08-02 17:37:54 hpu_executor.py:85] # HPU blocks: 1519, # CPU blocks: 0
INFO 08-02 17:37:54 hpu_worker.py:190] Initializing cache engine took 23.73 GiB of device memory (39.2 GiB/94.62 GiB used) and -1.238 MiB of host memory (475.4 GiB/1007 GiB used)
INFO 08-02 17:37:54 hpu_model_runner.py:1066] [Warmup][Prompt][1/24] batch_size:4 seq_len:1024 free_mem:55.43 GiB
INFO 08-02 17:38:22 hpu_model_runner.py:1066] [Warmup][Decode][48/48] batch_size:1 seq_len:128 free_mem:55.43 GiB
INFO 08-02 17:38:22 hpu_model_runner.py:1159] Using 15.85 GiB/55.43 GiB of free device memory for HPUGraphs, 4.755 GiB for prompt and 11.095 GiB for decode (VLLM_GRAPH_PROMPT_RATIO=0.3)
INFO 08-02 17:38:22 hpu_model_runner.py:1066] [Warmup][Graph/Prompt][1/24] batch_size:1 seq_len:128 free_mem:55.43 GiB
"""
SERVING = "INFO:     Application startup complete.\n"
OOM_ALLOC = "RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM Allocation failed for size::939524096 (896)MB\n"
OOM_DEFRAG = "RuntimeError: [Rank:0] FATAL ERROR :: MODULE:PT_DEVMEM OOM: No enough memory for defragment.\n"
# vllm-gaudi hpu_worker.determine_available_memory's f-string, filled in
GAUDI_BUDGET = ("INFO 03-01 10:00:00 [hpu_worker.py:300] Free device memory: 60.5 GiB, 54.45 GiB usable "
                "(gpu_memory_utilization=0.9), 5.445 GiB reserved for HPUGraphs (VLLM_GRAPH_RESERVED_MEM=0.1), "
                "128 KiB reserved for KV cache dummy block 49 GiB reserved for usable KV cache\n")


def feed_all(doctor: Doctor, text: str) -> None:
    for line in text.splitlines(keepends=True):
        doctor.feed(line)


def test_docs_log_values_and_phase() -> None:
    d = Doctor()
    feed_all(d, DOCS_LOG)
    r = d.report()
    assert r.recognised and not r.failed
    assert r.phase_reached is Phase.WARMUP
    m = r.memory
    assert m["free_bytes"] == int(79.16 * GIB)
    assert m["gpu_memory_utilization"] == 0.5 and m["graph_reserved_mem"] == 0.4
    assert m["kv_cache_bytes"] == int(23.75 * GIB)
    assert m["kv_blocks"] == 1519
    assert m["graph_prompt_ratio"] == 0.3 and m["graph_prompt_bytes"] == int(4.755 * GIB)
    assert m["weights_bytes"] == int(14.97 * GIB) and m["device_total_bytes"] == int(94.62 * GIB)
    # the engine's own identities hold on the parsed numbers (to the log's rounding)
    assert abs(m["usable_bytes"] - m["free_bytes"] * 0.5) < 0.01 * GIB
    assert abs(m["graph_reserve_bytes"] + m["kv_cache_bytes"] - m["usable_bytes"]) < 0.01 * GIB
    assert r.advice == ()


def test_vllm_gaudi_budget_line_uses_the_usable_kv() -> None:
    d = Doctor()
    [f] = d.feed(GAUDI_BUDGET)
    assert f.kind == "budget" and f.phase is Phase.KV_ALLOCATION
    assert d.report().memory["kv_cache_bytes"] == 49 * GIB


@pytest.mark.parametrize(
    ("prefix_lines", "phase"),
    [(1, Phase.STARTUP), (4, Phase.PROFILING), (6, Phase.KV_ALLOCATION), (11, Phase.WARMUP)],
)
def test_failure_phase_follows_the_last_milestone(prefix_lines: int, phase: Phase) -> None:
    d = Doctor()
    feed_all(d, "".join(DOCS_LOG.splitlines(keepends=True)[:prefix_lines]) + OOM_ALLOC)
    r = d.report()
    assert r.failed and r.failure_phase is phase
    assert "0.88 GiB" in (r.failure or "")
    assert r.advice


def test_kv_allocation_oom_lowers_utilization_by_the_failed_amount() -> None:
    d = Doctor()
    feed_all(d, "".join(DOCS_LOG.splitlines(keepends=True)[:6]) + OOM_ALLOC)
    advice = " ".join(d.report().advice)
    m = re.search(r"--gpu-memory-utilization ([\d.]+) \(from 0.5\)", advice)
    assert m and float(m.group(1)) < 0.5 - 0.896 / 79.16 * 0.99


def test_graph_capture_oom_raises_graph_reserve() -> None:
    d = Doctor()
    feed_all(d, DOCS_LOG + OOM_ALLOC)
    advice = " ".join(d.report().advice)
    m = re.search(r"VLLM_GRAPH_RESERVED_MEM=([\d.]+) \(from 0.4\)", advice)
    assert m and 0.4 < float(m.group(1)) <= 0.9


def test_serving_defrag_oom_after_big_image_gives_vision_advice() -> None:
    d = Doctor(builtin_model("qwen2.5-vl-7b"))
    feed_all(d, DOCS_LOG + SERVING
             + "INFO 06-23 17:00:01 [qwen2_5_vl.py:900] Padding current image size 1980 to 3136\n"
             + "INFO 06-23 17:00:02 [hpu_model_runner.py:1] Padding current number pixel 16000 to 65536\n"
             + OOM_DEFRAG)
    r = d.report()
    assert r.failure_phase is Phase.SERVING
    assert (r.images_padded, r.largest_bucket_seen, r.largest_image_seen) == (2, 65536, 16000)
    advice = " ".join(r.advice)
    m = re.search(r"lower max_pixels to (\d+) \(largest bucket (\d+) patches\)", advice)
    assert m and int(m.group(1)) == int(m.group(2)) * 196 and int(m.group(2)) < 65536
    assert "raise --tp to 2" in advice


def test_recompile_and_preemption_lines() -> None:
    lines = [
        "WARNING 04-28 07:43:17 [hpu_model_runner.py:1013] Configuration: ('prompt', 16, 896) was not warmed-up!\n",
        "Configuration: (prompt, 1, 36864) was not warmed-up!\n",
        "WARNING [hpu_worker.py:1] [HPUWorker.execute_model] graph compilation detected: [('graph_compilation', 1)]\n",
        ("WARNING Sequence group cmpl-3cbf19b0c6d74b3f90b5d5db2ed2385e-0 is preempted by PreemptionMode.RECOMPUTE "
         "mode because there is not enough KV cache space. This can affect the end-to-end performance.\n"),
    ]
    d = Doctor()
    for line in lines:
        d.feed(line)
    r = d.report()
    assert (r.recompilations, r.preemptions) == (3, 1)
    assert any("compiled while serving" in a for a in r.advice)
    assert any("preemption" in a for a in r.advice)


def test_unrecognised_and_truncated_lines() -> None:
    """Unknown lines say nothing; a marker line whose numbers are cut off is "unreadable line N"."""
    d = Doctor()
    for line in ["hello\n", "", "INFO 08-02 17:37:54 hpu_worker.py:158] Free dev"]:
        assert d.feed(line) == []
    [f] = d.feed("Free device memory: 79.16 Gi")
    assert f.kind == "unreadable" and f.message.startswith("unreadable line 4")
    r = d.report()
    assert not r.recognised and r.lines_read == 4 and r.phase_reached is None
    assert (r.unreadable_lines, r.unreadable_line_numbers) == (1, (4,))
    assert d.internal_errors == 0


def test_huge_log_keeps_constant_memory() -> None:
    d = Doctor()
    pad = "INFO [qwen2_5_vl.py:900] Padding current image size 1980 to 3136\n"
    warn = "Configuration: ('decode', 4, 128) was not warmed-up!\n"
    budget = DOCS_LOG.splitlines(keepends=True)[4]
    t0 = time.perf_counter()
    for i in range(60_000):
        d.feed(pad)
        d.feed(warn)
        if i % 10 == 0:
            d.feed(budget)
    assert time.perf_counter() - t0 < 10
    r = d.report()
    assert r.images_padded == 60_000 and r.recompilations == 60_000
    assert len(r.findings) <= MAX_KEPT_FINDINGS
    assert r.to_dict()["lines_read"] == 126_000
