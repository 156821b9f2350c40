"""Where a FileQA agent goes wrong: the folder it enters from the root, and the rest of the episode.

    python -m experiments.fileqa_names.folders --agent lm:runs/<name>/sft_policy   # a saved policy
    python -m experiments.fileqa_names.folders --agent lm:smollm2                  # the untouched model
    python -m experiments.fileqa_names.folders --agent names                       # experiments.fileqa_names.matcher
    python -m experiments.fileqa_names.folders --agent names+reads                 # the same, reading before naming
    python -m experiments.fileqa_names.folders --agent lm:smollm2 --trace          # and each episode's commands

On each held-out seed of the main job (``reflect-rl train``) (FileQA depth 1, test split by default) it asks the agent for
its first command and checks it against the expert's (the folder that holds the answer). Then it takes the
expert's command instead and lets the agent finish the episode from the right folder. Episode success
needs both; the two counts tell which one a policy lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

import reflect_gym  # noqa: F401  (registers the envs)
from experiments.fileqa_names.matcher import NameMatchAgent
from reflect_agent.agents import Agent, make_agent


@dataclass
class Args:
    """Count right first folders, and successes from the right folder, on the held-out seeds."""

    agent: str = "names"
    """``names`` (the name-matching baseline), ``names+reads`` (the same, reading before naming) or a spec of
    ``reflect_agent.agents.make_agent`` whose agent has ``act(obs, info)`` (``lm:smollm2``, ``lm:<policy folder>``)."""
    env_id: str = "ReflectRL/FileQA-Depth1-v0"
    """A FileQA env whose answers lie below the root."""
    split: str = "test"
    """The env's ``split``."""
    episodes: int = 32
    """Held-out seeds, from ``reflect_agent.config.EVAL_SEED_OFFSET`` on (the main job's)."""
    trace: bool = False
    """Print each episode's answer and the agent's commands from the right folder."""


def count(env: gym.Env, agent: Agent, seeds: range, show: Callable[[str], None] | None = None) -> dict[str, int]:
    """``first_step_right``: the agent's first command is the expert's; ``success_from_right_folder``: after
    the expert's first command, the agent's own commands end the episode in success. ``show`` gets one line per
    episode: the outcome, the answer and the agent's commands from the right folder."""
    first = finished = 0
    for seed in seeds:
        agent.reset(seed)
        obs, info = env.reset(seed=seed)
        expert = env.unwrapped.expert_action()
        first += agent.act(obs, info) == expert
        obs, _, terminated, truncated, info = env.step(expert)
        commands = []
        while not (terminated or truncated):
            action = agent.act(obs, info)
            commands.append(info["actions"][action])
            obs, _, terminated, truncated, info = env.step(action)
        finished += bool(info["success"])
        if show is not None:
            outcome = "success" if info["success"] else "failure"
            show(f"seed {seed}, {outcome}, answer {info['task']['answers'][0]}: {' ; '.join(commands)}")
    return {"episodes": len(seeds), "first_step_right": first, "success_from_right_folder": finished}


def main(args: Args) -> dict[str, Any]:
    from reflect_agent.config import EVAL_SEED_OFFSET

    env = gym.make(args.env_id, split=args.split)
    if args.agent in ("names", "names+reads"):
        agent: Agent = NameMatchAgent(depth=env.unwrapped.depth, reads=args.agent == "names+reads")
    else:
        agent = make_agent(args.agent)
    seeds = range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.episodes)
    result = count(env, agent, seeds, show=print if args.trace else None)
    env.close()
    print(
        f"{args.agent} on {args.env_id} ({args.split}): right folder first {result['first_step_right']}"
        f"/{result['episodes']}; success from the right folder {result['success_from_right_folder']}"
        f"/{result['episodes']}"
    )
    return result


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
