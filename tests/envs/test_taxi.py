"""DangerousTaxi: rewards, the danger rule, stages, the expert and the text."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.toy_text.taxi import MAP, TaxiEnv

import reflect_gym  # noqa: F401
from reflect_gym.core import state_facts
from reflect_gym.envs.taxi import ACTIONS, DangerousTaxiEnv

SOUTH, NORTH, EAST, WEST, PICKUP, DROPOFF = range(6)
STAGE_IDS = {
    "pickup": "ReflectRL/DangerousTaxi-Pickup-v0",
    "dropoff": "ReflectRL/DangerousTaxi-Dropoff-v0",
    "full": "ReflectRL/DangerousTaxi-v0",
}


def start(env: DangerousTaxiEnv, row: int, column: int, passenger: int, destination: int) -> None:
    """Put ``env`` in a chosen Taxi state (tests only)."""
    env.reset(seed=0)
    env._taxi_state = ((row * 5 + column) * 5 + passenger) * 4 + destination
    env._refresh()


@pytest.mark.parametrize("stage", ["pickup", "dropoff", "full"])
def test_expert_succeeds_on_1000_seeded_episodes(stage):
    env = gym.make(STAGE_IDS[stage])
    for seed in range(1000):
        env.reset(seed=seed)
        done = False
        while not done:
            _, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            assert reward != -0.5, "the expert wasted a move"
            done = terminated or truncated
        assert info["success"], f"seed {seed}"


def test_wall_bump_ends_the_episode_with_the_penalty():
    env = DangerousTaxiEnv()
    start(env, row=0, column=1, passenger=2, destination=3)  # a wall stands east of (0, 1)
    _, reward, terminated, truncated, info = env.step(EAST)
    assert (reward, terminated, truncated, info["success"]) == (-0.5, True, False, False)


@pytest.mark.parametrize("action", [PICKUP, DROPOFF])
def test_pickup_or_dropoff_that_does_nothing_ends_the_episode(action):
    env = DangerousTaxiEnv()
    start(env, row=2, column=2, passenger=0, destination=1)
    _, reward, terminated, _, _ = env.step(action)
    assert reward == -0.5 and terminated


def test_full_delivery_rewards():
    env = DangerousTaxiEnv(stage="full")
    start(env, row=0, column=0, passenger=0, destination=2)  # at R, deliver to Y: 4 moves south
    rewards = [env.step(a)[1] for a in (PICKUP, SOUTH, SOUTH, SOUTH)]
    assert rewards == [-0.05] * 4
    _, reward, terminated, _, info = env.step(SOUTH)
    assert reward == -0.05 and not terminated
    _, reward, terminated, _, info = env.step(DROPOFF)
    assert reward == 1.0 and terminated and info["success"]


def test_pickup_stage_succeeds_at_the_pickup():
    env = DangerousTaxiEnv(stage="pickup")
    start(env, row=0, column=0, passenger=0, destination=2)
    _, reward, terminated, _, info = env.step(PICKUP)
    assert reward == 1.0 and terminated and info["success"]


def test_dropoff_stage_starts_with_the_passenger_aboard_at_a_depot():
    env = DangerousTaxiEnv(stage="dropoff", render_mode="ansi")
    depots = {(0, 0), (0, 4), (4, 0), (4, 3)}
    for seed in range(50):
        env.reset(seed=seed)
        row, column, passenger, _ = env._tables.decode[env.structured_observation()]
        assert passenger == 4 and (row, column) in depots
        assert "Passenger: in the taxi." in env.render()


def test_text_marks_the_taxi_passenger_and_destination():
    env = DangerousTaxiEnv(render_mode="ansi")
    start(env, row=2, column=2, passenger=0, destination=1)
    lines = env.render().splitlines()
    grid = lines[3:10]
    assert grid[1] == "|P: | : :D|" and grid[3] == "| : :T: : |"
    assert "Passenger: waiting at the red depot R, row 0, column 0." in lines
    env.step(WEST)
    env.step(WEST)  # no passenger here; drive on to check the taxi moves in the text
    assert env.render().splitlines()[3:10][3] == "|T: : : : |"
    start(env, row=0, column=0, passenger=4, destination=1)
    assert env.render().splitlines()[4] == "|@: | : :D|"
    assert "Passenger: in the taxi." in env.render()


def test_actions_are_the_six_moves_in_words():
    _, info = gym.make("ReflectRL/DangerousTaxi-v0").reset(seed=0)
    assert (
        info["actions"]
        == list(ACTIONS)
        == [
            "move south",
            "move north",
            "move east",
            "move west",
            "pick up passenger",
            "drop off passenger",
        ]
    )


def test_every_start_is_solvable_within_the_horizon():
    for horizon in (5, 8, 15):
        env = DangerousTaxiEnv(stage="dropoff", horizon=horizon)
        for seed in range(100):
            env.reset(seed=seed)
            terminated = truncated = False
            while not (terminated or truncated):
                _, _, terminated, truncated, info = env.step(env.expert_action())
            assert info["success"], f"the expert ran out of time from seed {seed} with horizon {horizon}"


def test_too_short_horizon_is_a_clear_error():
    with pytest.raises(ValueError, match="horizon=4 is too short for stage 'dropoff'"):
        DangerousTaxiEnv(stage="dropoff", horizon=4)
    with pytest.raises(ValueError, match="stage must be one of"):
        DangerousTaxiEnv(stage="middle")


def test_structured_observation_is_taxi_state():
    env = DangerousTaxiEnv()
    env.reset(seed=5)
    assert env.structured_observation_space.contains(env.structured_observation())
    assert isinstance(env.structured_observation(), int)
    np.testing.assert_equal(env.structured_observation(), env._taxi_state)


def test_reset_can_start_in_a_chosen_state():
    env = DangerousTaxiEnv(stage="dropoff")
    state = ((4 * 5 + 0) * 5 + 4) * 4 + 3  # taxi at Y with the passenger aboard, destination B
    obs, _ = env.reset(seed=0, options={"state": state})
    assert env.structured_observation() == state
    assert "Taxi: row 4, column 0" in obs and "Destination: the blue depot B" in obs
    assert env.expert_action() == NORTH  # the wall east of Y forces the way around
    assert env.shortest_path_actions() == [NORTH] and env.wasted_actions() == [
        SOUTH,
        EAST,
        WEST,
        PICKUP,
    ]  # walls; nobody to pick up
    with pytest.raises(ValueError, match=r"must be a Taxi state index in \[0, 500\), got 500"):
        env.reset(options={"state": 500})
    with pytest.raises(ValueError, match="beyond horizon=5"):
        DangerousTaxiEnv(stage="dropoff", horizon=5).reset(options={"state": state})


def test_start_states_are_where_drawn_episodes_begin():
    env = DangerousTaxiEnv(stage="dropoff")
    starts = env.start_states()
    assert len(starts) == 12  # the passenger's depot (4) x the other destinations (3), passenger aboard
    drawn = set()
    for seed in range(200):
        env.reset(seed=seed)
        drawn.add(env.structured_observation())
        assert env.steps_to_goal() == env.steps_to_goal(env.structured_observation()) <= env.horizon
    assert drawn == set(starts)
    y_to_b = ((4 * 5 + 0) * 5 + 4) * 4 + 3
    assert y_to_b in starts and env.steps_to_goal(y_to_b) == 8  # 7 moves around the walls, then drop off
    assert set(DangerousTaxiEnv(stage="full", horizon=8).start_states()) < set(DangerousTaxiEnv().start_states())


def test_state_facts_give_the_places_of_the_docstrings_example():
    env = DangerousTaxiEnv(stage="full")
    start(env, row=2, column=3, passenger=0, destination=1)
    assert env.state_facts() == {
        "taxi": [2, 3],
        "passenger_aboard": False,
        "passenger_depot": "red",
        "passenger": [0, 0],
        "destination_depot": "green",
        "destination": [0, 4],
    }
    start(env, row=4, column=1, passenger=4, destination=3)
    assert env.state_facts() == {
        "taxi": [4, 1],
        "passenger_aboard": True,
        "passenger_depot": None,
        "passenger": None,
        "destination_depot": "blue",
        "destination": [4, 3],
    }


def test_state_facts_follow_taxis_own_state_and_agree_with_the_text():
    """Facts against Gymnasium's Taxi for all 500 states; the text must show the same places, so a
    change of wording fails here instead of leaving the facts and the prompt apart."""
    names = {"R": "red", "G": "green", "Y": "yellow", "B": "blue"}
    taxi = TaxiEnv()
    env = DangerousTaxiEnv(stage="full", render_mode="ansi")
    for state in range(500):
        row, column, passenger, destination = taxi.decode(state)
        start(env, row, column, passenger, destination)
        facts = env.state_facts()
        assert facts["taxi"] == [row, column]
        assert facts["passenger_aboard"] == (passenger == 4)
        if passenger < 4:
            cell = list(taxi.locs[passenger])
            assert facts["passenger"] == cell
            assert facts["passenger_depot"] == names[MAP[cell[0] + 1][2 * cell[1] + 1]]
        cell = list(taxi.locs[destination])
        assert facts["destination"] == cell
        assert facts["destination_depot"] == names[MAP[cell[0] + 1][2 * cell[1] + 1]]
        text = env.render()
        assert f"Taxi: row {row}, column {column} " in text
        assert f"Destination: the {facts['destination_depot']} depot" in text
        if passenger < 4:
            assert f"Passenger: waiting at the {facts['passenger_depot']} depot" in text
        else:
            assert "Passenger: in the taxi." in text


def test_state_facts_reach_through_gym_make_and_change_with_the_step():
    env = gym.make(STAGE_IDS["full"])
    env.reset(seed=0)
    before = state_facts(env)
    env.step(env.unwrapped.expert_action())
    after = state_facts(env)
    assert before["taxi"] != after["taxi"] or before["passenger_aboard"] != after["passenger_aboard"]
