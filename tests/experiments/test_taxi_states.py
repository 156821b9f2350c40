"""experiments.train_taxi_dropoff.states: shortest-path and wasted choices over every DangerousTaxi state."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

from experiments.train_taxi_dropoff.states import measure


class TablePolicy:
    """Answers from a table of state text -> action, or one fixed action."""

    def __init__(self, table: dict[str, int] | None = None, fixed: int = 0):
        self.table, self.fixed = table or {}, fixed

    def act(self, states, actions, reflections=None, *, greedy=False):
        return [self.table.get(state, self.fixed) for state in states]


def expert_table(stage_id: str) -> dict[str, int]:
    env = gym.make(stage_id).unwrapped
    table = {}
    for state in range(500):
        try:
            _, info = env.reset(options={"state": state})
        except ValueError:  # beyond the horizon
            continue
        table[info["state"]] = env.expert_action()
    return table


@pytest.mark.parametrize("stage", ["pickup", "dropoff", "full"])
def test_the_expert_is_always_on_a_shortest_path(stage):
    stage_id = {"pickup": "Pickup-", "dropoff": "Dropoff-", "full": ""}[stage]
    result = measure(TablePolicy(expert_table(f"ReflectRL/DangerousTaxi-{stage_id}v0")), stage)
    counts = result["all"]
    assert counts["shortest_path"] == counts["states"] and counts["wasted"] == 0
    if stage == "dropoff":
        assert counts["states"] == 100  # 25 cells x 4 destinations, passenger aboard


def test_wasted_choices_and_the_seen_split(tmp_path):
    data = tmp_path / "warmup.jsonl"
    env = gym.make("ReflectRL/DangerousTaxi-Dropoff-v0")
    _, info = env.reset(seed=0)
    data.write_text(f'{{"state": {json.dumps(info["state"])}}}\n')
    result = measure(TablePolicy(fixed=4), "dropoff", data=str(data))  # pick-up with the passenger aboard
    assert result["all"] == {"states": 100, "shortest_path": 0, "wasted": 100}
    assert result["seen"]["states"] == 1 and result["unseen"]["states"] == 99


class EchoReflector:
    """Names the expert's action in its analysis, like a perfect reflector."""

    def __init__(self, table: dict[str, int]):
        self.table = table

    def reflect(self, states, actions):
        return [f"go with action {self.table[state]}" for state in states]


class ReadingPolicy:
    """Follows the action its analysis names (pick-up when there is none)."""

    def act(self, states, actions, reflections=None, *, greedy=False):
        return [int(r.split()[-1]) if r else 4 for r in reflections or [None] * len(states)]


def test_a_reflector_is_read_by_the_policy_and_its_analyses_are_kept():
    table = expert_table("ReflectRL/DangerousTaxi-Dropoff-v0")
    without = measure(ReadingPolicy(), "dropoff")
    assert without["all"]["wasted"] == 100 and "reflections" not in without
    result = measure(ReadingPolicy(), "dropoff", reflector=EchoReflector(table))
    assert result["all"] == {"states": 100, "shortest_path": 100, "wasted": 0}
    first = result["reflections"][0]
    assert first["reflection"] == f"go with action {table[first['state']]}" and first["shortest_path"]


def test_routes_are_the_states_of_the_experts_episodes():
    table = expert_table("ReflectRL/DangerousTaxi-Dropoff-v0")
    routes = measure(TablePolicy(table), "dropoff", states="routes")
    assert routes["states"] == "routes"
    assert 12 < routes["all"]["states"] < 100  # every start (12) and the states on the way
    assert routes["all"]["shortest_path"] == routes["all"]["states"] and routes["all"]["wasted"] == 0
    with pytest.raises(ValueError, match="states must be one of"):
        measure(TablePolicy(table), "dropoff", states="some")
