"""Rollouts for RL: their layout, truncation bootstrap, repeat counts, replays, vector env modes, reflections."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.episodes import Episode, make_envs
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.rollout import collect_rollout, score_episodes
from tests.agent.toy_envs import WALK


def test_rollout_layout_and_truncation_bootstrap():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    with torch.no_grad():
        policy.value_head.bias.fill_(1.0)  # every value estimate is 1
    envs = make_envs(WALK, 6, env_kwargs={"horizon": 2})
    torch.manual_seed(0)
    rollout = collect_rollout(envs, policy, None, list(range(6)))
    envs.close()
    assert rollout.rewards.shape == (2, 6) and len(rollout) == sum(len(e) for e in rollout.episodes)
    for column, episode in enumerate(rollout.episodes):
        length = len(episode)
        assert rollout.dones[length - 1, column] and not rollout.dones[: length - 1, column].any()
        assert rollout.rewards[:length, column].tolist() == pytest.approx(episode.rewards)
        hit_wall = episode.chosen[-1] == 2
        assert bool(rollout.terminations[length - 1, column]) == (hit_wall or episode.success)
        truncated = not rollout.terminations[length - 1, column]
        # Only a truncated episode gets the value of its last observation, at its last step.
        expected = torch.zeros(2)
        expected[length - 1] = 1.0 if truncated else 0.0
        torch.testing.assert_close(rollout.final_values[:, column], expected)
    assert rollout.grid(rollout.actions).dtype == torch.long
    torch.testing.assert_close(rollout.flat(rollout.grid(rollout.logprobs)), rollout.logprobs)
    assert any(not rollout.terminations[len(e) - 1, c] for c, e in enumerate(rollout.episodes)), "no truncation seen"


def test_rollouts_penalise_the_episodes_own_repeats_and_replays_score_them_alike():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))

    def rollout(penalty: float):
        policy.config.repeat_penalty = penalty
        envs = make_envs(WALK, 4, env_kwargs={"horizon": 3, "length": 5})
        try:
            return collect_rollout(envs, policy, None, list(range(4)), greedy=True)
        finally:
            envs.close()

    def repeats(episode: Episode) -> bool:
        return len(set(episode.chosen)) < len(episode.chosen)

    assert any(repeats(e) for e in rollout(0.0).episodes), "the tiny model repeats itself unpenalised"
    penalised = rollout(100.0)
    assert not any(repeats(e) for e in penalised.episodes)
    for row, (step, column) in enumerate(zip(penalised.steps.tolist(), penalised.columns.tolist(), strict=True)):
        episode = penalised.episodes[column]
        taken = episode.taken(step)
        assert penalised.batch.repeats[row, :3].tolist() == [taken.count(a) for a in episode.actions[step]]
    # A replayed episode is scored with its own past actions, so PPO ratios start at one as for fresh ones.
    replayed = score_episodes(policy, penalised.episodes)

    def by_decision(r) -> dict[tuple[int, int], float]:
        return dict(zip(zip(r.columns.tolist(), r.steps.tolist(), strict=True), r.logprobs.tolist(), strict=True))

    assert by_decision(replayed) == pytest.approx(by_decision(penalised), abs=1e-5)


def test_sync_and_async_vector_envs_give_the_same_rollout():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    outcomes = []
    for mode in ("sync", "async"):
        envs = make_envs("ReflectRL/DangerousTaxi-Dropoff-v0", 3, vectorization=mode)
        torch.manual_seed(0)
        rollout = collect_rollout(envs, policy, None, [5, 6, 7])
        envs.close()
        outcomes.append((rollout.actions.tolist(), rollout.rewards.tolist(), [e.states for e in rollout.episodes]))
    assert outcomes[0] == outcomes[1]


def test_rollout_with_reflector_passes_the_last_action():
    seen: list[list[str]] = []

    class RecordingReflector:
        def reflect(self, states, actions):
            seen.append(states)
            return ["Go right." for _ in states]

    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    envs = make_envs(WALK, 2, env_kwargs={"horizon": 3})
    rollout = collect_rollout(envs, policy, RecordingReflector(), [0, 1])
    envs.close()
    assert all("Last action" not in s for s in seen[0])
    for step_states in seen[1:]:
        assert all("\nLast action: " in s for s in step_states)
    assert {r for e in rollout.episodes for r in e.reflections} == {"Go right."}
