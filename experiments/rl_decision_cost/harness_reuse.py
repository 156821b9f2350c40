"""The benchmark harness's LM agent with and without running its policy once per distinct prompt of a play.

    python -m experiments.rl_decision_cost.harness_reuse

The untouched SmolLM2 (no reflector, greedy) plays 16 held-out BabyAI GoToRedBall episodes (horizon 24), 8 at a
time, with ``LMAgent(reuse_prompts=False)`` and then ``True``; prints seconds, decisions, successes, the prompts
scored and reused, and whether both made the same decisions.
"""

from __future__ import annotations

import time

import torch

from reflect_agent.agents import LMAgent, make_agent, play
from reflect_agent.episodes import make_envs


def main() -> None:
    torch.set_num_threads(2)
    policy = make_agent("lm:smollm2", device="cpu", batch_size=8).policy
    chosen = []
    for reuse in (False, True):
        agent = LMAgent(policy, batch_size=8, reuse_prompts=reuse)
        envs = make_envs("ReflectRL/BabyAI-GoToRedBall-v0", 8, env_kwargs={"horizon": 24})
        start = time.perf_counter()
        episodes = play(agent, envs, range(1_000_000, 1_000_016))
        seconds = time.perf_counter() - start
        envs.close()
        chosen.append([e.chosen for e in episodes])
        counts = f"scored {agent.scored.scored}, reused {agent.scored.reused}" if agent.scored else "every decision"
        print(
            f"reuse_prompts={reuse}: {seconds:.1f} s, {sum(len(e) for e in episodes)} decisions, "
            f"{sum(e.success for e in episodes)} solved, prompts {counts}"
        )
    print("same decisions:", chosen[0] == chosen[1])


if __name__ == "__main__":
    main()
