"""``gaudi-vl doctor`` end to end: files, JSON, exit codes and a live pipe."""

from __future__ import annotations

import io
import json
import selectors
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gaudi_vl.cli.doctor import iter_chunks
from tests.test_doctor import DOCS_LOG, OOM_ALLOC, OOM_DEFRAG, SERVING

DOCTOR = [sys.executable, "-m", "gaudi_vl", "doctor"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DOCTOR, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_healthy_log_text(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(DOCS_LOG + SERVING)
    r = run(str(log))
    assert r.returncode == 0, r.stderr
    assert "reached: serving" in r.stdout
    assert "[KV allocation] line 5: free 79.16 GiB" in r.stdout


def test_failure_json_and_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(DOCS_LOG + OOM_ALLOC)
    r = run(str(log), "--format", "json")
    assert r.returncode == 3
    report = json.loads(r.stdout)
    assert report["failed"] and report["failure_phase"] == "warm-up/graph capture"
    assert any("VLLM_GRAPH_RESERVED_MEM=" in a for a in report["advice"])


def test_unrecognised_log_says_so_and_exits_1() -> None:
    r = run("-", stdin="just some text\nnothing from an engine\n")
    assert r.returncode == 1
    assert "no engine log line recognised" in r.stderr


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    r = run(str(tmp_path / "nope.log"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_live_pipe_prints_advice_as_lines_arrive() -> None:
    proc = subprocess.Popen([*DOCTOR, "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        # 75.2 GiB free at utilization 0.9 leaves 7.52 GiB: less than the tower needs for 65536 patches
        budget = ("INFO 11-25 10:00:20 [hpu_worker.py:313] Free device memory: 75.2 GiB, 67.68 GiB usable "
                  "(gpu_memory_utilization=0.9), 6.768 GiB reserved for HPUGraphs "
                  "(VLLM_GRAPH_RESERVED_MEM=0.1), 60.91 GiB reserved for KV cache\n")
        proc.stdin.write(budget)
        proc.stdin.flush()
        assert sel.select(timeout=20), "no output while the pipe is still open"
        first = proc.stdout.readline()
        assert "free 75.20 GiB" in first  # reported before the input ended
        proc.stdin.write(SERVING + "Padding current image size 16000 to 65536\n" + OOM_DEFRAG)
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "FAILED in serving" in rest and "lower max_pixels to" in rest


CORPUS = Path(__file__).parent / "doctor_corpus"


def test_non_memory_failure_json_keeps_the_verdict_keys() -> None:
    """A real vllm-gaudi paste (warm-up traceback of Worker_TP6): failed, its phase, no memory advice."""
    r = run(str(CORPUS / "gaudi192_worker_tp6_warmup_ansi.log"), "--format", "json", "--target", "vllm-gaudi")
    assert r.returncode == 3, r.stderr
    report = json.loads(r.stdout)
    assert {"failed", "failure_phase", "phase_reached"} <= set(report)
    assert (report["failed"], report["failure_phase"], report["phase_reached"]) == (
        True, "warm-up/graph capture", "warm-up/graph capture")
    assert report["advice"] == []


def test_text_names_the_failure_and_says_no_memory_advice() -> None:
    r = run(str(CORPUS / "fork880_specdecode_warmup_assertion.log"))
    assert r.returncode == 3
    assert "FAILED in warm-up/graph capture: assertion failed: AssertionError: HabanaWorker" in r.stdout
    assert "advice: none from the log's numbers (not an out-of-memory failure)" in r.stdout


def test_log_that_stops_says_where_and_unreadable_lines_are_listed() -> None:
    r = run(str(CORPUS / "synth_fork_decode_warmup_stops.log"), "--target", "vllm-fork")
    assert r.returncode == 0
    assert "log ends during decode warm-up step 204/416 with 14.93 GiB free" in r.stdout
    assert "looks healthy" not in r.stdout
    r = run(str(CORPUS / "synth_unreadable_numbers.log"))
    assert r.returncode == 0
    assert "unreadable lines: 3 (line 2, 3, 5)" in r.stdout


def test_target_choices() -> None:
    for target in ("vllm-fork-1.21", "vllm-fork", "vllm-gaudi", "vllm"):
        assert run("-", "--target", target, stdin=SERVING).returncode == 0
    r = run("-", "--target", "tgi", stdin=SERVING)
    assert r.returncode == 2 and "--target" in r.stderr


def test_unknown_phase_is_said_not_guessed() -> None:
    """A failure whose log shows no phase (a real paste: only the client's view of an engine death)."""
    log = str(CORPUS / "vllm19415_engine_core_init_failed_tail.log")
    r = run(log)
    assert r.returncode == 3
    assert "FAILED (phase unknown" in r.stdout and "start-up/weights" not in r.stdout
    report = json.loads(run(log, "--format", "json").stdout)
    assert report["failed"] and report["failure_phase"] is None


def test_healthy_start_up_and_shutdown_noise_are_not_failures() -> None:
    r = run(str(CORPUS / "club3090_1107_healthy_routes.log"))
    assert r.returncode == 0 and "reached: serving" in r.stdout
    assert "hung" not in r.stdout and "FAILED" not in r.stdout
    r = run(str(CORPUS / "vllm8208_ray_graph_capture_then_del_noise.log"))
    assert r.returncode == 0 and "FAILED" not in r.stdout and "hung" not in r.stdout
    assert "shutdown noise: 1 teardown traceback(s)" in r.stdout


def test_warmup_finished_log_is_not_called_hung() -> None:
    line = "INFO 11-25 10:05:00 [hpu_model_runner.py:6306] Warmup finished in 300 secs, allocated 3.1 GiB\n"
    r = run("-", stdin=line)
    assert r.returncode == 0
    assert "after warm-up finished" in r.stdout and "hung" not in r.stdout


class _Trickle(io.RawIOBase):
    """A byte stream that hands out at most ``step`` bytes per read (a pipe, a slow writer)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # noqa: ANN001 -- a writable buffer
        n = min(len(buf), self.step, len(self.data) - self.pos)
        buf[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"")), st.integers(1, 37), st.integers(1, 24))
def test_chunked_reader_gives_every_line_cut_to_keep_whatever_the_piece_sizes(data: bytes, step: int,
                                                                               keep: int) -> None:
    stream = io.TextIOWrapper(io.BufferedReader(_Trickle(data, step)), encoding="utf-8", errors="replace")
    got = [line for chunk in iter_chunks(stream, keep) for line in chunk]
    pieces = data.decode("utf-8", errors="replace").split("\n")
    want = [p[:keep] + "\n" for p in pieces[:-1]] + ([pieces[-1][:keep]] if pieces[-1] else [])
    if pieces[-1] and len(pieces[-1]) >= keep:  # an unfinished runaway line is closed at ``keep``
        want[-1] = pieces[-1][:keep] + "\n"
    assert got == want
