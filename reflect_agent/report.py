"""The main job's report: held-out success per stage as a Markdown table and a plot."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reflect_agent.evaluation import EvalResult
from reflect_agent.stats import mcnemar_exact


def results_table(
    title: str, seeds: range, evaluations: Mapping[str, EvalResult], eval_env_kwargs: Mapping[str, Any]
) -> str:
    """A Markdown table of the evaluations (one row per stage) under ``title``."""
    lines = [
        f"## {title}",
        "",
        f"Held-out episodes: {len(seeds)} (seeds from {seeds.start}"
        + (f", env kwargs {dict(eval_env_kwargs)}" if eval_env_kwargs else "")
        + "), greedy actions. Zero-shot: the untouched model, no reflection.",
        "",
        "| stage | success | 95% interval | mean return | mean length |",
        "|---|---|---|---|---|",
    ]
    lines += [table_row(stage, result) for stage, result in evaluations.items()]
    stages = list(evaluations.items())
    comparisons = [paired_line(*earlier, *later) for earlier, later in itertools.pairwise(stages)]
    if any(comparisons):
        lines += ["", "Each stage against the one before, on the same episodes:", ""]
        lines += [f"- {line}" for line in comparisons if line]
    return "\n".join(lines) + "\n"


def table_row(name: str, r: EvalResult) -> str:
    """One Markdown row: ``name``, success with its count and 95% interval, mean return and mean length."""
    return (
        f"| {name} | {100 * r.success_rate:.1f}% ({r.successes}/{r.episodes}) | "
        f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] | {r.mean_return:+.3f} | {r.mean_length:.1f} |"
    )


def paired_line(earlier: str, before: EvalResult, later: str, after: EvalResult) -> str | None:
    """``later`` against ``earlier`` episode by episode (which each solved alone, McNemar's exact p-value), or
    ``None`` when the two did not record their solved seeds."""
    if before.solved_seeds is None or after.solved_seeds is None or before.episodes != after.episodes:
        return None
    gained = len(set(after.solved_seeds) - set(before.solved_seeds))
    lost = len(set(before.solved_seeds) - set(after.solved_seeds))
    return (
        f"{later} against {earlier}: {after.successes - before.successes:+d} episodes ({gained} solved only {later}, "
        f"{lost} only {earlier}; exact McNemar test p = {mcnemar_exact(gained, lost):.3g})"
    )


def results_plot(title: str, evaluations: Mapping[str, EvalResult], curve: list[dict[str, Any]]) -> bytes:
    """PNG: held-out success per stage with 95% intervals, and the training success per RL iteration."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    bars, line = figure.subplots(1, 2)
    stages = list(evaluations)
    rates = [100 * evaluations[s].success_rate for s in stages]
    errors = [
        [rate - 100 * evaluations[s].ci_low for s, rate in zip(stages, rates, strict=True)],
        [100 * evaluations[s].ci_high - rate for s, rate in zip(stages, rates, strict=True)],
    ]
    bars.bar(stages, rates, yerr=errors, capsize=6, color=["#999999", "#6a9fd4", "#2b6cb0"][: len(stages)])
    bars.set_ylim(0, 100)
    bars.set_ylabel("held-out success (%)")
    bars.set_title(title)
    if curve:
        xs = [row["iteration"] for row in curve]
        line.plot(xs, [100 * row["env/success_rate"] for row in curve], marker="o")
    line.set_ylim(0, 100)
    line.set_xlabel("RL iteration")
    line.set_ylabel("training success (%)")
    line.set_title("online RL")
    line.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
