"""The held-out evaluation both scripts share: a trained baseline played greedily through the one episode runner."""

from __future__ import annotations

import time
from typing import Any

from reflect_agent.agents import Agent, play
from reflect_agent.episodes import make_envs
from reflect_agent.evaluation import EvalResult

#: Evaluation episodes run on seeds from here on; training never resets on them (the learners draw their own).
HELD_OUT_SEED = 1_000_000


def held_out(agent: Agent, env_id: str, episodes: int, env_kwargs: dict[str, Any] | None = None) -> EvalResult:
    """Success of ``agent`` on ``episodes`` episodes of ``env_id`` with seeds from :data:`HELD_OUT_SEED`."""
    envs = make_envs(env_id, 1, env_kwargs=env_kwargs)
    start = time.perf_counter()
    try:
        played = play(agent, envs, range(HELD_OUT_SEED, HELD_OUT_SEED + episodes))
    finally:
        envs.close()
    return EvalResult.of(env_id, played, time.perf_counter() - start)
