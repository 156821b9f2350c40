"""Rollouts for RL: their layout, truncation bootstrap, repeat counts, replays, vector env modes, reflections."""

from __future__ import annotations

import time

import pytest
import torch

from reflect_agent.episodes import Episode, make_envs
from reflect_agent.frozen_blocks import decoder_blocks
from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm
from reflect_agent.rollout import Rollout, collect_rollout, score_episodes
from tests.agent.toy_envs import WALK, stored_episode


def test_rollout_layout_and_truncation_bootstrap():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    with torch.no_grad():
        policy.value_head.bias.fill_(1.0)  # every value estimate is 1
    envs = make_envs(WALK, 6, env_kwargs={"horizon": 2})
    torch.manual_seed(0)
    rollout = collect_rollout(envs, policy, None, list(range(6)), env_id=WALK)
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
            return collect_rollout(envs, policy, None, list(range(4)), env_id=WALK, greedy=True)
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
    replayed = score_episodes(policy, penalised.episodes, chunk=4)

    def by_decision(r) -> dict[tuple[int, int], float]:
        return dict(zip(zip(r.columns.tolist(), r.steps.tolist(), strict=True), r.logprobs.tolist(), strict=True))

    assert by_decision(replayed) == pytest.approx(by_decision(penalised), abs=1e-5)


def test_sync_and_async_vector_envs_give_the_same_rollout():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    outcomes = []
    for mode in ("sync", "async"):
        envs = make_envs("ReflectRL/DangerousTaxi-Dropoff-v0", 3, vectorization=mode)
        torch.manual_seed(0)
        rollout = collect_rollout(envs, policy, None, [5, 6, 7], env_id="ReflectRL/DangerousTaxi-Dropoff-v0")
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
    rollout = collect_rollout(envs, policy, RecordingReflector(), [0, 1], env_id=WALK)
    envs.close()
    assert all("Last action" not in s for s in seen[0])
    for step_states in seen[1:]:
        assert all("\nLast action: " in s for s in step_states)
    assert {r for e in rollout.episodes for r in e.reflections} == {"Go right."}


LOOK = ("go", "stay", "look")
EPISODES = [
    stored_episode(3, ["a", "b", "c"], [0.5, -0.125, 1.0], chosen=[0, 1, 2], actions=LOOK),
    stored_episode(1, ["d"], [-1.0], actions=LOOK, terminated=False),
    stored_episode(
        2, ["e", "f"], [0.25, 0.0], chosen=[0, 1], actions=LOOK, reflections=["Look first.", None], terminated=False
    ),
    stored_episode(1, ["g"], [2.0], actions=LOOK),
]


@pytest.fixture(scope="module")
def scorer() -> LMPolicy:
    return LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))


def test_stored_episodes_are_laid_out_decision_by_decision_and_as_grids(scorer):
    started = time.perf_counter()
    rollout = score_episodes(scorer, EPISODES, chunk=2)
    assert 0 < rollout.timings["policy_s"] <= time.perf_counter() - started  # the policy's share of the call
    assert rollout.steps.tolist() == [0, 1, 2, 0, 0, 1, 0] and rollout.columns.tolist() == [0, 0, 0, 1, 2, 2, 3]
    assert rollout.actions.tolist() == [0, 1, 2, 0, 0, 1, 0] and rollout.batch.input_ids.shape[0] == 7
    assert rollout.rewards.tolist() == [[0.5, -1.0, 0.25, 2.0], [-0.125, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    assert rollout.dones.tolist() == [[False, True, False, True], [False, True, True, True], [True, True, True, True]]
    assert rollout.terminations.tolist() == [
        [False, False, False, True],
        [False, False, False, False],
        [True, False, False, False],
    ]
    assert rollout.final_values.abs().sum() == 0 and rollout.episodes == EPISODES
    # Scored in chunks of 2 or all at once: the same decisions, with the reflection in its own prompt only.
    whole = score_episodes(scorer, EPISODES, chunk=64)
    torch.testing.assert_close(rollout.logprobs, whole.logprobs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(rollout.values, whole.values, rtol=1e-5, atol=1e-5)
    prompts = scorer.tokenizer.batch_decode(rollout.batch.input_ids, skip_special_tokens=True)
    assert ["Look first." in prompt for prompt in prompts] == [False, False, False, False, True, False, False]
    with pytest.raises(ValueError, match=r"^score_episodes needs at least one episode\.$"):
        score_episodes(scorer, [], chunk=2)


def test_rollouts_side_by_side_are_the_rollout_of_all_their_episodes(scorer):
    parts = [score_episodes(scorer, EPISODES[:1], chunk=8)]
    parts += [score_episodes(scorer, EPISODES[1:3], chunk=8), score_episodes(scorer, EPISODES[3:], chunk=8)]
    parts[0].final_values[2, 0] = 0.5  # as a collected rollout's truncation bootstrap would be
    joined = Rollout.cat(parts)
    together = score_episodes(scorer, EPISODES, chunk=8)
    for name in ("steps", "columns", "actions", "rewards", "dones", "terminations"):
        assert torch.equal(getattr(joined, name), getattr(together, name)), name
    expected_final = torch.zeros(3, 4)
    expected_final[2, 0] = 0.5
    assert torch.equal(joined.final_values, expected_final)
    torch.testing.assert_close(joined.logprobs, together.logprobs, rtol=1e-5, atol=1e-5)
    assert joined.episodes == EPISODES and joined.batch.input_ids.shape[0] == len(together)
    assert joined.timings == {"policy_s": sum(part.timings["policy_s"] for part in parts)}
    with pytest.raises(ValueError, match=r"^Rollout\.cat needs at least one non-empty rollout\.$"):
        Rollout.cat([])


def test_a_truncated_episode_is_bootstrapped_from_its_last_state_with_its_reflection():
    """The value of the state a truncated episode was cut in is the policy's value of that state, seen with the
    reflector's analysis of it (which reads the last action), as every decision's state is."""
    seen: list[list[str]] = []

    class RecordingReflector:
        def reflect(self, states, actions):
            seen.append(states)
            return [f"Note {len(seen)}." for _ in states]

    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    with torch.no_grad():
        policy.value_head.weight.normal_(generator=torch.Generator().manual_seed(0))  # values differ by prompt
    envs = make_envs(WALK, 8, env_kwargs={"horizon": 2, "length": 5})  # never won in 2 steps
    torch.manual_seed(1)
    started = time.perf_counter()
    rollout = collect_rollout(envs, policy, RecordingReflector(), list(range(8)), env_id=WALK)
    elapsed = time.perf_counter() - started
    envs.close()
    cut = [c for c, e in enumerate(rollout.episodes) if not e.terminated]
    assert cut, "no truncated episode"
    assert {e.env_id for e in rollout.episodes} == {WALK}
    final = rollout.episodes[cut[0]]
    assert seen[-1][0].startswith(final.final_state) and f"Last action: {final.last_action()}" in seen[-1][0]
    batch = policy.encode([final.final_state], [final.final_actions], [f"Note {len(seen)}."])
    with torch.no_grad():
        _, expected = policy(batch)
    assert rollout.final_values[len(final) - 1, cut[0]].item() == pytest.approx(expected.item(), abs=1e-5)
    # Where the time went: each part measured, none counted twice.
    assert set(rollout.timings) == {"reflect_s", "policy_s", "env_s"}
    assert all(seconds > 0 for seconds in rollout.timings.values())
    assert sum(rollout.timings.values()) <= elapsed


def test_seeds_must_match_the_envs():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    envs = make_envs(WALK, 2, env_kwargs={"horizon": 2})
    try:
        with pytest.raises(ValueError, match=r"^Got 3 seeds for 2 envs; pass one seed per env\.$"):
            collect_rollout(envs, policy, None, [0, 1, 2], env_id=WALK)
    finally:
        envs.close()


def test_a_group_rollout_runs_the_policy_once_per_distinct_prompt_and_plays_the_same_episodes():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", repeat_penalty=0.3, temperature=3.0))
    _, blocks = decoder_blocks(causal_lm(policy.model).base_model)
    rows_run: list[int] = []
    blocks[0].register_forward_hook(lambda _module, args, _output: rows_run.append(args[0].shape[0]))
    seeds = [0, 0, 0, 0, 1, 1, 1, 1]  # two groups of four: the corridor's states repeat within and across episodes
    outcomes = []
    for reuse in (False, True):
        rows_run.clear()
        envs = make_envs(WALK, len(seeds), env_kwargs={"horizon": 6, "length": 4})
        torch.manual_seed(0)
        rollout = collect_rollout(envs, policy, None, seeds, env_id=WALK, reuse_prompts=reuse)
        envs.close()
        outcomes.append((rollout, sum(rows_run)))
    (plain, plain_rows), (reusing, reusing_rows) = outcomes
    assert [e.chosen for e in reusing.episodes] == [e.chosen for e in plain.episodes]
    torch.testing.assert_close(reusing.logprobs, plain.logprobs)
    torch.testing.assert_close(reusing.values, plain.values)
    bootstrapped = sum(not e.terminated for e in plain.episodes)  # one more row each, outside the decisions
    assert plain.reused == 0 and plain_rows == len(plain) + bootstrapped
    distinct = len(set(plain.batch.row_keys()))
    assert reusing.reused == len(plain) - distinct > len(plain) // 2, (len(plain), distinct)
    assert reusing_rows == distinct + bootstrapped
