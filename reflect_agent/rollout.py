"""Rollouts: the policy (and the frozen reflector) play a Gymnasium vector env, batched, for RL.

Each env of the vector env plays exactly one episode per rollout, from a reset with a given seed, so a
rollout is a function of the seeds and the random state alone: a resumed run replays the very same
episodes. The episodes are played by :func:`reflect_agent.episodes.play_episodes` with the LM's decision
step (:func:`reflect_agent.episodes.decide`); this module keeps what RL needs of them in two layouts: one
row per decision (the encoded prompts and what the policy did), and ``(T, N)`` grids of rewards and episode
ends for :mod:`reflect_agent.advantages`. The value of the state a truncated episode was cut in is estimated
for bootstrapping. The policy runs once per distinct prompt of a rollout (a group's episodes meet the same states:
:class:`reflect_agent.episodes.ScoredPrompts`). Under data parallelism each process collects its share and
:func:`gather_rollouts` puts the shares side by side on every process.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import gymnasium as gym
import torch

from reflect_agent.distributed import Processes
from reflect_agent.episodes import Episode, PolicyDecision, ScoredPrompts, Turn, decide, play_episodes, reflect
from reflect_agent.policy import LMPolicy
from reflect_agent.reflector import Reflector
from reflect_agent.tensors import PolicyBatch


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
        reused: Decisions whose prompt an earlier decision of the same rollout had (the policy ran once for them;
            :class:`reflect_agent.episodes.ScoredPrompts`).
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
    reused: int = 0

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
            extra = torch.full((height - grid.shape[0], grid.shape[1]), value)  # bool or float, as the grid
            return torch.cat([grid, extra])

        columns, offset = [], 0
        for r in rollouts:
            columns.append(r.columns + offset)
            offset += r.rewards.shape[1]
        timings: dict[str, float] = {}
        for r in rollouts:
            for key, seconds in r.timings.items():
                timings[key] = timings.get(key, 0.0) + seconds
        return Rollout(
            batch=PolicyBatch.cat([r.batch for r in rollouts]),
            steps=torch.cat([r.steps for r in rollouts]),
            columns=torch.cat(columns),
            actions=torch.cat([r.actions for r in rollouts]),
            logprobs=torch.cat([r.logprobs for r in rollouts]),
            values=torch.cat([r.values for r in rollouts]),
            rewards=torch.cat([pad(r.rewards, 0.0) for r in rollouts], dim=1),
            dones=torch.cat([pad(r.dones, True) for r in rollouts], dim=1),
            terminations=torch.cat([pad(r.terminations, False) for r in rollouts], dim=1),
            final_values=torch.cat([pad(r.final_values, 0.0) for r in rollouts], dim=1),
            episodes=[e for r in rollouts for e in r.episodes],
            timings=timings,
            reused=sum(r.reused for r in rollouts),
        )


def gather_rollouts(processes: Processes, rollout: Rollout | None) -> Rollout:
    """Every process's ``rollout`` side by side in rank order (:meth:`Rollout.cat`), on every process; ``None``
    stands for a process with nothing to add. One process gets its own rollout back.

    The timings are the slowest process's, key by key: the processes play at the same time.

    Raises:
        ValueError: No process has a rollout.
    """
    if processes.count == 1 and rollout is not None:
        return rollout
    parts = [part for part in processes.gather(rollout) if part is not None]
    merged = Rollout.cat(parts)
    merged.timings = {key: max(part.timings.get(key, 0.0) for part in parts) for key in merged.timings}
    return merged


def collect_rollout(
    envs: gym.vector.VectorEnv,
    policy: LMPolicy,
    reflector: Reflector | None,
    seeds: Sequence[int],
    *,
    env_id: str,
    greedy: bool = False,
    bootstrap_truncation: bool = True,
    keep_frozen: bool = False,
    reuse_prompts: bool = True,
) -> Rollout:
    """Play one episode in each env of ``envs`` (reset with ``seeds``), batched; see the module docstring.

    Args:
        envs: A vector env of ReflectRL envs (default ``NEXT_STEP`` autoreset).
        policy: Chooses the actions.
        reflector: Writes an analysis per decision (``None``: no reflection).
        seeds: One reset seed per env.
        env_id: Recorded in the episodes.
        greedy: Take the policy's most likely action instead of sampling (evaluation).
        bootstrap_truncation: Estimate the value of the last observation of truncated episodes.
        keep_frozen: Keep the hidden states of the policy's frozen leading blocks in the rollout's batch, for an
            update that runs only the blocks after them (:meth:`LMPolicy.keeping_frozen_states`).
        reuse_prompts: Run the policy once per distinct prompt of the rollout (:class:`ScoredPrompts`: a group's
            episodes meet the same states); ``False``: once per decision.

    Returns:
        The rollout (on CPU).
    """
    count = envs.num_envs
    if len(seeds) != count:
        raise ValueError(f"Got {len(seeds)} seeds for {count} envs; pass one seed per env.")
    timings = {"reflect_s": 0.0, "policy_s": 0.0, "env_s": 0.0}
    scored = ScoredPrompts(policy, keep_frozen=keep_frozen) if reuse_prompts else None
    decisions: list[PolicyDecision] = []
    steps: list[int] = []
    columns: list[int] = []

    def act(turns: list[Turn]) -> PolicyDecision:
        decision = decide(
            policy, reflector, turns, greedy=greedy, timings=timings, keep_frozen=keep_frozen, scored=scored
        )
        decisions.append(decision)
        steps.extend(t.step for t in turns)
        columns.extend(t.index for t in turns)
        return decision

    episodes = play_episodes(envs, seeds, act, env_id=env_id, timings=timings)
    reused = 0
    if scored is not None:
        reused = scored.reused
        scored.entries.clear()  # its kept states are also the decisions': let go before the rollout's batch is joined

    height = max(len(e) for e in episodes)
    step_index, column_index = torch.tensor(steps), torch.tensor(columns)
    rewards = torch.zeros((height, count))
    dones = torch.ones((height, count), dtype=torch.bool)
    terminations = torch.zeros((height, count), dtype=torch.bool)
    for column, episode in enumerate(episodes):
        rewards[: len(episode), column] = torch.tensor(episode.rewards)
        dones[: len(episode) - 1, column] = False
        terminations[len(episode) - 1, column] = episode.terminated

    final_values = torch.zeros((height, count))
    cut = [c for c, e in enumerate(episodes) if e.final_state is not None]
    if bootstrap_truncation and cut:
        start = time.perf_counter()
        turns = [
            Turn(c, "", {"state": e.final_state, "actions": e.final_actions}, e.last_action(), [], e.seed, len(e))
            for c in cut
            if (e := episodes[c]) is not None
        ]
        batch = policy.encode([t.state for t in turns], [t.actions for t in turns], reflect(reflector, turns))
        with torch.no_grad():
            _, values = policy(batch)  # (C,)
        last_steps = torch.tensor([len(episodes[c]) - 1 for c in cut])
        final_values[last_steps, torch.tensor(cut)] = values.float().cpu()
        timings["policy_s"] += time.perf_counter() - start

    return Rollout(
        batch=PolicyBatch.cat([d.batch for d in decisions]),
        steps=step_index,
        columns=column_index,
        actions=torch.cat([torch.tensor(d.actions, dtype=torch.long) for d in decisions]),
        logprobs=torch.cat([d.logprobs for d in decisions]),
        values=torch.cat([d.values for d in decisions]),
        rewards=rewards,
        dones=dones,
        terminations=terminations,
        final_values=final_values,
        episodes=episodes,
        timings=timings,
        reused=reused,
    )


def score_episodes(policy: LMPolicy, episodes: Sequence[Episode], *, chunk: int, keep_frozen: bool = False) -> Rollout:
    """Re-encode stored episodes and score their actions under the current policy (no gradients).

    Replayed episodes then enter the update like fresh ones: their PPO ratios start at one, and their
    advantages come from their own rewards and the current value estimates. Episodes are assumed
    complete; one that was truncated is not bootstrapped (its last observation is not stored). ``chunk``
    decisions are encoded and scored at once; ``keep_frozen`` as in :func:`collect_rollout`.
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
    actions = torch.tensor([a for e in episodes for a in e.chosen])
    batches, logprobs, values = [], [], []
    start = time.perf_counter()
    for first in range(0, len(states), chunk):
        part = slice(first, first + chunk)
        batch = policy.encode(states[part], admissible[part], reflections[part], taken[part])
        with (
            torch.no_grad(),
            policy.keeping_frozen_states(batch) if keep_frozen else contextlib.nullcontext([]) as kept,
        ):
            _, logprob, _, value = policy.get_action_and_value(batch, actions[part])
        batches.append(kept[0] if kept else batch)
        logprobs.append(logprob.float().cpu())
        values.append(value.float().cpu())
    rewards = torch.zeros((height, len(episodes)))
    dones = torch.ones((height, len(episodes)), dtype=torch.bool)
    terminations = torch.zeros((height, len(episodes)), dtype=torch.bool)
    for column, episode in enumerate(episodes):
        rewards[: len(episode), column] = torch.tensor(episode.rewards)
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
