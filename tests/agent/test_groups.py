"""Group rollouts and the critic-free estimators (GRPO, RLOO, GiGPO) against plain Python loops."""

from __future__ import annotations

import dataclasses
import random
import statistics

import numpy as np
import pytest
import torch

from reflect_agent.advantages import group_relative
from reflect_agent.config import RLConfig
from reflect_agent.groups import anchor_groups, episode_groups, group_advantages, group_seeds
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.rollout import score_episodes
from tests.agent.toy_envs import stored_episode as episode

EPS = 1e-6


def reference_group_relative(values, groups, *, scale, leave_one_out):
    out = []
    for value, group in zip(values, groups, strict=True):
        members = [v for v, g in zip(values, groups, strict=True) if g == group]
        if len(members) < 2:
            out.append(0.0)
            continue
        mean = statistics.fmean(members)
        advantage = value - (sum(members) - value) / (len(members) - 1) if leave_one_out else value - mean
        if scale:
            advantage /= statistics.stdev(members) + EPS
        out.append(advantage)
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("scale", "leave_one_out"), [(True, False), (False, False), (False, True), (True, True)])
def test_group_relative_matches_the_python_loop(seed, scale, leave_one_out):
    rng = random.Random(seed)
    groups = [rng.choice([3, 5, 8, 13]) for _ in range(20)]  # ids need not be dense nor adjacent
    values = [rng.choice([-1.0, 0.0, 0.5, 2.0]) for _ in groups]
    got = group_relative(torch.tensor(values), torch.tensor(groups), scale=scale, leave_one_out=leave_one_out)
    expected = reference_group_relative(values, groups, scale=scale, leave_one_out=leave_one_out)
    torch.testing.assert_close(got, torch.tensor(expected), rtol=1e-5, atol=1e-5)


def test_group_relative_refuses_other_shapes_and_takes_no_samples():
    with pytest.raises(ValueError, match=r"one shape \(K,\), got \(2, 2\) and \(2, 2\)"):
        group_relative(torch.zeros(2, 2), torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"one shape \(K,\), got \(3,\) and \(2,\)"):
        group_relative(torch.zeros(3), torch.zeros(2, dtype=torch.long))
    assert group_relative(torch.zeros(0), torch.zeros(0, dtype=torch.long)).shape == (0,)


def test_a_group_of_nearly_equal_values_stays_bounded_by_eps():
    advantages = group_relative(torch.tensor([0.0, 1e-7, 5.0, 1.0]), torch.tensor([3, 3, 8, 8]))
    assert advantages[0] < 0 < advantages[1] and advantages[:2].abs().max() < 0.1
    torch.testing.assert_close(advantages[2:], torch.tensor([1.0, -1.0]) / 2**0.5, atol=1e-5, rtol=0)


def test_group_relative_by_hand():
    values, groups = torch.tensor([1.0, 0.0, 3.0, 3.0, 7.0]), torch.tensor([0, 0, 1, 1, 2])
    # Group 0: mean 0.5, unbiased std 0.707; group 1 has no spread; group 2 has one sample.
    torch.testing.assert_close(
        group_relative(values, groups), torch.tensor([0.7071, -0.7071, 0.0, 0.0, 0.0]), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(
        group_relative(values, groups, scale=False, leave_one_out=True), torch.tensor([1.0, -1.0, 0.0, 0.0, 0.0])
    )


def reference_advantages(episodes, config):
    """GRPO/RLOO/GiGPO by their definitions, one episode and one step at a time: ``{(column, step): advantage}``."""
    returns = [e.total_reward for e in episodes]
    episode_term = reference_group_relative(
        returns, [e.seed for e in episodes], scale=config.scale_by_std, leave_one_out=config.advantage == "rloo"
    )
    step_returns, anchors, keys = [], [], []
    for column, e in enumerate(episodes):
        for step in range(len(e)):
            step_returns.append(sum(config.gamma**k * r for k, r in enumerate(e.rewards[step:])))
            anchors.append((e.seed, e.states[step]))
            keys.append((column, step))
    anchor_ids = [sorted(set(anchors)).index(a) for a in anchors]
    step_term = reference_group_relative(step_returns, anchor_ids, scale=config.scale_by_std, leave_one_out=False)
    coef = config.step_coef if config.advantage == "gigpo" else 0.0
    return {key: episode_term[key[0]] + coef * term for key, term in zip(keys, step_term, strict=True)}


@pytest.fixture(scope="module")
def scorer():
    return LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))


def hand_made_groups():
    """Two groups of different sizes; lengths differ, one episode is truncated, one repeats a state."""
    return [
        episode(7, ["A", "B", "C"], [-0.1, -0.1, 1.0]),
        episode(7, ["A", "B"], [-0.1, -1.0]),
        episode(7, ["A", "A", "B", "C"], [-0.1, -0.1, -0.1, 1.0]),  # "A" twice in one episode
        episode(7, ["A", "D"], [-0.1, -0.1], terminated=False),  # truncated: no bootstrap
        episode(9, ["A", "E"], [0.0, 1.0]),  # another seed: its "A" is another anchor
        episode(9, ["A", "E"], [0.0, 0.0]),
    ]


def random_groups(seed):
    rng = random.Random(seed)
    episodes = []
    for group_seed in rng.sample(range(100), 3):
        for _ in range(rng.choice([2, 3, 4])):
            length = rng.randint(1, 5)
            states = [rng.choice("ABC") for _ in range(length)]
            rewards = [rng.choice([-0.05, 0.0, 1.0]) for _ in range(length)]
            episodes.append(episode(group_seed, states, rewards, terminated=rng.random() < 0.7))
    return episodes


@pytest.mark.parametrize("advantage", ["grpo", "rloo", "gigpo"])
@pytest.mark.parametrize(("gamma", "scale"), [(1.0, True), (0.9, False), (0.95, True)])
@pytest.mark.parametrize("make", [hand_made_groups, lambda: random_groups(0), lambda: random_groups(1)])
def test_group_advantages_match_the_python_loop(scorer, advantage, gamma, scale, make):
    episodes = make()
    config = RLConfig(advantage=advantage, gamma=gamma, scale_by_std=scale, step_coef=0.7, drop_uniform_groups=False)
    rollout = score_episodes(scorer, episodes, chunk=64)
    got = group_advantages(rollout, config)
    expected = reference_advantages(episodes, config)
    keys = list(zip(rollout.columns.tolist(), rollout.steps.tolist(), strict=True))
    torch.testing.assert_close(got.advantages, torch.tensor([expected[k] for k in keys]), rtol=1e-4, atol=1e-4)
    returns = {
        (c, t): sum(gamma**k * r for k, r in enumerate(e.rewards[t:]))
        for c, e in enumerate(episodes)
        for t in range(len(e))
    }
    torch.testing.assert_close(got.returns, torch.tensor([returns[k] for k in keys]), rtol=1e-5, atol=1e-5)
    assert got.keep.all()


def test_anchor_groups_join_equal_states_of_one_seed_only(scorer):
    episodes = hand_made_groups()
    rollout = score_episodes(scorer, episodes, chunk=64)
    anchors = dict(
        zip(
            zip(rollout.columns.tolist(), rollout.steps.tolist(), strict=True),
            anchor_groups(rollout).tolist(),
            strict=True,
        )
    )
    group_a = {anchors[(c, t)] for c, t in [(0, 0), (1, 0), (2, 0), (2, 1), (3, 0)]}
    assert len(group_a) == 1  # across episodes and twice within episode 2
    assert anchors[(4, 0)] == anchors[(5, 0)] != anchors[(0, 0)]  # seed 9's "A" is not seed 7's
    assert anchors[(0, 2)] == anchors[(2, 3)]  # "C"


def test_gigpo_credits_the_step_that_made_the_difference(scorer):
    # Same first state; from "B" one episode stepped to the goal, the other into a wall.
    episodes = [episode(1, ["A", "B"], [0.0, 1.0]), episode(1, ["A", "B"], [0.0, -1.0])]
    rollout = score_episodes(scorer, episodes, chunk=8)
    steps = dict(
        zip(zip(rollout.columns.tolist(), rollout.steps.tolist(), strict=True), range(len(rollout)), strict=True)
    )
    grpo = group_advantages(rollout, RLConfig(advantage="grpo")).advantages
    gigpo = group_advantages(rollout, RLConfig(advantage="gigpo", step_coef=1.0)).advantages
    # GRPO gives every step of an episode the same credit; GiGPO adds the anchor comparison at "A" and "B".
    assert grpo[steps[(0, 0)]] == grpo[steps[(0, 1)]] > 0
    assert gigpo[steps[(0, 1)]] > grpo[steps[(0, 1)]] and gigpo[steps[(1, 1)]] < grpo[steps[(1, 1)]]


def test_groups_without_spread_are_dropped_and_counted(scorer):
    episodes = [
        episode(1, ["A"], [1.0]),
        episode(1, ["A"], [0.0]),
        episode(2, ["A", "B"], [0.0, 1.0]),  # equal returns, different paths
        episode(2, ["A"], [1.0]),
    ]
    rollout = score_episodes(scorer, episodes, chunk=8)
    dropped = group_advantages(rollout, RLConfig(advantage="grpo"))
    kept_columns = set(rollout.columns[dropped.keep].tolist())
    assert kept_columns == {0, 1}
    assert dropped.metrics["groups/dropped_share"] == 0.5 == dropped.metrics["groups/no_signal_share"]
    kept = group_advantages(rollout, RLConfig(advantage="grpo", drop_uniform_groups=False))
    assert kept.keep.all() and kept.metrics["groups/dropped_share"] == 0.0
    assert kept.metrics["groups/no_signal_share"] == 0.5
    # GiGPO still finds a difference in group 2: from "A", one path earned 1 in two steps, the other in one;
    # with a discount the shorter path is worth more.
    gigpo = group_advantages(rollout, RLConfig(advantage="gigpo", gamma=0.9))
    assert gigpo.keep.all() and gigpo.metrics["groups/dropped_share"] == 0.0
    assert gigpo.metrics["groups/anchored_share"] == pytest.approx(0.8)  # all but group 2's "B" share their state
    assert gigpo.metrics["groups/return_std"] == pytest.approx(0.25)  # group 1: 0.5; group 2: 0


def test_groups_in_which_every_episode_failed_can_be_left_out(scorer):
    episodes = [
        episode(1, ["A"], [-1.0]),  # failed at once
        episode(1, ["A", "B", "C"], [-0.1, -0.1, -1.0]),  # failed after a search: a lower return
        episode(2, ["A", "B"], [-0.1, 1.0]),  # succeeded
        episode(2, ["A"], [-1.0]),
    ]
    rollout = score_episodes(scorer, episodes, chunk=8)
    every = group_advantages(rollout, RLConfig(advantage="grpo"))
    assert every.keep.all() and every.advantages[rollout.columns == 0][0] > 0  # the quick failure is credited
    assert every.metrics["groups/solved_share"] == 0.5 and every.metrics["groups/dropped_share"] == 0.0
    solved = group_advantages(rollout, RLConfig(advantage="gigpo", drop_groups_without_success=True))
    assert set(rollout.columns[solved.keep].tolist()) == {2, 3}
    assert solved.metrics["groups/dropped_share"] == 0.5
    torch.testing.assert_close(solved.advantages, group_advantages(rollout, RLConfig(advantage="gigpo")).advantages)


def test_group_seeds_repeat_each_seed_group_size_times():
    seeds = group_seeds(np.random.default_rng(0), 6, 3, 1000)
    assert seeds[:3] == [seeds[0]] * 3 and seeds[3:] == [seeds[3]] * 3 and seeds[0] != seeds[3]
    # One per env is the plain rollout's draw, unchanged.
    assert group_seeds(np.random.default_rng(0), 4, 1, 1000) == np.random.default_rng(0).integers(0, 1000, 4).tolist()
    with pytest.raises(ValueError, match="multiple of group_size"):
        group_seeds(np.random.default_rng(0), 6, 4, 1000)


def test_group_metrics_describe_the_groups(scorer):
    episodes = [
        episode(4, ["A", "B"], [0.0, 3.0]),
        episode(4, ["A", "C"], [0.0, 1.0]),
        episode(4, ["A"], [0.0]),
        episode(5, ["A"], [2.0]),
        episode(5, ["A"], [2.0]),
        episode(6, ["D"], [1.0]),
        episode(6, ["D"], [0.0]),
    ]
    rollout = score_episodes(scorer, episodes, chunk=8)
    metrics = group_advantages(rollout, RLConfig(advantage="gigpo")).metrics
    assert metrics == {
        "groups/count": 3.0,
        "groups/return_std": pytest.approx((np.std([3.0, 1.0, 0.0]) + 0.0 + 0.5) / 3),
        "groups/no_signal_share": pytest.approx(1 / 3),  # seed 5: both episodes alike
        "groups/dropped_share": pytest.approx(1 / 3),
        "groups/anchor_size": pytest.approx((3 * 3 + 2 * 2 + 2 * 2 + 1 + 1) / 9),  # per decision
        "groups/anchored_share": pytest.approx(7 / 9),  # all but "B" and "C"
        "groups/solved_share": 1.0,
    }


def test_episodes_without_a_seed_cannot_be_grouped():
    with pytest.raises(
        ValueError, match=r"^Group advantages need each episode's reset seed; these episodes have none\.$"
    ):
        episode_groups([dataclasses.replace(episode(1, ["A"], [0.0]), seed=None)])
    assert episode_groups([]).dtype == torch.long


def test_a_group_whose_returns_differ_a_little_is_kept(scorer):
    rollout = score_episodes(scorer, [episode(3, ["A"], [0.05]), episode(3, ["A"], [0.0])], chunk=8)
    estimate = group_advantages(rollout, RLConfig(advantage="grpo", scale_by_std=False))
    assert estimate.keep.all() and estimate.advantages.tolist() == pytest.approx([0.025, -0.025])
