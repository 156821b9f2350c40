"""Group rollouts and their critic-free advantages: GRPO, RLOO and GiGPO.

A group rollout plays ``group_size`` episodes from each reset seed, side by side in one vector env: every
episode of a group starts in the same state (the envs seed deterministically) and the sampled actions make them
differ. No value head is needed: an episode is judged against the other episodes of its group.

* ``grpo``: the episode's return less its group's mean, over the group's standard deviation (optional).
* ``rloo``: the episode's return less the mean of the *other* episodes of its group.
* ``gigpo``: GRPO's episode term plus ``step_coef`` times a step term. Steps taken in the same state by the
  episodes of a group (GiGPO's *anchor states*: identical state text, within one episode or across them) form an
  anchor group; a step's term is its discounted return from that state, normalized within its anchor group. A
  state visited by one step only has nothing to compare with and adds zero.

Returns are not bootstrapped: a truncated episode's return is the sum of its rewards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from reflect_agent.advantages import Advantages, group_relative, monte_carlo_returns
from reflect_agent.config import RLConfig
from reflect_agent.episodes import Episode
from reflect_agent.rollout import Rollout


def group_seeds(rng: np.random.Generator, num_envs: int, group_size: int, high: int) -> list[int]:
    """``num_envs // group_size`` reset seeds drawn from ``[0, high)``, each repeated ``group_size`` times in a row."""
    if group_size < 1 or num_envs % group_size:
        raise ValueError(f"num_envs ({num_envs}) must be a multiple of group_size ({group_size}).")
    return np.repeat(rng.integers(high, size=num_envs // group_size), group_size).tolist()


def episode_groups(episodes: Sequence[Episode]) -> torch.Tensor:
    """``(N,)`` group id of each episode: episodes from the same reset seed share one."""
    if any(e.seed is None for e in episodes):
        raise ValueError("Group advantages need each episode's reset seed; these episodes have none.")
    ids: dict[int, int] = {}
    return torch.tensor([ids.setdefault(int(e.seed), len(ids)) for e in episodes], dtype=torch.long)


def anchor_groups(rollout: Rollout) -> torch.Tensor:
    """``(B,)`` anchor group of each decision: decisions taken in the same state by episodes of the same group."""
    groups = episode_groups(rollout.episodes).tolist()
    ids: dict[tuple[int, str], int] = {}
    anchors = [
        ids.setdefault((groups[column], rollout.episodes[column].states[step]), len(ids))
        for step, column in zip(rollout.steps.tolist(), rollout.columns.tolist(), strict=True)
    ]
    return torch.tensor(anchors, dtype=torch.long)


def group_advantages(rollout: Rollout, config: RLConfig) -> Advantages:
    """The advantages of ``config.advantage`` (``grpo``, ``rloo`` or ``gigpo``) for every decision of ``rollout``."""
    groups = episode_groups(rollout.episodes)  # (N,)
    episode_returns = torch.tensor([e.total_reward for e in rollout.episodes])  # (N,)
    per_episode = group_relative(
        episode_returns, groups, scale=config.scale_by_std, leave_one_out=config.advantage == "rloo"
    )  # (N,)
    advantages = per_episode[rollout.columns]  # (B,)
    step_returns = monte_carlo_returns(
        rollout.rewards, rollout.dones, rollout.terminations, torch.zeros_like(rollout.rewards), gamma=config.gamma
    )  # (T, N)
    returns = rollout.flat(step_returns)  # (B,)
    anchors = anchor_groups(rollout)  # (B,)
    if config.advantage == "gigpo":
        advantages = advantages + config.step_coef * group_relative(returns, anchors, scale=config.scale_by_std)

    # A group whose decisions all have zero advantage teaches nothing; dropping it saves its forward passes.
    decision_groups = groups[rollout.columns]  # (B,)
    count = int(groups.max()) + 1
    signal = torch.zeros(count).index_add(0, decision_groups, advantages.abs()) > 1e-6  # (G,)
    successes = torch.tensor([float(e.success) for e in rollout.episodes])  # (N,)
    solved = torch.zeros(count).index_add(0, groups, successes) > 0  # (G,)
    used = signal | (not config.drop_uniform_groups)  # (G,)
    if config.drop_groups_without_success:
        used = used & solved
    keep = used[decision_groups]  # (B,)

    spreads = [episode_returns[groups == g].std(unbiased=False).item() for g in range(count)]
    anchor_sizes = torch.bincount(anchors)[anchors].float()  # (B,) size of each decision's anchor group
    metrics = {
        "groups/count": float(count),
        "groups/return_std": float(np.mean(spreads)),
        "groups/no_signal_share": 1.0 - signal.float().mean().item(),
        "groups/dropped_share": 1.0 - used.float().mean().item(),
        "groups/solved_share": solved.float().mean().item(),
        "groups/anchor_size": anchor_sizes.mean().item(),
        "groups/anchored_share": (anchor_sizes > 1).float().mean().item(),
    }
    return Advantages(advantages=advantages, returns=returns, keep=keep, metrics=metrics)
