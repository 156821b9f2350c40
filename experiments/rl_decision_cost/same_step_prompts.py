"""How many of a group rollout's policy prompts repeat another prompt of the same step (what deduplicating the
policy's forward pass within a step could save).

    python -m experiments.rl_decision_cost.same_step_prompts ARTIFACTS_DIR OUT_JSON

Runs one RL iteration of the ``cpu`` preset from the warm-up artifacts in ``ARTIFACTS_DIR`` (as ``reflect-rl train
--artifacts-dir``) and counts, at every decision step of its rollout, the rows whose prompt and candidate tokens
another row of the step already has.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import reflect_agent.rollout
from reflect_agent.cli import main as reflect_rl


def main(artifacts: str, out: str) -> None:
    steps: list[tuple[int, int]] = []
    decide = reflect_agent.rollout.decide

    def counting(policy, reflector, turns, **kwargs):
        decision = decide(policy, reflector, turns, **kwargs)
        batch = decision.batch
        prompts = {
            (
                tuple(batch.input_ids[row][batch.attention_mask[row].bool()].tolist()),
                tuple(batch.candidate_ids[row].tolist()),
            )
            for row in range(len(batch))
        }
        steps.append((len(batch), len(prompts)))
        return decision

    reflect_agent.rollout.decide = counting
    with tempfile.TemporaryDirectory() as output:
        reflect_rl(
            [
                "train",
                "--name",
                "count",
                "--output-dir",
                output,
                "--artifacts-dir",
                artifacts,
                "--eval.no-zero-shot",
                "--eval.no-after-sft",
                "--eval.episodes",
                "1",
                "--eval.num-envs",
                "1",
                "--rl.iterations",
                "1",
            ]
        )
    rows, distinct = sum(s[0] for s in steps), sum(s[1] for s in steps)
    report = {"rows": rows, "distinct": distinct, "repeated_share": 1 - distinct / rows, "steps": steps}
    Path(out).write_text(json.dumps(report) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "steps"}))


if __name__ == "__main__":
    main(*sys.argv[1:])
