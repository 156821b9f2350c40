"""Evaluation: the one result type of a set of episodes, and greedy evaluation of an LM policy.

:class:`EvalResult` summarises played episodes (success rate with its 95% Wilson interval, return, length,
invalid actions, speed); the trainer, the main job and the benchmark harness all report it.
:func:`evaluate` plays an LM policy (with its frozen reflector, if any) on seeded episodes through the one
episode runner, :func:`reflect_agent.episodes.play_episodes`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reflect_agent.episodes import Decision, Episode, ScoredPrompts, Turn, decide, make_envs, play_episodes
from reflect_agent.policy import LMPolicy
from reflect_agent.reflector import Reflector
from reflect_agent.stats import wilson_interval


@dataclass
class EvalResult:
    """Success and return over evaluation episodes, with a 95% Wilson interval on the success rate.

    Attributes:
        env_id: The env played.
        episodes: Episodes played.
        successes: Episodes that reached their goal.
        success_rate: ``successes / episodes``.
        ci_low: Lower end of the 95% Wilson interval of the success rate.
        ci_high: Upper end of that interval.
        mean_return: Mean undiscounted return.
        mean_length: Mean number of steps.
        decisions: Decisions taken (steps of all episodes).
        seconds: Wall-clock seconds of the evaluation.
        invalid_steps: Steps the env counted as invalid actions.
        decide_seconds: Seconds the agent spent deciding (``0``: not measured).
        solved_seeds: The seeds of the episodes that succeeded, ascending, for paired comparisons of evaluations
            on the same seeds (``None`` in results saved before they were recorded).
    """

    env_id: str
    episodes: int
    successes: int
    success_rate: float
    ci_low: float
    ci_high: float
    mean_return: float
    mean_length: float
    decisions: int
    seconds: float
    invalid_steps: int = 0
    decide_seconds: float = 0.0
    solved_seeds: tuple[int, ...] | None = None

    @classmethod
    def merge(cls, results: Sequence[EvalResult]) -> EvalResult:
        """One result of the episodes behind ``results``: the shares of one evaluation that several processes played.

        Counts add up, means are weighted by episodes, and the seconds are the slowest share's (the shares ran at
        once).
        """
        episodes = sum(r.episodes for r in results)
        successes = sum(r.successes for r in results)
        low, high = wilson_interval(successes, episodes)
        return cls(
            env_id=results[0].env_id,
            episodes=episodes,
            successes=successes,
            success_rate=successes / episodes,
            ci_low=low,
            ci_high=high,
            mean_return=sum(r.mean_return * r.episodes for r in results) / episodes,
            mean_length=sum(r.mean_length * r.episodes for r in results) / episodes,
            decisions=sum(r.decisions for r in results),
            seconds=max(r.seconds for r in results),
            invalid_steps=sum(r.invalid_steps for r in results),
            decide_seconds=max(r.decide_seconds for r in results),
            solved_seeds=None
            if any(r.solved_seeds is None for r in results)
            else tuple(sorted(seed for r in results for seed in r.solved_seeds)),
        )

    @classmethod
    def of(cls, env_id: str, episodes: Sequence[Episode], seconds: float, decide_seconds: float = 0.0) -> EvalResult:
        """The summary of played ``episodes``.

        Raises:
            ValueError: No episodes.
        """
        if not episodes:
            raise ValueError("An evaluation needs at least one episode.")
        successes = sum(e.success for e in episodes)
        low, high = wilson_interval(successes, len(episodes))
        return cls(
            env_id=env_id,
            episodes=len(episodes),
            successes=successes,
            success_rate=successes / len(episodes),
            ci_low=low,
            ci_high=high,
            mean_return=float(np.mean([e.total_reward for e in episodes])),
            mean_length=float(np.mean([len(e) for e in episodes])),
            decisions=sum(len(e) for e in episodes),
            seconds=seconds,
            invalid_steps=sum(e.invalid_steps for e in episodes),
            decide_seconds=decide_seconds,
            solved_seeds=tuple(sorted(e.seed for e in episodes if e.success)),
        )

    @property
    def invalid_action_rate(self) -> float:
        """Share of the steps that were invalid actions."""
        return self.invalid_steps / max(self.decisions, 1)

    @property
    def decisions_per_second(self) -> float:
        """Decisions per second of the agent's own deciding time (``0`` when it was not measured)."""
        return self.decisions / self.decide_seconds if self.decide_seconds > 0 else 0.0

    def row(self) -> str:
        """One line: ``success 62.5% [44.3, 77.7] over 32 episodes, return ..., length ...``."""
        return (
            f"success {100 * self.success_rate:.1f}% [{100 * self.ci_low:.1f}, {100 * self.ci_high:.1f}] "
            f"over {self.episodes} episodes, return {self.mean_return:+.3f}, length {self.mean_length:.1f}"
        )


def evaluate(
    policy: LMPolicy,
    reflector: Reflector | None,
    env_id: str,
    seeds: Sequence[int],
    *,
    num_envs: int = 8,
    vectorization: str = "sync",
    env_kwargs: dict[str, Any] | None = None,
    greedy: bool = True,
) -> EvalResult:
    """Play one episode per seed (``num_envs`` at a time) and report success, return and length.

    The policy plays in eval mode (no dropout, also in modules added to it since it was built, such as a LoRA
    adapter from peft's ``add_weighted_adapter``) and is left in the mode it was in.

    Raises:
        ValueError: No seeds.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("evaluate needs at least one seed.")
    start = time.perf_counter()
    timings: dict[str, float] = {}
    envs = make_envs(env_id, min(num_envs, len(seeds)), vectorization=vectorization, env_kwargs=env_kwargs)
    was_training = policy.training
    policy.eval()
    try:
        scored = ScoredPrompts(policy)  # one policy throughout: a prompt met again is not run again

        def act(turns: list[Turn]):
            return decide(policy, reflector, turns, greedy=greedy, timings=timings, scored=scored)

        episodes = play_episodes(envs, seeds, act, env_id=env_id)
    finally:
        envs.close()
        policy.train(was_training)
    decide_seconds = timings.get("reflect_s", 0.0) + timings.get("policy_s", 0.0)
    return EvalResult.of(env_id, episodes, time.perf_counter() - start, decide_seconds)


def reference_successes(
    env_id: str, seeds: Sequence[int], *, env_kwargs: dict[str, Any] | None = None
) -> dict[str, int]:
    """Successes of a uniformly random agent and of the env's expert on ``seeds``: a result's floor and ceiling.

    The random agent draws among the admissible actions with a generator seeded by each episode's seed, so its
    count is a function of the seeds.
    """
    envs = make_envs(env_id, 1, env_kwargs=env_kwargs)
    generators: dict[int, np.random.Generator] = {}

    def random_actions(turns: list[Turn]) -> Decision:
        for turn in turns:
            if turn.step == 0:
                generators[turn.seed] = np.random.default_rng(turn.seed)
        return Decision([int(generators[t.seed].choice(np.flatnonzero(t.info["action_mask"]))) for t in turns])

    def expert_actions(turns: list[Turn]) -> Decision:
        experts = envs.call("expert_action")
        return Decision([int(experts[t.index]) for t in turns])

    try:
        return {
            kind: sum(e.success for e in play_episodes(envs, seeds, act, env_id=env_id))
            for kind, act in (("random", random_actions), ("expert", expert_actions))
        }
    finally:
        envs.close()
