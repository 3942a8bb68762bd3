"""A sweep's files: ``sweep.json`` (settings, wall time, every point), ``sweep.csv`` (a row a
point) and ``heatmap.png`` (the best metric over the first two swept parameters)."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

from tradewire.sweep.run import OBJECTIVES, metric_value
from tradewire.sweep.task import METRICS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from tradewire.sweep.run import SweepResult

__all__ = ["write_csv", "write_heatmap", "write_json", "write_sweep"]


def write_json(result: SweepResult, path: Path, settings: Mapping[str, Any], metric: str) -> Path:
    """``sweep.json``: the settings, the executor, the wall time, the best point, every point."""
    best = result.best(metric)
    doc = {
        "settings": dict(settings),
        "executor": result.executor,
        "metric": metric,
        "points_total": len(result.points),
        "points_failed": len(result.failed),
        "wall_s": round(result.wall_s, 3),
        "best": None if best is None else best.record(),
        "points": [p.record() for p in result.points],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def write_csv(result: SweepResult, path: Path) -> Path:
    """``sweep.csv``: the index, each parameter, the figures and the error, a row a point."""
    names: list[str] = []
    for point in result.points:
        names.extend(n for n in point.params if n not in names)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", *names, *METRICS, "error"])
        for point in result.points:
            record = point.record()
            writer.writerow(
                [
                    point.index,
                    *(record["params"].get(n, "") for n in names),
                    *("" if record[m] is None else record[m] for m in METRICS),
                    point.error or "",
                ]
            )
    return path


def _axis(values: Sequence[object]) -> list[object]:
    seen: list[object] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def write_heatmap(result: SweepResult, path: Path, metric: str, names: Sequence[str]) -> Path:
    """``metric``'s best value over the first two of ``names`` (the swept parameters, in order;
    the best over the others), a row per value of the second; a cell no point reached is blank.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x_name = names[0]
    y_name = names[1] if len(names) > 1 else None
    xs = _axis([p.params.get(x_name) for p in result.points])
    ys: list[object] = _axis([p.params.get(y_name) for p in result.points]) if y_name else [None]
    grid = np.full((len(ys), len(xs)), np.nan)
    better = np.fmax if OBJECTIVES[metric] == "max" else np.fmin
    for point in result.points:
        value = metric_value(point, metric)
        if value is None:
            continue
        row = ys.index(point.params.get(y_name)) if y_name else 0
        col = xs.index(point.params.get(x_name))
        grid[row, col] = better(grid[row, col], float(value))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(xs) + 2), max(2.5, 0.6 * len(ys) + 1.5)))
    shown = np.ma.masked_invalid(grid)
    norm = None
    if shown.count() and shown.min() < 0 < shown.max():  # gains green, losses red
        from matplotlib.colors import TwoSlopeNorm

        norm = TwoSlopeNorm(vcenter=0.0, vmin=float(shown.min()), vmax=float(shown.max()))
    cmap = "RdYlGn" if OBJECTIVES[metric] == "max" else "RdYlGn_r"
    image = ax.imshow(shown, cmap=cmap, norm=norm)
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_xlabel(x_name)
    if y_name:
        ax.set_yticks(range(len(ys)), [str(y) for y in ys])
        ax.set_ylabel(y_name)
    else:
        ax.set_yticks([])
    for (r, c), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(c, r, f"{value:.4g}", ha="center", va="center", fontsize=8)
    title = f"best {metric}" + (" over the other parameters" if len(names) > 2 else "")
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_sweep(
    result: SweepResult,
    out_dir: Path,
    settings: Mapping[str, Any],
    metric: str,
    names: Sequence[str],
) -> tuple[Path, Path, Path]:
    """Write the three files into ``out_dir`` (made if missing); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return (
        write_json(result, out_dir / "sweep.json", settings, metric),
        write_csv(result, out_dir / "sweep.csv"),
        write_heatmap(result, out_dir / "heatmap.png", metric, names),
    )
