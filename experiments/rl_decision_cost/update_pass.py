"""One update pass of the ``cpu`` preset's policy, with and without the frozen blocks' kept hidden states.

    python -m experiments.rl_decision_cost.update_pass --rows 16 --repeats 3 --out results/update_pass.json

SmolLM2-135M with LoRA on its last 10 blocks (the ``cpu`` preset's policy, fresh adapters), the scoring decider
under bf16 autocast, ``rows`` BabyAI GoToRedBall prompts with a one-sentence analysis. Times (best of ``repeats``)
the forward pass without gradients over every block (a rollout's, or the start policy's for the KL), the same from
the kept hidden states, and the update's forward and backward pass both ways; and checks that the log-probabilities
and gradients agree.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.config import top_layers_lora_targets
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.tensors import PolicyBatch

ANALYSIS = "The red ball is 2 steps forward and 1 step left, so turn left, then go forward twice."


def best_of(repeats: int, run: Callable[[], object]) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = PolicyConfig(
        model="smollm2", decider="scoring", autocast=True, lora_target_modules=top_layers_lora_targets("smollm2", 10)
    )
    policy = LMPolicy.from_config(config)
    env = gym.make("ReflectRL/BabyAI-GoToRedBall-v0", horizon=24)
    states, actions = [], []
    for seed in range(args.rows):
        _, info = env.reset(seed=seed)
        states.append(info["state"])
        actions.append(info["actions"])
    batch = policy.encode(states, actions, [ANALYSIS] * args.rows)
    taken = torch.zeros(args.rows, dtype=torch.long)
    with torch.no_grad(), policy.keeping_frozen_states(batch) as kept:
        policy(batch)
    resumed: PolicyBatch = kept[0]

    def update_pass(b: PolicyBatch) -> list[torch.Tensor]:
        policy.zero_grad()
        _, logprob, _, _ = policy.get_action_and_value(b, taken)
        logprob.sum().backward()
        return [logprob.detach()] + [p.grad.clone() for p in policy.trainable_parameters() if p.grad is not None]

    def forward(b: PolicyBatch) -> None:
        with torch.no_grad():
            policy(b)

    full, from_kept = update_pass(batch), update_pass(resumed)
    report = {
        "rows": args.rows,
        "tokens_per_row": batch.width,
        "frozen_blocks": resumed.frozen_blocks,
        "threads": args.threads,
        "forward_every_block_s": best_of(args.repeats, lambda: forward(batch)),
        "forward_from_kept_s": best_of(args.repeats, lambda: forward(resumed)),
        "update_every_block_s": best_of(args.repeats, lambda: update_pass(batch)),
        "update_from_kept_s": best_of(args.repeats, lambda: update_pass(resumed)),
        "max_abs_difference": max((a - b).abs().max().item() for a, b in zip(full, from_kept, strict=True)),
        "kept_mb": resumed.frozen_hidden.numel() * resumed.frozen_hidden.element_size() / 2**20,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
