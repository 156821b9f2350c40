"""Returns and advantages: over time-major rollouts (Monte-Carlo, GAE), and within groups (GRPO, RLOO, GiGPO).

The critic's estimators take ``(T, N)`` tensors: ``T`` steps of ``N`` independent columns (envs, or replayed
episodes). A column may hold several episodes back to back, or one episode followed by padding; both
work because the recursions restart wherever ``dones`` is set. The value that follows a step comes in
``next_values``: the value of the next state of the same episode, the value of the last observation
where the episode was *truncated* (the horizon ran out, so the future still had value), and anything
where it *terminated* (ignored: nothing follows a terminal state). :func:`next_state_values` builds it.

The critic-free estimators compare samples within groups (:func:`group_relative`): episodes played from the
same initial state (GRPO, Shao et al. 2024; RLOO, Ahmadian et al. 2024), and, for GiGPO's step term (Feng et
al. 2025), the steps of a group's episodes that were taken in the same state (*anchor states*), each with its
discounted return from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Advantages:
    """A rollout's advantages, and for group estimators what they say about the groups.

    Attributes:
        advantages: ``(B,)`` per decision.
        returns: ``(B,)`` each decision's return (the value head's target; no bootstrap for group estimators).
        keep: ``(B,)`` bool: the decision enters the update (see ``RLConfig.drop_uniform_groups``).
        metrics: For group estimators, ``groups/...`` metrics: the spread of returns within groups, the share of groups whose
            decisions all have zero advantage (and of those dropped), the size of anchor groups.
    """

    advantages: torch.Tensor
    returns: torch.Tensor
    keep: torch.Tensor
    metrics: dict[str, float]


def next_state_values(values: torch.Tensor, dones: torch.Tensor, final_values: torch.Tensor) -> torch.Tensor:
    """The value of the state after each step, for :func:`gae` and :func:`monte_carlo_returns`.

    Args:
        values: ``(T, N)`` value estimates of the states in which each step was taken.
        dones: ``(T, N)`` bool, the episode ended at this step (terminated, truncated, or padding).
        final_values: ``(T, N)`` value of the final observation where an episode ended; only read
            where ``dones`` is set (and only matters where the end was a truncation).

    Returns:
        ``(T, N)``: ``values[t + 1]`` inside an episode, ``final_values[t]`` where it ended. The last
        row, with no successor in the rollout, takes ``final_values`` too (the caller bootstraps a
        rollout cut before the episode ended by passing the value of its next state there).
    """
    shifted = torch.cat([values[1:], final_values[-1:]])  # (T, N)
    return torch.where(dones, final_values, shifted)


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    terminations: torch.Tensor,
    *,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation (Schulman et al. 2016), vectorized over columns.

    ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)`` and
    ``A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}``: the value after a truncation is
    bootstrapped, the value after a termination is zero, and no advantage flows across episodes.

    Args:
        rewards: ``(T, N)`` rewards.
        values: ``(T, N)`` values of the states acted in.
        next_values: ``(T, N)`` values of the states reached (see :func:`next_state_values`).
        dones: ``(T, N)`` bool, the episode ended at this step (terminated or truncated).
        terminations: ``(T, N)`` bool, the episode ended in a terminal state (implies ``dones``).
        gamma: Discount factor (the paper uses 1: no discount).
        gae_lambda: GAE's lambda; 1 gives Monte-Carlo returns minus the value baseline.

    Returns:
        ``(advantages, returns)``, both ``(T, N)``, with ``returns = advantages + values`` (the value
        head's regression target).
    """
    _check_shapes(rewards, values, next_values, dones, terminations)
    deltas = rewards + gamma * next_values * ~terminations - values  # (T, N)
    carry = gamma * gae_lambda * ~dones  # (T, N)
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])  # (N,)
    for t in reversed(range(rewards.shape[0])):
        running = deltas[t] + carry[t] * running
        advantages[t] = running
    return advantages, advantages + values


def monte_carlo_returns(
    rewards: torch.Tensor,
    dones: torch.Tensor,
    terminations: torch.Tensor,
    next_values: torch.Tensor,
    *,
    gamma: float,
) -> torch.Tensor:
    """Monte-Carlo returns, ``G_t = r_t + gamma * G_{t+1}``, as in the paper (``gamma = 1``).

    At the end of an episode ``G_{t+1}`` is zero after a termination and ``next_values[t]`` (the value
    head's estimate of the final observation) after a truncation; pass zeros as ``next_values`` for
    returns without any bootstrap.

    Args:
        rewards: ``(T, N)`` rewards.
        dones: ``(T, N)`` bool, the episode ended at this step.
        terminations: ``(T, N)`` bool, the episode ended in a terminal state.
        next_values: ``(T, N)`` values of the states reached (see :func:`next_state_values`).
        gamma: Discount factor.

    Returns:
        ``(T, N)`` returns.
    """
    _check_shapes(rewards, dones, terminations, next_values)
    truncated = dones & ~terminations  # (T, N)
    carry = gamma * ~dones  # (T, N)
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])  # (N,)
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * truncated[t] * next_values[t] + carry[t] * running
        returns[t] = running
    return returns


def normalize(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean and unit (unbiased) variance; a single entry has no spread and is centered only, and ``eps`` keeps
    entries that (nearly) all agree bounded."""
    if advantages.numel() == 0:
        return advantages
    centered = advantages - advantages.mean()
    if advantages.numel() < 2:
        return centered
    return centered / (advantages.std() + eps)


def group_relative(
    values: torch.Tensor,
    groups: torch.Tensor,
    *,
    scale: bool = True,
    leave_one_out: bool = False,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Each value less the mean of its group: GRPO's and RLOO's advantage, and GiGPO's step term.

    Args:
        values: ``(K,)`` one value per sample (an episode's return, or a step's return from its state).
        groups: ``(K,)`` integer group of each sample (any ids; samples of a group need not be adjacent).
        scale: Divide by the group's standard deviation (unbiased, plus ``eps``), as GRPO does; a group
            whose values are all equal then gets zeros.
        leave_one_out: Subtract the mean of the *other* samples of the group (RLOO):
            ``n / (n - 1) * (value - mean)``.
        eps: Added to the standard deviation.

    Returns:
        ``(K,)`` advantages; zero for a group of one sample (nothing to compare with).
    """
    if values.dim() != 1 or values.shape != groups.shape:
        raise ValueError(
            f"Expected values and groups of one shape (K,), got {tuple(values.shape)} and {tuple(groups.shape)}."
        )
    values = values.double()
    ids, index = torch.unique(groups, return_inverse=True)  # (G,) and (K,): dense group ids
    zeros = torch.zeros(len(ids), dtype=torch.float64)  # (G,)
    count = zeros.index_add(0, index, torch.ones_like(values))  # (G,)
    mean = zeros.index_add(0, index, values) / count  # (G,)
    deviation = values - mean[index]  # (K,)
    size = count[index]  # (K,)
    advantages = deviation * size / (size - 1).clamp(min=1) if leave_one_out else deviation
    if scale:
        std = (zeros.index_add(0, index, deviation**2) / (count - 1).clamp(min=1)).sqrt()  # (G,)
        advantages = advantages / (std[index] + eps)
    return advantages.masked_fill(size < 2, 0.0).float()


def _check_shapes(*tensors: torch.Tensor) -> None:
    shape = tensors[0].shape
    if len(shape) != 2:
        raise ValueError(f"Expected (T, N) tensors, got shape {tuple(shape)}; add a column axis for a single episode.")
    for tensor in tensors[1:]:
        if tensor.shape != shape:
            raise ValueError(f"All inputs must share shape {tuple(shape)}, got {tuple(tensor.shape)}.")
