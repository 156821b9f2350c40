"""Training metrics: a console progress bar, a JSON lines file, optional wandb, and a PNG curve.

Metric names are namespaced like CleanRL's (``charts/``, ``losses/``, ``env/``, ``perf/``). The JSON
lines file is rewritten atomically at every log (a few hundred short lines at most), so a crash never
leaves a torn line and a resumed run drops the rows logged after its checkpoint.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import sys
from pathlib import Path
from typing import Any

import torch

from reflect_gym.files import atomic_write

#: Metrics shown in the progress bar, when present.
BAR_KEYS = ("env/success_rate", "charts/episodic_return", "losses/pg_loss", "losses/approx_kl")


class MetricsLogger:
    """Log one row of metrics per iteration.

    Args:
        path: The JSON lines file (``metrics.jsonl`` in the run folder).
        total: Iterations planned, for the progress bar.
        start: Iteration already done (a resumed run): earlier rows are kept, later ones dropped.
        progress: Show a tqdm progress bar on stderr.
        wandb_project: Log to this wandb project too (``None``: no wandb). wandb is imported only
            then, and runs offline unless ``WANDB_API_KEY`` is set or ``WANDB_MODE`` says otherwise.
        run_name: The wandb run name.
        config: The run's configuration, recorded by wandb.
        write: Write the rows, show the bar and log to wandb; ``False`` (a data-parallel process other than the
            main one) only keeps the rows in :attr:`rows`.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        total: int,
        start: int = 0,
        progress: bool = True,
        wandb_project: str | None = None,
        run_name: str | None = None,
        config: dict[str, Any] | None = None,
        write: bool = True,
    ):
        self.path = Path(path)
        self.writes = write
        self.rows: list[dict[str, Any]] = []
        if start > 0 and self.path.is_file():
            rows = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
            self.rows = [row for row in rows if row.get("iteration", 0) <= start]
        self._bar = None
        if progress and write:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=start, desc="train", unit="it", dynamic_ncols=True)
        self._wandb_run = None
        if wandb_project is not None and write:
            import wandb

            mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
            self._wandb_run = wandb.init(
                project=wandb_project,
                name=run_name,
                config=config,
                dir=str(self.path.parent),
                mode=mode,
                resume="allow",
            )

    def log(self, iteration: int, metrics: dict[str, Any]) -> None:
        """Record the metrics of ``iteration`` (1-based) everywhere this logger writes."""
        row = {"iteration": iteration, **{key: _plain(value) for key, value in metrics.items()}}
        self.rows.append(row)
        if self.writes:
            atomic_write(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.rows))
        if self._bar is not None:
            shown = {key.split("/")[-1]: f"{row[key]:.3g}" for key in BAR_KEYS if isinstance(row.get(key), float)}
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(1)
        if self._wandb_run is not None:
            self._wandb_run.log({k: v for k, v in row.items() if k != "iteration"}, step=iteration)

    def write(self, message: str) -> None:
        """Print ``message`` without breaking the progress bar (nothing when this logger does not write)."""
        if self._bar is not None:
            self._bar.write(message)
        elif self.writes:
            print(message, flush=True)

    def plot(
        self, path: str | os.PathLike, keys: tuple[str, ...] = ("env/success_rate", "charts/episodic_return")
    ) -> Path:
        """Save a PNG learning curve of ``keys`` (one panel each, those logged) and return its path."""
        return plot_curves(self.rows, path, keys)

    def close(self) -> None:
        """Close the progress bar and the wandb run."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._wandb_run is not None:
            self._wandb_run.finish()
            self._wandb_run = None


def peak_memory_mb(device: torch.device | None = None) -> float:
    """Peak memory in MiB: on a CUDA ``device`` (or, without one, CUDA when it was used) the peak allocated GPU
    memory since the last reset of its statistics; else the peak resident memory of this process."""
    cuda = (
        device.type == "cuda"
        if device is not None
        else torch.cuda.is_available() and torch.cuda.max_memory_allocated() > 0
    )
    if cuda:
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def plot_curves(rows: list[dict[str, Any]], path: str | os.PathLike, keys: tuple[str, ...]) -> Path:
    """Plot each of ``keys`` against ``iteration`` from ``rows`` into a PNG at ``path`` (atomically).

    Uses matplotlib's Agg canvas directly (no pyplot, so no global backend switch).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = tuple(key for key in keys if any(isinstance(row.get(key), (int, float)) for row in rows)) or keys[:1]
    figure = Figure(figsize=(5.0 * len(keys), 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(keys), squeeze=False)[0]
    for axis, key in zip(axes, keys, strict=True):
        points = [(row["iteration"], row[key]) for row in rows if isinstance(row.get(key), (int, float))]
        if points:
            xs, ys = zip(*points, strict=True)
            axis.plot(xs, ys, marker="o", markersize=3)
        axis.set_xlabel("iteration")
        axis.set_title(key)
        axis.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    atomic_write(path, buffer.getvalue())
    return Path(path)


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a metric value (tensors and NumPy scalars become floats)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
