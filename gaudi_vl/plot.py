"""``--plot FILE.png``: the workload's patch-count histogram, bucket edges and padding waste.

An edge: matplotlib is imported lazily (Agg backend, no display needed) and only here. Two
panels share the x axis: the optimal buckets on top, the engine's default list below. Each bar is
the number of images at one aligned patch count; the shaded box from a bar to its bucket edge
has area ``images x padded patches``, so the shaded area IS the padding waste of that plan.

The file's suffix picks the format, one of :data:`FORMATS` (formats that need more than
matplotlib, such as PGF's LaTeX, are left out); any other suffix is a one-line error before
anything is drawn. The file is written
like every gaudi-vl output (``gaudi_vl.fileio.atomic_writer``: never half a file, never over a link,
a device or a folder).
"""

from __future__ import annotations

from pathlib import Path

from gaudi_vl.buckets.optimizer import BucketScore
from gaudi_vl.buckets.planner import BucketPlan
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.fileio import atomic_writer, check_writable_target
from gaudi_vl.workload import WorkloadReport

FORMATS: tuple[str, ...] = ("png", "svg", "pdf", "jpg", "jpeg")
"""``--plot`` suffixes: formats matplotlib writes with no extra program."""


MAX_BARS = 1000
"""Bars drawn per panel at most: sizes are summed into bins of equal width beyond that, so a
workload of 262,144 distinct sizes draws 1000 bars, not 262,144 artists (it took 75 s and 2.6 GB)."""
SHADE_POINTS = 2000
"""Points of the padding outline per bucket at most."""


def _panel(ax, report: WorkloadReport, score: BucketScore, title: str, xmax: int) -> None:  # noqa: ANN001
    """One plan's panel; its number of artists is bounded whatever the number of distinct sizes.

    The padding is drawn, per bucket ``(prev, b]``, as the cumulative image count ``N(x)`` of the
    sizes in ``(prev, x]`` from ``prev`` to ``b``: its area is ``sum n_v (b - v)``, exactly the
    padded patches of that bucket (the boxes from each bar to its bucket edge, stacked).
    """
    import numpy as np

    hist = report.workload.histogram
    patches = np.asarray(hist.patches, dtype=np.float64)
    counts = np.asarray(hist.counts, dtype=np.float64)
    bin_px = max(1, -(-int(xmax) // MAX_BARS))
    if len(patches) > MAX_BARS:
        bins = np.floor(patches / bin_px)
        keys, where = np.unique(bins, return_inverse=True)
        ax.bar((keys + 0.5) * bin_px, np.bincount(where, weights=counts), width=bin_px,
               color="#1f4e79", label="images", zorder=3)
    else:
        ax.bar(patches, counts, width=48, color="#1f4e79", label="images", zorder=3)
    prev = 0
    for b in sorted(score.buckets):
        lo, hi = np.searchsorted(patches, prev, side="right"), np.searchsorted(patches, b, side="right")
        if hi > lo:
            xs = np.linspace(patches[lo], b, min(SHADE_POINTS, hi - lo + 2))
            cum = np.concatenate(([0.0], np.cumsum(counts[lo:hi])))
            ys = cum[np.searchsorted(patches[lo:hi], xs, side="right")]
            ax.fill_between(xs, 0, ys, step="post", color="#d62728", alpha=0.18, linewidth=0, zorder=2)
        prev = b
    for b in score.buckets:
        if b <= xmax:
            ax.axvline(b, color="#555555", linestyle="--", linewidth=0.9, zorder=1)
    above = f", {score.images_above_largest:,} compile" if score.images_above_largest else ""
    ax.set_title(
        f"{title}: {len(score.buckets)} buckets, padding waste {100 * score.waste_fraction:.1f}%, "
        f"relative time {report.relative_time(score):.2f}{above}",
        fontsize=10,
        loc="left",
    )
    ax.set_ylabel("images")
    ax.grid(axis="y", alpha=0.3, zorder=0)


def plot_workload(report: WorkloadReport, plan: BucketPlan, path: str | Path) -> Path:
    """Write the PNG; returns its path. ``plan`` is the bucket plan that was chosen."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise GaudiVLError("--plot needs matplotlib", "pip install 'gaudi-vl[plot]'") from None
    out = Path(path)
    if not out.parent.is_dir():
        raise GaudiVLError(f"folder {out.parent} does not exist", "create it or choose another --plot path")
    check_writable_target(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise GaudiVLError(
            f"--plot {out}: {fmt or 'no suffix'} is not an image format gaudi-vl draws",
            f"end the name with .{', .'.join(FORMATS)} (e.g. plan.png)",
        )
    hist = report.workload.histogram
    by_label = {s.label: s for s in report.scores}
    default = by_label["default"]
    # Show the workload, its buckets and one window beyond; a far-away range top would squash it.
    edges = [b for s in (report.optimal, default) for b in s.buckets if b <= 2 * hist.largest_patches]
    xmax = max([hist.largest_patches, *edges]) + 256
    fig, axes = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, constrained_layout=True)
    _panel(axes[0], report, report.optimal, f"optimal ({report.objective.value})", xmax)
    _panel(axes[1], report, default, "engine default list", xmax)
    axes[1].set_xlim(0, xmax)
    axes[1].set_xlabel("patches per image after 112-alignment (14 x 14 px each; buckets dashed)")
    handles = [
        Patch(color="#1f4e79", label="images at this size"),
        Patch(color="#d62728", alpha=0.3, label="padding to the bucket (area = wasted patches)"),
    ]
    axes[0].legend(handles=handles, loc="upper right", fontsize=9)
    fig.suptitle(
        f"{report.workload.images:,} images from {Path(report.workload.source).name}: "
        f"buckets {plan.env_value}",
        fontsize=11,
    )
    try:
        with atomic_writer(out) as handle:
            fig.savefig(handle, format=fmt, dpi=110)
    finally:
        plt.close(fig)
    return out
