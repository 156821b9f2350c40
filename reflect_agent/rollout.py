"""Rollouts: the policy (and the frozen reflector) play a Gymnasium vector env, batched.

Each env of the vector env plays exactly one episode per rollout, from a reset with a given seed, so a
rollout is a function of the seeds and the random state alone: a resumed run replays the very same
episodes. At every step the envs still playing form one batch: the reflector writes their analyses
(with the last action, :func:`reflect_agent.data.reflector_state`), the policy encodes state, actions,
analysis and the episode's past actions (for :attr:`reflect_agent.policy.PolicyConfig.repeat_penalty`) and
takes one forward pass for action, log-probability and value, and the vector env steps.

The vector env keeps Gymnasium's default ``NEXT_STEP`` autoreset: the step that ends an episode
returns that episode's own last observation and info (its ``success``, and the observation to
bootstrap from on truncation), and an env that has finished is left out of every later batch; its
next step (the autoreset) and any after it are ignored.

Results are kept in two layouts: one row per decision (the encoded prompts and what the policy did),
and ``(T, N)`` grids of rewards and episode ends for :mod:`reflect_agent.advantages`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.data import reflector_state
from reflect_agent.policy import LMPolicy
from reflect_agent.reflector import Reflector
from reflect_agent.replay import Episode
from reflect_agent.tensors import PolicyBatch

#: The standard normal quantile of a two-sided 95% interval.
Z_95 = 1.959963984540054


@dataclass
class Rollout:
    """Decisions of one or more rollouts, as rows and as ``(T, N)`` grids.

    Attributes:
        batch: The encoded prompts, one row per decision (ordered by step, then column).
        steps: ``(B,)`` step index of each decision within its episode.
        columns: ``(B,)`` column (env, or replayed episode) of each decision.
        actions: ``(B,)`` action taken.
        logprobs: ``(B,)`` log-probability of the action under the policy that acted.
        values: ``(B,)`` value estimate of the state.
        rewards: ``(T, N)`` rewards (0 after an episode's end).
        dones: ``(T, N)`` bool: the episode ended at this step, or had already ended (padding).
        terminations: ``(T, N)`` bool: the episode ended in a terminal state at this step.
        final_values: ``(T, N)`` value of the last observation where an episode was truncated (else 0).
        episodes: One :class:`Episode` per column.
        timings: Seconds spent reflecting, in the policy, and in the envs.
    """

    batch: PolicyBatch
    steps: torch.Tensor
    columns: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    terminations: torch.Tensor
    final_values: torch.Tensor
    episodes: list[Episode]
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)

    def grid(self, flat: torch.Tensor) -> torch.Tensor:
        """Scatter per-decision values ``(B,)`` into a ``(T, N)`` grid (zeros elsewhere)."""
        grid = torch.zeros(self.rewards.shape, dtype=flat.dtype)
        grid[self.steps, self.columns] = flat
        return grid

    def flat(self, grid: torch.Tensor) -> torch.Tensor:
        """Gather a ``(T, N)`` grid back into per-decision values ``(B,)``."""
        return grid[self.steps, self.columns]

    @staticmethod
    def cat(rollouts: Sequence[Rollout]) -> Rollout:
        """Put rollouts side by side: columns are concatenated, grids padded to the longest ``T``."""
        rollouts = [r for r in rollouts if len(r)]
        if not rollouts:
            raise ValueError("Rollout.cat needs at least one non-empty rollout.")
        height = max(r.rewards.shape[0] for r in rollouts)

        def pad(grid: torch.Tensor, value: float | bool) -> torch.Tensor:
            extra = torch.full((height - grid.shape[0], grid.shape[1]), value, dtype=grid.dtype)
            return torch.cat([grid, extra])

        offsets = np.cumsum([0] + [r.rewards.shape[1] for r in rollouts[:-1]])
        timings: dict[str, float] = {}
        for r in rollouts:
            for key, seconds in r.timings.items():
                timings[key] = timings.get(key, 0.0) + seconds
        return Rollout(
            batch=PolicyBatch.cat([r.batch for r in rollouts]),
            steps=torch.cat([r.steps for r in rollouts]),
            columns=torch.cat([r.columns + int(o) for r, o in zip(rollouts, offsets, strict=True)]),
            actions=torch.cat([r.actions for r in rollouts]),
            logprobs=torch.cat([r.logprobs for r in rollouts]),
            values=torch.cat([r.values for r in rollouts]),
            rewards=torch.cat([pad(r.rewards, 0.0) for r in rollouts], dim=1),
            dones=torch.cat([pad(r.dones, True) for r in rollouts], dim=1),
            terminations=torch.cat([pad(r.terminations, False) for r in rollouts], dim=1),
            final_values=torch.cat([pad(r.final_values, 0.0) for r in rollouts], dim=1),
            episodes=[e for r in rollouts for e in r.episodes],
            timings=timings,
        )


def make_envs(
    env_id: str, num_envs: int, *, vectorization: str = "sync", env_kwargs: dict[str, Any] | None = None
) -> gym.vector.VectorEnv:
    """``gym.make_vec`` of a registered id (``"sync"`` or ``"async"``), with its default autoreset."""
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=vectorization, **(env_kwargs or {}))


def _reflect(
    reflector: Reflector | None, states: list[str], actions: list[list[str]], previous: list[str | None]
) -> list[str | None] | None:
    if reflector is None:
        return None
    seen = [reflector_state(s, p) for s, p in zip(states, previous, strict=True)]
    return list(reflector.reflect(seen, actions))


def collect_rollout(
    envs: gym.vector.VectorEnv,
    policy: LMPolicy,
    reflector: Reflector | None,
    seeds: Sequence[int],
    *,
    greedy: bool = False,
    bootstrap_truncation: bool = True,
    env_id: str = "",
    max_steps: int = 10_000,
) -> Rollout:
    """Play one episode in each env of ``envs`` (reset with ``seeds``), batched; see the module docstring.

    Args:
        envs: A vector env of ReflectRL envs (default ``NEXT_STEP`` autoreset).
        policy: Chooses the actions.
        reflector: Writes an analysis per decision (``None``: no reflection).
        seeds: One reset seed per env.
        greedy: Take the policy's most likely action instead of sampling (evaluation).
        bootstrap_truncation: Estimate the value of the last observation of truncated episodes.
        env_id: Recorded in the episodes.
        max_steps: Safety bound on an episode's length (the envs own truncation).

    Returns:
        The rollout (on CPU).
    """
    count = envs.num_envs
    if len(seeds) != count:
        raise ValueError(f"Got {len(seeds)} seeds for {count} envs; pass one seed per env.")
    timings = {"reflect_s": 0.0, "policy_s": 0.0, "env_s": 0.0}
    start = time.perf_counter()
    _, infos = envs.reset(seed=[int(s) for s in seeds])
    timings["env_s"] += time.perf_counter() - start

    episodes = [Episode([], [], [], [], [], terminated=False, success=False, env_id=env_id) for _ in range(count)]
    previous: list[str | None] = [None] * count
    active = np.ones(count, dtype=bool)
    rows: list[PolicyBatch] = []
    steps: list[int] = []
    columns: list[int] = []
    actions: list[torch.Tensor] = []
    logprobs: list[torch.Tensor] = []
    values: list[torch.Tensor] = []
    step_rewards: list[float] = []
    truncated_at: dict[int, tuple[int, str, list[str], str | None]] = {}  # column -> (step, state, actions, last)

    for step in range(max_steps):
        playing = np.flatnonzero(active)
        if len(playing) == 0:
            break
        states = [str(infos["state"][i]) for i in playing]
        admissible = [list(infos["actions"][i]) for i in playing]
        start = time.perf_counter()
        reflections = _reflect(reflector, states, admissible, [previous[i] for i in playing])
        timings["reflect_s"] += time.perf_counter() - start

        start = time.perf_counter()
        batch = policy.encode(states, admissible, reflections, [episodes[i].taken() for i in playing])
        with torch.no_grad():
            action, logprob, _, value = policy.get_action_and_value(batch, greedy=greedy)
        action, logprob, value = action.cpu(), logprob.float().cpu(), value.float().cpu()
        timings["policy_s"] += time.perf_counter() - start

        chosen = np.zeros(count, dtype=np.int64)
        chosen[playing] = action.numpy()
        start = time.perf_counter()
        _, reward, terminated, truncated, infos = envs.step(chosen)
        timings["env_s"] += time.perf_counter() - start

        rows.append(batch)
        steps += [step] * len(playing)
        columns += playing.tolist()
        actions.append(action)
        logprobs.append(logprob)
        values.append(value)
        for j, i in enumerate(playing):
            episode = episodes[i]
            episode.states.append(states[j])
            episode.actions.append(admissible[j])
            episode.reflections.append(reflections[j] if reflections is not None else None)
            episode.chosen.append(int(action[j]))
            episode.rewards.append(float(reward[i]))
            step_rewards.append(float(reward[i]))
            previous[i] = admissible[j][int(action[j])]
            if terminated[i] or truncated[i]:
                active[i] = False
                episode.terminated = bool(terminated[i])
                episode.success = bool(infos["success"][i])
                if truncated[i] and not terminated[i]:
                    truncated_at[int(i)] = (step, str(infos["state"][i]), list(infos["actions"][i]), previous[i])
    else:
        raise RuntimeError(f"Episodes of {env_id or 'the env'} ran past max_steps={max_steps}; does the env truncate?")

    height = max(len(e) for e in episodes)
    step_index, column_index = torch.tensor(steps), torch.tensor(columns)
    rewards = torch.zeros((height, count))
    rewards[step_index, column_index] = torch.tensor(step_rewards, dtype=torch.float32)
    dones = torch.ones((height, count), dtype=torch.bool)
    terminations = torch.zeros((height, count), dtype=torch.bool)
    for column, episode in enumerate(episodes):
        dones[: len(episode) - 1, column] = False
        terminations[len(episode) - 1, column] = episode.terminated

    final_values = torch.zeros((height, count))
    if bootstrap_truncation and truncated_at:
        start = time.perf_counter()
        order = sorted(truncated_at)
        states = [truncated_at[c][1] for c in order]
        admissible = [truncated_at[c][2] for c in order]
        reflections = _reflect(reflector, states, admissible, [truncated_at[c][3] for c in order])
        with torch.no_grad():
            _, _, _, value = policy.get_action_and_value(policy.encode(states, admissible, reflections), greedy=True)
        for column, estimate in zip(order, value.float().cpu(), strict=True):
            final_values[truncated_at[column][0], column] = estimate
        timings["policy_s"] += time.perf_counter() - start

    return Rollout(
        batch=PolicyBatch.cat(rows),
        steps=step_index,
        columns=column_index,
        actions=torch.cat(actions),
        logprobs=torch.cat(logprobs),
        values=torch.cat(values),
        rewards=rewards,
        dones=dones,
        terminations=terminations,
        final_values=final_values,
        episodes=episodes,
        timings=timings,
    )


def score_episodes(policy: LMPolicy, episodes: Sequence[Episode], *, chunk: int = 16) -> Rollout:
    """Re-encode stored episodes and score their actions under the current policy (no gradients).

    Replayed episodes then enter the update like fresh ones: their PPO ratios start at one, and their
    advantages come from their own rewards and the current value estimates. Episodes are assumed
    complete; one that was truncated is not bootstrapped (its last observation is not stored).
    """
    if not episodes:
        raise ValueError("score_episodes needs at least one episode.")
    height = max(len(e) for e in episodes)
    steps = [t for e in episodes for t in range(len(e))]
    columns = [c for c, e in enumerate(episodes) for _ in range(len(e))]
    states = [s for e in episodes for s in e.states]
    admissible = [a for e in episodes for a in e.actions]
    reflections = [r for e in episodes for r in e.reflections]
    taken = [e.taken(t) for e in episodes for t in range(len(e))]
    actions = torch.tensor([a for e in episodes for a in e.chosen], dtype=torch.long)
    batches, logprobs, values = [], [], []
    start = time.perf_counter()
    for first in range(0, len(states), chunk):
        part = slice(first, first + chunk)
        batch = policy.encode(states[part], admissible[part], reflections[part], taken[part])
        with torch.no_grad():
            _, logprob, _, value = policy.get_action_and_value(batch, actions[part])
        batches.append(batch)
        logprobs.append(logprob.float().cpu())
        values.append(value.float().cpu())
    rewards = torch.zeros((height, len(episodes)))
    dones = torch.ones((height, len(episodes)), dtype=torch.bool)
    terminations = torch.zeros((height, len(episodes)), dtype=torch.bool)
    for column, episode in enumerate(episodes):
        rewards[: len(episode), column] = torch.tensor(episode.rewards, dtype=torch.float32)
        dones[: len(episode) - 1, column] = False
        terminations[len(episode) - 1, column] = episode.terminated
    return Rollout(
        batch=PolicyBatch.cat(batches),
        steps=torch.tensor(steps),
        columns=torch.tensor(columns),
        actions=actions,
        logprobs=torch.cat(logprobs),
        values=torch.cat(values),
        rewards=rewards,
        dones=dones,
        terminations=terminations,
        final_values=torch.zeros((height, len(episodes))),
        episodes=list(episodes),
        timings={"policy_s": time.perf_counter() - start},
    )


# --------------------------------------------------------------------------------------------------
# Evaluation.


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default); ``(0, 1)`` without trials."""
    if trials < 1:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    center = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, center - half), min(1.0, center + half)


@dataclass
class EvalResult:
    """Success and return over evaluation episodes, with a 95% Wilson interval on the success rate."""

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

    def row(self) -> str:
        """One line: ``success 62.5% [44.3, 77.7] over 32 episodes``."""
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
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("evaluate needs at least one seed.")
    start = time.perf_counter()
    episodes: list[Episode] = []
    decisions = 0
    envs = make_envs(env_id, min(num_envs, len(seeds)), vectorization=vectorization, env_kwargs=env_kwargs)
    was_training = policy.training
    policy.eval()
    try:
        for first in range(0, len(seeds), envs.num_envs):
            chunk = seeds[first : first + envs.num_envs]
            # A last, smaller chunk reuses the vector env: surplus envs replay the chunk's first seed.
            padded = chunk + [chunk[0]] * (envs.num_envs - len(chunk))
            rollout = collect_rollout(
                envs, policy, reflector, padded, greedy=greedy, bootstrap_truncation=False, env_id=env_id
            )
            episodes += rollout.episodes[: len(chunk)]
            decisions += sum(len(e) for e in rollout.episodes[: len(chunk)])
    finally:
        envs.close()
        policy.train(was_training)
    successes = sum(e.success for e in episodes)
    low, high = wilson_interval(successes, len(episodes))
    return EvalResult(
        env_id=env_id,
        episodes=len(episodes),
        successes=successes,
        success_rate=successes / len(episodes),
        ci_low=low,
        ci_high=high,
        mean_return=float(np.mean([sum(e.rewards) for e in episodes])),
        mean_length=float(np.mean([len(e) for e in episodes])),
        decisions=decisions,
        seconds=time.perf_counter() - start,
    )
