"""The paper's ablation with one budget: SFT only, RL only, SFT + RL without reflection, Reflect-RL.

    python -m experiments.ablation_fileqa_depth1.ablation                    # FileQA depth 1, SmolLM2: 69 minutes on 2 cores

Every arm runs :func:`examples.main.run` with the same settings: the same warm-up data and SFT steps
(shared through one artifacts folder, so the policy without reflections is warmed up once for both arms
that use it), the same RL iterations, and the same held-out episodes. The zero-shot model is evaluated
once. Results: ``runs/<name>/ablation.md`` (table with 95% Wilson intervals), ``ablation.json`` and
``ablation.png``, next to each arm's own run folder. Measured: ``experiments/ablation_fileqa_depth1/``.
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from examples.main import MainArgs, run
from reflect_agent.checkpoint import atomic_write_json
from reflect_gym.files import atomic_write

ARMS = ("sft", "rl", "sft-rl", "reflect-rl")
LABELS = {"sft": "SFT only", "rl": "RL only", "sft-rl": "SFT + RL (no reflection)", "reflect-rl": "Reflect-RL"}


def default_main() -> MainArgs:
    """FileQA depth 1: train split with the paper's leave-out, held-out test split."""
    return MainArgs(
        env_id="ReflectRL/FileQA-Depth1-v0",
        env_kwargs={"leaveout_prob": 0.5},
        eval_env_kwargs={"split": "test", "leaveout_prob": 0.0},
        data_episodes=40,
        eval_episodes=32,
        max_prompt_tokens=1024,
        # FileQA's 40 expert episodes give about 130 records: four passes cost what two do on DangerousTaxi.
        policy_sft=dataclasses.replace(MainArgs().policy_sft, epochs=4.0),
    )


@dataclass
class AblationArgs:
    """The ablation.

    Attributes:
        name: Folder under ``main.output_dir``; arms run in ``<name>-<arm>``.
        arms: Arms to run, in order (``sft``, ``rl``, ``sft-rl``, ``reflect-rl``).
        main: The settings every arm shares (its ``name``, ``variant`` and ``artifacts_dir`` are set here).
    """

    name: str = "ablation"
    arms: tuple[str, ...] = ARMS
    main: MainArgs = field(default_factory=default_main)


def ablate(args: AblationArgs) -> dict:
    """Run the arms (reusing finished ones), then write the combined table, JSON and plot."""
    unknown = set(args.arms) - set(ARMS)
    if unknown:
        raise ValueError(f"Unknown arms {sorted(unknown)}; choose among {ARMS}.")
    root = Path(args.main.output_dir)
    shared = root / args.name / "shared"
    results: dict[str, dict] = {}
    for index, arm in enumerate(args.arms):
        name = f"{args.name}-{arm}"
        done = root / name / "results.json"
        if done.is_file():
            results[arm] = json.loads(done.read_text())
            continue
        arm_args = dataclasses.replace(
            args.main, name=name, variant=arm, artifacts_dir=str(shared), eval_zero_shot=index == 0
        )
        results[arm] = run(arm_args)
    zero_shot = next((r["evaluations"]["zero-shot"] for r in results.values() if "zero-shot" in r["evaluations"]), None)
    rows = [("zero-shot", zero_shot)] if zero_shot else []
    for arm in args.arms:
        evaluations = results[arm]["evaluations"]
        rows.append((arm, evaluations.get("after RL") or evaluations.get("after SFT")))
    summary = {
        "settings": dataclasses.asdict(args),
        "rows": [{"arm": arm, **evaluation} for arm, evaluation in rows],
        "timings": {arm: results[arm]["timings"] for arm in args.arms},
    }
    folder = root / args.name
    atomic_write_json(folder / "ablation.json", summary)
    atomic_write(folder / "ablation.md", table(args, rows))
    atomic_write(folder / "ablation.png", plot(args, rows))
    print(table(args, rows), flush=True)
    return summary


def table(args: AblationArgs, rows: list[tuple[str, dict]]) -> str:
    """Markdown table of held-out success with 95% Wilson intervals."""
    main = args.main
    lines = [
        f"## Ablation on {main.env_id} ({main.model})",
        "",
        f"Same budget for every arm: {main.data_episodes} expert episodes of warm-up data, SFT "
        f"{main.policy_sft.max_steps if main.policy_sft.max_steps > 0 else main.policy_sft.epochs} "
        f"{'steps' if main.policy_sft.max_steps > 0 else 'epochs'} of batch {main.policy_sft.batch_size}, "
        f"{main.iterations} RL iterations of {main.num_envs} episodes. Held-out: {main.eval_episodes} episodes, "
        f"env kwargs {dict(main.eval_env_kwargs)}, greedy.",
        "",
        "| arm | success | 95% interval | mean return |",
        "|---|---|---|---|",
    ]
    for arm, r in rows:
        lines.append(
            f"| {LABELS.get(arm, arm)} | {100 * r['success_rate']:.1f}% ({r['successes']}/{r['episodes']}) | "
            f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}] | {r['mean_return']:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def plot(args: AblationArgs, rows: list[tuple[str, dict]]) -> bytes:
    """PNG bar chart of held-out success with 95% intervals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    names = [LABELS.get(arm, arm) for arm, _ in rows]
    rates = [100 * r["success_rate"] for _, r in rows]
    low = [rate - 100 * r["ci_low"] for rate, (_, r) in zip(rates, rows, strict=True)]
    high = [100 * r["ci_high"] - rate for rate, (_, r) in zip(rates, rows, strict=True)]
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
