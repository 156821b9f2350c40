"""Policy SFT on the warmed-up reflector's own analyses instead of the expert's: does the pair decide better?

    python -m experiments.policy_reads_reflector.probe RUN_DIR OUT_DIR [--preset cpu] [--episodes 12] [--eval 32]

RUN_DIR holds a main job's ``warmup.jsonl``, ``reflector_adapter`` and warmed-up policy (the preset's folder name).
The script writes the reflector's analysis of every warm-up state, trains a policy with the preset's policy SFT on
those analyses (the expert's action as the label, as before), and for both policies reports per-decision agreement
with the expert on the expert's routes from held-out seeds (given the reflector's analysis, and given none), how
often the reflector's analysis names the expert's action, and held-out success.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from reflect_agent.config import EVAL_SEED_OFFSET
from reflect_agent.evaluation import evaluate
from reflect_agent.pipeline import in_hardware_precision, policy_config, reflector_written
from reflect_agent.policy import LMPolicy
from reflect_agent.presets import PRESETS
from reflect_agent.prompts import reflector_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.sft import sft_policy
from reflect_agent.warmup import expert_records, read_jsonl, write_jsonl


def named_action(text: str, actions: list[str]) -> str | None:
    """The admissible action the analysis quotes first ('go forward'), if any."""
    found = [(m.start(), a) for a in actions for m in re.finditer(re.escape(f"'{a}'"), text)]
    return min(found)[1] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--episodes", type=int, default=12)
    parser.add_argument("--eval", type=int, default=32)
    args = parser.parse_args()
    config = in_hardware_precision(PRESETS[args.preset]())  # the main job's precision on this device
    agent = config.agent
    args.out_dir.mkdir(parents=True, exist_ok=True)
    reflector = Reflector.from_config(
        ReflectorConfig(
            model=agent.model,
            adapter=str(args.run_dir / "reflector_adapter"),
            max_new_tokens=agent.max_new_tokens,
            max_prompt_tokens=agent.reflector_tokens,
            template=agent.template,
            autocast=agent.autocast,
        )
    )
    report: dict[str, object] = {}

    # 1. The reflector's analyses of the warm-up states, in place of the expert's.
    records = read_jsonl(args.run_dir / "warmup.jsonl")
    start = time.perf_counter()
    own = reflector_written(records, reflector)  # what the main job's warmup.policy_reads="reflector" trains on
    report["reflect_warmup_s"] = time.perf_counter() - start
    report["warmup_records"] = len(records)
    right = [
        named_action(o.reflection, r.actions) == r.actions[r.expert_action] for o, r in zip(own, records, strict=True)
    ]
    report["reflector_names_the_label_on_warmup_states"] = float(np.mean(right))
    write_jsonl(own, args.out_dir / "warmup_reflector_written.jsonl")

    # 2. A policy trained on them, with the preset's policy SFT.
    folder = args.out_dir / "sft_policy_reads_reflector"
    if folder.exists():
        policy = LMPolicy.load(folder, trainable=True)
    else:
        policy = LMPolicy.from_config(policy_config(agent))
        start = time.perf_counter()
        sft_policy(policy, own, config.warmup.policy_sft, progress=False)
        report["sft_policy_s"] = time.perf_counter() - start
        policy.save(folder)
    name = "sft_policy_reflect_scoring_policy-objective"
    policies = {"expert's analyses (as now)": LMPolicy.load(args.run_dir / name), "reflector's analyses": policy}

    # 3. Per-decision agreement on held-out expert routes, and held-out success.
    seeds = range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.episodes)
    routes = expert_records(config.env_id, seeds, perturb_prob=0.0, look_ahead=True, env_kwargs=config.eval_kwargs)
    expert = np.array([r.expert_action for r in routes])
    analyses = reflector.reflect(
        [reflector_state(r.state, r.previous_action) for r in routes], [r.actions for r in routes]
    )
    report["route_decisions"] = len(routes)
    report["reflector_names_the_experts_action_on_routes"] = float(
        np.mean(
            [named_action(w, r.actions) == r.actions[r.expert_action] for w, r in zip(analyses, routes, strict=True)]
        )
    )
    for label, p in policies.items():
        row = {}
        for given, reflections in (("reflector", analyses), ("none", None), ("expert", [r.reflection for r in routes])):
            chosen = np.array(p.act([r.state for r in routes], [r.actions for r in routes], reflections, greedy=True))
            row[f"agrees_given_{given}"] = float((chosen == expert).mean())
        result = evaluate(
            p,
            reflector,
            config.env_id,
            config.held_out_seeds[: args.eval],
            num_envs=config.rl.num_envs,
            env_kwargs=config.eval_kwargs,
        )
        row["held_out"] = result.row()
        report[label] = row
        print(label, json.dumps(row, default=str)[:400], flush=True)
    (args.out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, dict)}, indent=1))


if __name__ == "__main__":
    main()
