"""Collection: the expert's episodes with wrong steps and recoveries, and DAgger's states of an agent."""

from __future__ import annotations

import gymnasium as gym
import pytest

from reflect_agent.agents import RandomAgent
from reflect_agent.episodes import Decision
from reflect_agent.warmup import expert_records, policy_records

TAXI = "ReflectRL/DangerousTaxi-Dropoff-v0"
FULL_TAXI = "ReflectRL/DangerousTaxi-v0"


def test_expert_records_follow_the_expert_from_the_seed():
    records = expert_records(TAXI, range(4), perturb_prob=0.0)
    assert {r.kind for r in records} == {"expert"}
    env = gym.make(TAXI)
    for seed in range(4):
        episode = [r for r in records if r.seed == seed]
        _, info = env.reset(seed=seed)
        for record in episode:
            assert record.state == info["state"] and record.actions == info["actions"]
            assert record.expert_action == env.unwrapped.expert_action()
            _, _, terminated, truncated, info = env.step(record.expert_action)
        assert terminated and info["success"], f"seed {seed}: the expert's episode should end in success"


def test_wrong_steps_are_followed_by_recoveries(taxi_records):
    recoveries = [r for r in taxi_records if r.kind == "recovery"]
    assert recoveries, "perturb_prob=0.3 over 12 episodes should give recoveries"
    by_key = {(r.seed, r.step): r for r in taxi_records}
    for record in recoveries:
        before = by_key[(record.seed, record.step - 1)]
        assert record.previous_action != before.actions[before.expert_action]  # a wrong action was taken
        assert record.previous_action in record.reflection  # ... and the analysis talks about it
    # Steps after a good action carry the previous action too, but never call it a mistake.
    for record in taxi_records:
        if record.kind == "expert" and record.previous_action is not None:
            assert "mistake" not in record.reflection and "detour" not in record.reflection


def test_reflections_vary_in_wording_with_the_seed():
    first = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=0)
    second = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=1)
    assert [r.state for r in first] == [r.state for r in second]
    differ = sum(a.reflection != b.reflection for a, b in zip(first, second, strict=True))
    assert differ >= len(first) // 3
    again = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=0)
    assert [r.reflection for r in again] == [r.reflection for r in first]


def test_without_look_ahead_wrong_steps_are_any_other_action():
    records = expert_records(FULL_TAXI, range(6), perturb_prob=0.5, look_ahead=False, rng_seed=1)
    assert any(r.kind == "recovery" for r in records)
    assert all(r.reflection for r in records)


class _RecordingAgent(RandomAgent):
    """A random agent that remembers the turns it was shown and the actions it chose."""

    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[str] = []
        self.turns: list = []

    def decide(self, turns, envs=None):
        decision = super().decide(turns, envs)
        self.turns += turns
        self.chosen += [turn.actions[a] for turn, a in zip(turns, decision.actions, strict=True)]
        return decision


def test_policy_records_visit_the_agents_states_and_label_them_with_the_expert():
    agent = _RecordingAgent()
    records = policy_records(FULL_TAXI, range(6), agent, expert_prob=0.0)
    env = gym.make(FULL_TAXI)
    taken: list[str] = []
    for seed in range(6):
        episode = [r for r in records if r.seed == seed]
        _, info = env.reset(seed=seed)
        for record in episode:
            assert record.state == info["state"] and record.expert_action == env.unwrapped.expert_action()
            action = info["actions"].index(agent.chosen[len(taken)])
            taken.append(info["actions"][action])
            _, _, terminated, truncated, info = env.step(action)
        assert terminated or truncated
    assert len(taken) == len(agent.chosen)  # the agent chose every step, and no other
    # It saw its episode's actions so far (all its own here), as the evaluation harness shows them.
    for turn in agent.turns:
        assert turn.previous_action == (turn.taken[-1] if turn.taken else None)
    assert agent.turns[0].taken == [] and any(turn.taken for turn in agent.turns)
    for before, chosen, after in zip(agent.turns, agent.chosen, agent.turns[1:], strict=False):
        assert after.taken in ([], [*before.taken, chosen])  # a new episode, or one more action
    by_key = {(r.seed, r.step): r for r in records}
    for record in records:
        if record.step > 0:
            before = by_key[(record.seed, record.step - 1)]
            wrong = record.previous_action != before.actions[before.expert_action]
            assert record.kind == ("recovery" if wrong else "expert")
    assert any(r.kind == "recovery" for r in records), "a random agent in Taxi should leave the expert's path"


def test_policy_records_with_the_expert_always_in_charge_are_the_experts_records():
    expert = expert_records(TAXI, range(3), perturb_prob=0.0)
    mixed = policy_records(TAXI, range(3), RandomAgent(seed=0), expert_prob=1.0)
    assert [(r.state, r.expert_action, r.kind) for r in mixed] == [(r.state, r.expert_action, r.kind) for r in expert]


def test_policy_records_reject_an_agent_that_picks_no_action():
    class Silent(RandomAgent):
        def decide(self, turns, envs=None):
            return Decision([-1] * len(turns))

    with pytest.raises(ValueError, match="chose no admissible action"):
        policy_records(TAXI, [0], Silent(), expert_prob=0.0)
    with pytest.raises(ValueError, match="expert_prob must lie in"):
        policy_records(TAXI, [0], RandomAgent(), expert_prob=1.5)
    with pytest.raises(ValueError, match="perturb_prob must lie in"):
        expert_records(TAXI, [0], perturb_prob=-0.1)
