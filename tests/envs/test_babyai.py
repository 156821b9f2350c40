"""BabyAI / MiniGrid in words (reflect_gym/envs/babyai.py); the env contract is checked in tests/test_contract.py."""

from __future__ import annotations

import contextlib
import copy
import io
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.utils import require_extra

require_extra("babyai", "minigrid")

import gymnasium as gym  # noqa: E402
from gymnasium.utils.env_checker import data_equivalence  # noqa: E402
from minigrid.core.actions import Actions  # noqa: E402
from minigrid.core.grid import Grid  # noqa: E402
from minigrid.core.mission import MissionSpace  # noqa: E402
from minigrid.core.world_object import Ball, Door, Goal, Key  # noqa: E402
from minigrid.minigrid_env import MiniGridEnv  # noqa: E402

from reflect_gym import BABYAI_LEVELS  # noqa: E402
from reflect_gym.envs.babyai import (  # noqa: E402
    ACTIONS,
    MISSION_WORDS,
    BabyAITextEnv,
    MiniGridTextEnv,
    make_babyai_level,
)

TURN_LEFT, TURN_RIGHT, FORWARD, PICK_UP, DROP, TOGGLE = range(6)


def _room_mission() -> str:
    return "reach the goal"


class _Room(MiniGridEnv):
    """A fixed 7x7 room. The agent stands at (3, 5) facing up (north), a green key right in front of it at
    (3, 4), a green goal two cells to its left at (1, 5), a red ball at (2, 3), a locked blue door at (5, 2).
    """

    def __init__(self) -> None:
        super().__init__(mission_space=MissionSpace(mission_func=_room_mission), grid_size=7, max_steps=50)

    def _gen_grid(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        self.grid.wall_rect(0, 0, width, height)
        self.put_obj(Key("green"), 3, 4)
        self.put_obj(Ball("red"), 2, 3)
        self.put_obj(Door("blue", is_locked=True), 5, 2)
        self.put_obj(Goal(), 1, 5)
        self.agent_pos, self.agent_dir = (3, 5), 3
        self.mission = _room_mission()


def quiet_reset(env: gym.Env, seed: int | None) -> dict:
    """``env.reset(seed=seed)`` of a raw minigrid env, with its rejection-sampling prints silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        observation, _ = env.reset(seed=seed)
    return observation


def test_actions_are_minigrids_first_six_in_order():
    minigrid_names = ["left", "right", "forward", "pickup", "drop", "toggle"]
    assert [action.name for action in Actions][: len(ACTIONS)] == minigrid_names
    assert ACTIONS == ("turn left", "turn right", "go forward", "pick up", "drop", "toggle")


def test_text_describes_the_view_relative_to_the_agent():
    env = MiniGridTextEnv(_Room())
    _, info = env.reset(seed=0)
    assert info["actions"] == list(ACTIONS)
    assert info["state"] == (
        "Mission: reach the goal\n"
        "You see a wall 5 steps forward.\n"
        "You see a wall 3 steps left.\n"
        "You see a wall 3 steps right.\n"
        "You see a green key 1 step forward.\n"
        "You see a green goal square 2 steps left.\n"
        "You see a red ball 2 steps forward and 1 step left.\n"
        "You see a locked blue door 3 steps forward and 2 steps right.\n"
        "In front of you: a green key.\n"
        "You carry nothing."
    )
    env.step(PICK_UP)
    _, _, _, _, info = env.step(TURN_RIGHT)  # now facing east: forward is +x, right is +y
    assert info["state"] == (
        "Mission: reach the goal\n"
        "You see a wall 3 steps forward.\n"
        "You see a wall 1 step right.\n"
        "You see a locked blue door 2 steps forward and 3 steps left.\n"
        "In front of you: an empty cell.\n"
        "You carry a green key."
    )


def test_success_reward_and_truncation_belong_to_this_env():
    env = MiniGridTextEnv(_Room())
    env.reset(seed=0)
    assert env.horizon == 50  # the inner env's own max_steps
    env.step(TURN_LEFT)
    env.step(FORWARD)
    _, reward, terminated, truncated, info = env.step(FORWARD)  # onto the goal
    assert terminated and info["success"] and not truncated
    assert reward == pytest.approx(1 - 0.9 * 3 / 50)

    # MiniGrid would truncate at its max_steps (50), and its success reward turns negative after ~56 steps:
    # a longer horizon must be this env's alone.
    env = MiniGridTextEnv(_Room(), horizon=120)
    env.reset(seed=0)
    for step in range(1, 121):
        _, _, terminated, truncated, _ = env.step(TOGGLE)  # toggling a key does nothing
        assert not terminated and truncated == (step == 120), f"step {step}"
    env.reset(seed=0)
    for _ in range(100):
        env.step(DROP)  # nothing carried: does nothing
    env.step(TURN_LEFT)
    env.step(FORWARD)
    _, reward, terminated, _, info = env.step(FORWARD)
    assert terminated and info["success"] and reward == pytest.approx(1 - 0.9 * 103 / 120)


def test_default_horizon_is_the_levels_max_steps():
    for level, max_steps in [("GoToLocal", 64), ("PutNextLocal", 128), ("GoTo", 576)]:
        env = BabyAITextEnv(level)
        env.reset(seed=0)
        assert env.horizon == max_steps, level
    env = BabyAITextEnv("GoTo", horizon=7)
    env.reset(seed=0)
    assert env.horizon == 7


def test_same_seed_plays_minigrids_own_episodes():
    ours, raw = BabyAITextEnv("GoToLocal"), make_babyai_level("GoToLocal")
    rng = np.random.default_rng(0)
    for episode in range(3):
        seed = 5 if episode == 0 else None  # then both continue minigrid's generator
        observation = quiet_reset(raw, seed)
        _, info = ours.reset(seed=seed)
        assert info["state"].startswith(f"Mission: {observation['mission']}\n")
        for action in rng.integers(len(ACTIONS), size=20).tolist():
            assert np.array_equal(ours.structured_observation()["image"], observation["image"])
            observation, *_ = raw.step(action)
            ours.step(action)


def test_resets_keep_stdout_quiet(capsys):
    raw = make_babyai_level("Unlock")  # minigrid rejects most Unlock layouts and prints each rejection
    for seed in range(5):
        raw.reset(seed=seed)
    assert "Sampling rejected" in capsys.readouterr().out
    env = gym.make("ReflectRL/BabyAI-Unlock-v0")
    for seed in range(5):
        env.reset(seed=seed)
    env.reset()
    assert capsys.readouterr().out == ""


def test_asking_the_expert_never_changes_the_episode():
    asked, unasked = BabyAITextEnv("PutNextLocal"), BabyAITextEnv("PutNextLocal")
    rng = np.random.default_rng(1)
    _, info_a = asked.reset(seed=3)
    _, info_b = unasked.reset(seed=3)
    assert data_equivalence(info_a, info_b)
    for action in rng.integers(len(ACTIONS), size=40).tolist():
        assert 0 <= asked.expert_action() < len(ACTIONS)
        a, b = asked.step(action), unasked.step(action)
        assert data_equivalence(a, b)
        if a[2] or a[3]:
            break


@pytest.mark.parametrize("level", ["GoToLocal", "PickupLocal", "PutNextLocal"])
def test_expert_recovers_after_the_agent_strays(level):
    env = BabyAITextEnv(level)
    rng = np.random.default_rng(0)
    for seed in range(3):
        env.reset(seed=seed)
        for step in range(env.horizon):
            expert = env.expert_action()
            # Stray for the first steps (the bot is asked each time, so it sees what was done instead).
            action = int(rng.integers(len(ACTIONS))) if step < 8 and rng.random() < 0.5 else expert
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        assert info["success"], f"{level} seed {seed}: the expert did not recover"


def test_expert_started_mid_episode_succeeds():
    env = BabyAITextEnv("GoToLocal")
    env.reset(seed=4)
    for action in (TURN_LEFT, FORWARD, TURN_LEFT):
        env.step(action)
    for _ in range(env.horizon):
        _, _, terminated, truncated, info = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert info["success"]


def test_pickled_and_copied_envs_keep_the_experts_plan():
    env = BabyAITextEnv("GoTo")
    env.reset(seed=2)
    for _ in range(5):
        env.step(env.expert_action())
    clones = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]

    def finish(e: BabyAITextEnv) -> list:
        transitions = []
        while True:
            transitions.append(e.step(e.expert_action()))
            if transitions[-1][2] or transitions[-1][3]:
                return transitions

    reference = finish(env)
    assert reference[-1][4]["success"]
    for clone in clones:
        assert data_equivalence(finish(clone), reference)


def test_structured_observation():
    env = BabyAITextEnv("GoToLocal")
    raw = make_babyai_level("GoToLocal")
    observation = quiet_reset(raw, 0)
    env.reset(seed=0)
    structured = env.structured_observation()
    assert env.structured_observation_space.contains(structured)
    assert np.array_equal(structured["image"], observation["image"])
    assert structured["direction"] == observation["direction"]
    words = [MISSION_WORDS[i] for i in structured["mission"] if i]
    assert " ".join(words) == observation["mission"] and "<unk>" not in words
    # Stable-Baselines3 must flatten the 7x7 image (a CNN cannot take it): no 0..255 image bounds.
    assert not np.all(env.structured_observation_space["image"].high == 255)


def test_generic_wrapper_takes_any_minigrid_id_or_instance():
    env = MiniGridTextEnv("MiniGrid-DoorKey-5x5-v0")
    observation, info = env.reset(seed=0)
    assert observation.startswith("Mission: use the key to open the door and then get to the goal\n")
    assert "door" in info["state"] and env.horizon == 250
    with pytest.raises(NotImplementedError, match="BabyAIBot plans BabyAI levels only"):
        env.expert_action()
    wrapped = MiniGridTextEnv(gym.make("MiniGrid-Empty-5x5-v0"))  # wrappers around an instance are ignored
    assert wrapped.reset(seed=0)[0].startswith("Mission: get to the green goal square\n")
    with pytest.raises(TypeError, match="MiniGrid env"):
        MiniGridTextEnv("CartPole-v1")
    with pytest.raises(ValueError, match="env_kwargs"):
        MiniGridTextEnv(_Room(), env_kwargs={"size": 5})
    with pytest.raises(ValueError, match="Unknown BabyAI level 'GoToMoon'"):
        BabyAITextEnv("GoToMoon")


def test_pickup_local_is_one_room_of_pickup_missions():
    env = BabyAITextEnv("PickupLocal")
    for seed in range(5):
        _, info = env.reset(seed=seed)
        assert info["state"].startswith("Mission: pick up ")
    inner = make_babyai_level("PickupLocal")
    assert (inner.num_rows, inner.num_cols, inner.room_size) == (1, 1, 8)


def test_missing_minigrid_raises_dependency_not_installed():
    code = (
        "import sys\n"
        "sys.modules['minigrid'] = None\n"  # makes `import minigrid` fail as if it were not installed
        "import gymnasium as gym, reflect_gym\n"
        "from gymnasium.error import DependencyNotInstalled\n"
        "try:\n"
        "    gym.make('ReflectRL/BabyAI-GoToLocal-v0')\n"
        "except DependencyNotInstalled as error:\n"
        "    assert \"pip install 'reflect-rl[babyai]'\" in str(error), error\n"
        "else:\n"
        "    raise AssertionError('no DependencyNotInstalled')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _key_reachable(inner: MiniGridEnv) -> bool:
    """Whether a key of the locked door's color can be reached without passing a locked door (Unlock)."""
    door = next(cell for cell in inner.grid.grid if cell is not None and cell.type == "door" and cell.is_locked)
    seen, frontier = set(), [tuple(int(v) for v in inner.agent_pos)]
    while frontier:
        position = frontier.pop()
        if position in seen:
            continue
        seen.add(position)
        cell = inner.grid.get(*position)
        if cell is not None and cell.type == "key" and cell.color == door.color:
            return True
        blocked = cell is not None and (cell.type == "wall" or (cell.type == "door" and cell.is_locked))
        if not blocked:
            x, y = position
            frontier += [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)]
    return False


@pytest.mark.timeout(120)
def test_expert_does_not_hang_on_an_unsolvable_layout():
    # minigrid's Unlock seed 63 puts the only green key inside the room its green door locks; BabyAIBot's
    # replan then loops forever (from step 160). The env must notice, restart the bot and keep answering.
    raw = make_babyai_level("Unlock")
    quiet_reset(raw, 63)
    assert not _key_reachable(raw)
    env = BabyAITextEnv("Unlock")
    env.reset(seed=63)  # the same layout (same seed, same minigrid episode)
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(env.expert_action())
        assert not (terminated or truncated)


@pytest.mark.slow
@pytest.mark.parametrize("level", BABYAI_LEVELS)
def test_expert_solves_every_solvable_episode(level):
    env = gym.make(f"ReflectRL/BabyAI-{level}-v0")
    failures = []
    for seed in range(100):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            done = terminated or truncated
        if not info["success"]:
            failures.append(seed)
    if level == "Unlock":  # some minigrid Unlock layouts cannot be solved (see BabyAITextEnv's docstring)
        raw = make_babyai_level("Unlock")
        solvable_failures = []
        for seed in failures:
            quiet_reset(raw, seed)  # the same layout as ours for this seed
            if _key_reachable(raw):
                solvable_failures.append(seed)
        failures = solvable_failures
    assert not failures, f"BabyAIBot failed {level} on seeds {failures}"
