"""The paper's ablation with one budget: SFT only, RL only, SFT + RL without reflection, Reflect-RL.

    python -m experiments.ablation_fileqa_depth1.ablation --name ablation-d1      # FileQA depth 1, the cpu preset's budget

Every arm is a run of the main job (:func:`reflect_agent.pipeline.run`, variant ``sft``, ``rl``, ``sft-rl`` or
``reflect-rl``) with the same settings: the same warm-up data and SFT steps (shared through one artifacts folder, so
the policy without reflections is warmed up once for both arms that use it), the same RL iterations and episodes,
and the same held-out episodes. The untouched model is evaluated once, in the first arm. Results:
``<output_dir>/<name>/ablation.md`` (95% Wilson intervals, and each arm against Reflect-RL on the same episodes),
``ablation.json`` and ``ablation.png``, next to each arm's own run folder ``<name>-<arm>``. Run it again to continue:
finished arms are read back, an unfinished one resumes as the main job does.
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reflect_agent import presets
from reflect_agent.checkpoint import atomic_write_json
from reflect_agent.evaluation import EvalResult
from reflect_agent.pipeline import PipelineConfig, run
from reflect_agent.report import paired_line, table_row
from reflect_gym.files import atomic_write

ARMS = ("sft", "rl", "sft-rl", "reflect-rl")
LABELS = {
    "zero-shot": "zero-shot",
    "sft": "SFT only",
    "rl": "RL only",
    "sft-rl": "SFT + RL (no reflection)",
    "reflect-rl": "Reflect-RL",
}


def fileqa_depth1() -> PipelineConfig:
    """The ``cpu`` preset's budget on FileQA depth 1: the train split with the paper's leave-out, evaluated on the test
    split (repositories never seen in training), prompts up to 1024 tokens."""
    config = presets.cpu("ReflectRL/FileQA-Depth1-v0", horizon=None)
    config.env_kwargs = {"leaveout_prob": 0.5}
    config.eval = dataclasses.replace(config.eval, env_kwargs={"split": "test", "leaveout_prob": 0.0})
    config.agent.max_prompt_tokens = 1024
    return config


@dataclass
class AblationArgs:
    """The ablation.

    Attributes:
        name: Folder under ``main.output_dir`` for the combined results; the arms run in ``<name>-<arm>``.
        arms: Arms to run, in order (``sft``, ``rl``, ``sft-rl``, ``reflect-rl``).
        main: The settings every arm shares; its ``name``, ``variant``, ``artifacts_dir`` and which evaluations run
            are set per arm.
    """

    name: str = "ablation"
    arms: tuple[str, ...] = ARMS
    main: PipelineConfig = field(default_factory=fileqa_depth1)


def arm_config(args: AblationArgs, arm: str, first: bool) -> PipelineConfig:
    """The main job of one arm: its variant, the shared artifacts folder, the zero-shot evaluation in the first arm
    only, and one evaluation at its end (after SFT for ``sft``, after RL for the others)."""
    return dataclasses.replace(
        args.main,
        name=f"{args.name}-{arm}",
        variant=arm,
        artifacts_dir=str(Path(args.main.output_dir) / args.name / "shared"),
        eval=dataclasses.replace(args.main.eval, zero_shot=first, after_sft=False),
    )


def ablate(args: AblationArgs) -> dict[str, Any]:
    """Run the arms (reading back finished ones), then write the combined table, JSON and plot."""
    unknown = set(args.arms) - set(ARMS)
    if unknown or not args.arms:
        raise ValueError(f"Unknown or no arms {sorted(unknown)}; choose among {ARMS}.")
    root = Path(args.main.output_dir)
    results: dict[str, dict[str, Any]] = {}
    for index, arm in enumerate(args.arms):
        done = root / f"{args.name}-{arm}" / "results.json"
        results[arm] = json.loads(done.read_text()) if done.is_file() else run(arm_config(args, arm, index == 0))
    rows: dict[str, EvalResult] = {}
    for arm in args.arms:
        if "zero-shot" in results[arm]["evaluations"]:
            rows["zero-shot"] = read_result(results[arm]["evaluations"]["zero-shot"])
    for arm in args.arms:
        evaluations = results[arm]["evaluations"]
        rows[arm] = read_result(evaluations.get("after RL") or evaluations["after SFT"])
    summary = {
        "settings": dataclasses.asdict(args),
        "rows": [{"arm": arm, **dataclasses.asdict(result)} for arm, result in rows.items()],
        "timings": {arm: results[arm]["timings"] for arm in args.arms},
    }
    folder = root / args.name
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "ablation.json", summary)
    atomic_write(folder / "ablation.md", table(args, rows))
    atomic_write(folder / "ablation.png", plot(args, rows))
    print(table(args, rows), flush=True)
    return summary


def read_result(evaluation: dict[str, Any]) -> EvalResult:
    """An evaluation of a ``results.json`` as an :class:`EvalResult`."""
    seeds = evaluation.get("solved_seeds")
    return EvalResult(**{**evaluation, "solved_seeds": None if seeds is None else tuple(seeds)})


def table(args: AblationArgs, rows: dict[str, EvalResult]) -> str:
    """Markdown table of held-out success with 95% Wilson intervals, and each arm against Reflect-RL."""
    main = args.main
    lines = [
        f"## Ablation on {main.env_id} ({main.agent.model})",
        "",
        f"Same budget for every arm: {main.warmup.episodes} expert episodes of warm-up data; SFT "
        f"{main.warmup.policy_sft.epochs:g} passes per player; {main.rl.iterations} RL iterations of "
        f"{main.rl.num_envs} episodes ({main.rl.update.advantage}, groups of {main.rl.group_size}). Held-out: "
        f"{main.eval.episodes} episodes, env kwargs {dict(main.eval.env_kwargs)}, greedy.",
        "",
        "| arm | success | 95% interval | mean return | mean length |",
        "|---|---|---|---|---|",
    ]
    lines += [table_row(LABELS[arm], result) for arm, result in rows.items()]
    if "reflect-rl" in rows:
        paired = [
            paired_line(LABELS[arm], result, LABELS["reflect-rl"], rows["reflect-rl"])
            for arm, result in rows.items()
            if arm != "reflect-rl"
        ]
        if any(paired):
            lines += ["", "Reflect-RL against each other arm, on the same episodes:", ""]
            lines += [f"- {line}" for line in paired if line]
    return "\n".join(lines) + "\n"


def plot(args: AblationArgs, rows: dict[str, EvalResult]) -> bytes:
    """PNG bar chart of held-out success with 95% intervals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    names = [LABELS[arm] for arm in rows]
    rates = [100 * r.success_rate for r in rows.values()]
    low = [rate - 100 * r.ci_low for rate, r in zip(rates, rows.values(), strict=True)]
    high = [100 * r.ci_high - rate for rate, r in zip(rates, rows.values(), strict=True)]
    axis.bar(names, rates, yerr=[low, high], capsize=6, color="#2b6cb0")
    axis.set_ylim(0, 100)
    axis.set_ylabel("held-out success (%)")
    axis.set_title(f"{args.main.env_id.split('/')[-1]}: ablation")
    axis.tick_params(axis="x", labelrotation=15)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


if __name__ == "__main__":
    import tyro

    ablate(tyro.cli(AblationArgs))
