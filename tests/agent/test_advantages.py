"""Returns and advantages: the vectorized code against plain per-episode Python loops."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.advantages import gae, monte_carlo_returns, next_state_values, normalize


def random_rollout(seed: int, steps: int = 9, columns: int = 5):
    """``(T, N)`` rollout grids with several episodes per column, mixing terminations and truncations."""
    generator = torch.Generator().manual_seed(seed)
    rewards = torch.randn(steps, columns, generator=generator)
    values = torch.randn(steps, columns, generator=generator)
    dones = torch.rand(steps, columns, generator=generator) < 0.3
    dones[-1] = True  # every column's last episode ends within the grid
    terminations = dones & (torch.rand(steps, columns, generator=generator) < 0.5)
    final_values = torch.randn(steps, columns, generator=generator)
    return rewards, values, dones, terminations, final_values


def reference(rewards, values, dones, terminations, final_values, gamma, lam):
    """GAE and Monte-Carlo returns by the textbook recursions, one column and one step at a time."""
    steps, columns = rewards.shape
    advantages = torch.zeros(steps, columns, dtype=torch.float64)
    returns = torch.zeros(steps, columns, dtype=torch.float64)
    for n in range(columns):
        next_advantage, next_return = 0.0, 0.0
        for t in reversed(range(steps)):
            r, v = float(rewards[t, n]), float(values[t, n])
            if dones[t, n]:
                # The episode ends here: nothing follows a termination; a truncation is bootstrapped.
                bootstrap = 0.0 if terminations[t, n] else float(final_values[t, n])
                delta = r + gamma * bootstrap - v
                next_advantage = delta
                next_return = r + gamma * bootstrap
            else:
                delta = r + gamma * float(values[t + 1, n]) - v
                next_advantage = delta + gamma * lam * next_advantage
                next_return = r + gamma * next_return
            advantages[t, n] = next_advantage
            returns[t, n] = next_return
    return advantages, returns


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 0.95), (0.9, 0.8), (1.0, 1.0), (0.99, 0.0)])
def test_gae_and_returns_match_the_python_loop(seed, gamma, lam):
    rewards, values, dones, terminations, final_values = random_rollout(seed)
    next_values = next_state_values(values, dones, final_values)
    advantages, gae_returns = gae(rewards, values, next_values, dones, terminations, gamma=gamma, gae_lambda=lam)
    mc = monte_carlo_returns(rewards, dones, terminations, next_values, gamma=gamma)
    expected_advantages, expected_returns = reference(rewards, values, dones, terminations, final_values, gamma, lam)
    torch.testing.assert_close(advantages.double(), expected_advantages, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gae_returns, advantages + values)
    torch.testing.assert_close(mc.double(), expected_returns, rtol=1e-5, atol=1e-5)


def test_gae_with_lambda_one_is_the_monte_carlo_return_minus_the_value():
    rewards, values, dones, terminations, final_values = random_rollout(7)
    next_values = next_state_values(values, dones, final_values)
    advantages, _ = gae(rewards, values, next_values, dones, terminations, gamma=1.0, gae_lambda=1.0)
    returns = monte_carlo_returns(rewards, dones, terminations, next_values, gamma=1.0)
    torch.testing.assert_close(advantages, returns - values, rtol=1e-5, atol=1e-5)


def test_bootstrap_on_truncation_not_on_termination():
    # One column truncated after 2 steps, one terminated after 2 steps; same rewards, same final value.
    rewards = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    dones = torch.tensor([[False, False], [True, True]])
    terminations = torch.tensor([[False, False], [False, True]])
    final_values = torch.full((2, 2), 5.0)
    values = torch.zeros(2, 2)
    returns = monte_carlo_returns(rewards, dones, terminations, next_state_values(values, dones, final_values), gamma=1)
    assert returns[:, 0].tolist() == [7.0, 6.0]  # truncated: 1 + 1 + V(final) = 7
    assert returns[:, 1].tolist() == [2.0, 1.0]  # terminated: no bootstrap


def test_padding_after_an_episode_changes_nothing():
    rewards, values, dones, terminations, final_values = random_rollout(3, steps=6, columns=3)
    padded = [
        torch.cat([x, torch.full((4, 3), fill, dtype=x.dtype)])
        for x, fill in zip(
            (rewards, values, dones, terminations, final_values), (0.0, 0.0, True, False, 0.0), strict=True
        )
    ]
    discount = {"gamma": 0.9, "gae_lambda": 0.95}
    short = gae(rewards, values, next_state_values(values, dones, final_values), dones, terminations, **discount)[0]
    long = gae(
        padded[0], padded[1], next_state_values(padded[1], padded[2], padded[4]), padded[2], padded[3], **discount
    )[0]
    torch.testing.assert_close(long[:6], short)
    assert long[6:].abs().max() == 0


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(T, N\)"):
        monte_carlo_returns(
            torch.zeros(3),
            torch.zeros(3, dtype=torch.bool),
            torch.zeros(3, dtype=torch.bool),
            torch.zeros(3),
            gamma=1.0,
        )


def _inputs(wrong: int) -> list[torch.Tensor]:
    """rewards, values, next_values, dones, terminations of shape (3, 2), but input ``wrong`` of shape (3, 1)."""
    shapes = [(3, 1) if index == wrong else (3, 2) for index in range(5)]
    return [torch.zeros(shapes[i]) for i in range(3)] + [torch.ones(shapes[i], dtype=torch.bool) for i in (3, 4)]


@pytest.mark.parametrize("wrong", range(5))
def test_every_input_of_another_shape_is_refused(wrong):
    rewards, values, next_values, dones, terminations = _inputs(wrong)
    shapes = r"share shape \(3, (1|2)\), got \(3, (1|2)\)"
    with pytest.raises(ValueError, match=shapes):
        gae(rewards, values, next_values, dones, terminations, gamma=1.0, gae_lambda=0.95)
    if wrong != 1:  # Monte-Carlo returns take no values
        with pytest.raises(ValueError, match=shapes):
            monte_carlo_returns(rewards, dones, terminations, next_values, gamma=1.0)


def test_a_rollout_of_one_step_scores_each_decision_by_its_reward():
    rewards, values = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[0.5, 0.5, 0.5]])
    dones = terminations = torch.ones(1, 3, dtype=torch.bool)
    next_values = next_state_values(values, dones, torch.full((1, 3), 9.0))
    advantages, returns = gae(rewards, values, next_values, dones, terminations, gamma=0.9, gae_lambda=0.95)
    assert advantages.tolist() == [[0.5, -0.5, -1.5]] and returns.tolist() == rewards.tolist()
    assert monte_carlo_returns(rewards, dones, terminations, next_values, gamma=0.9).tolist() == rewards.tolist()


def test_normalize_centers_a_single_entry_and_leaves_none_alone():
    assert normalize(torch.tensor([4.0])).tolist() == [0.0]
    assert normalize(torch.zeros(0)).shape == (0,)


def test_normalize_divides_by_the_unbiased_std_from_two_entries_on():
    torch.testing.assert_close(normalize(torch.tensor([1.0, 3.0])), torch.tensor([-1.0, 1.0]) / 2**0.5)
    x = torch.tensor([2.0, 4.0, 9.0])
    torch.testing.assert_close(normalize(x), (x - x.mean()) / x.std())
    # Entries (almost) all equal: eps keeps the result bounded, with the deviations' signs.
    nearly = normalize(torch.tensor([0.0, 2e-8]))
    assert nearly[0] < 0 < nearly[1] and nearly.abs().max() < 1
    assert normalize(torch.tensor([5.0, 5.0, 5.0])).tolist() == [0.0, 0.0, 0.0]
