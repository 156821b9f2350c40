"""Which player errs: the warmed-up reflector, or the policy reading it? Per-decision accuracy on held-out states.

    python -m experiments.main_job.stages RUN_DIR [--env-id ID] [--episodes N] [--policy FOLDER]

On the expert's own routes from held-out seeds (no wrong steps), it measures:

* the policy's agreement with the expert given the expert's analysis (an oracle reflector),
* given the warmed-up reflector's analysis, and given none;
* how often the warmed-up reflector's analysis names the same move as the expert's first suggestion.

RUN_DIR holds a main job's ``reflector_adapter`` and ``sft_policy_reflect`` (``--policy`` points elsewhere).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from reflect_agent.config import EVAL_SEED_OFFSET
from reflect_agent.policy import LMPolicy
from reflect_agent.prompts import reflector_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.warmup import expert_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--env-id", default="ReflectRL/DangerousTaxi-Dropoff-v0")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--policy", type=Path, default=None)
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--max-prompt-tokens", type=int, default=192)
    args = parser.parse_args()

    seeds = range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.episodes)
    records = expert_records(args.env_id, seeds, perturb_prob=0.0, look_ahead=True)
    policy = LMPolicy.load(args.policy or args.run_dir / "sft_policy_reflect")
    reflector = Reflector.from_config(
        ReflectorConfig(
            model=args.model,
            adapter=str(args.run_dir / "reflector_adapter"),
            max_prompt_tokens=args.max_prompt_tokens,
            autocast=True,
        )
    )
    states = [r.state for r in records]
    actions = [r.actions for r in records]
    expert = np.array([r.expert_action for r in records])
    start = time.perf_counter()
    written = reflector.reflect([reflector_state(r.state, r.previous_action) for r in records], actions)
    reflect_seconds = time.perf_counter() - start
    result = {"decisions": len(records), "reflect_s": reflect_seconds}
    for name, reflections in (("oracle", [r.reflection for r in records]), ("reflector", written), ("none", None)):
        chosen = np.array(policy.act(states, actions, reflections, greedy=True))
        result[f"policy_with_{name}"] = float((chosen == expert).mean())

    def first_move(text: str, options: list[str]) -> str | None:
        found = [(text.find(o.split()[-1]), o) for o in options if o.startswith("move") and o.split()[-1] in text]
        return min(found)[1] if found else None

    named = [first_move(w, a) == first_move(r.reflection, a) for w, a, r in zip(written, actions, records, strict=True)]
    result["reflector_names_the_experts_move"] = float(np.mean(named))
    result["examples"] = [
        {"expert": r.reflection, "reflector": w} for r, w in list(zip(records, written, strict=True))[:4]
    ]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
