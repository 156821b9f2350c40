"""ALFWorld-v0 beyond the shared contract: bundled problems, experts, datasets, timeouts, copies."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

from reflect_gym.vector import BoundedClose
from tests.faults.processes import children, kill, kill_worker_mid_step, state, wait_dead
from tests.utils import require_extra

# Found, not imported: importing alfworld sets ALFWORLD_DATA for the whole test session.
require_extra("alfworld", "alfworld", "textworld", "fast_downward")

from reflect_gym.envs.alfworld import (  # noqa: E402
    BUNDLED_PROBLEMS,
    TASK_TYPES,
    ALFWorldEnv,
    ALFWorldGameError,
    ALFWorldTimeoutError,
)
from reflect_gym.envs.alfworld.process import GameProcess, GameProcessError  # noqa: E402

MUG = "pick_and_place_simple-Mug-None-CoffeeMachine-kitchen1"
EGG = "pick_heat_then_place_in_recep-Egg-None-CounterTop-kitchen3"
SOAP = "pick_and_place_simple-SoapBar-None-Toilet-bathroom1"
PILLOWS = "pick_two_obj_and_place-Pillow-None-ArmChair-livingroom1"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("alfworld-cache")


def make(cache_dir: Path, **kwargs) -> ALFWorldEnv:
    return ALFWorldEnv(cache_dir=cache_dir, **kwargs)


def play_expert(env: ALFWorldEnv, game: int, seed: int = 0) -> tuple[bool, list[str]]:
    """Follow the expert through one episode of ``env.games[game]``; return (success, commands)."""
    _, info = env.reset(seed=seed, options={"game": game})
    commands, done = [], False
    while not done:
        action = env.expert_action()
        assert info["action_mask"][action] == 1
        commands.append(info["actions"][action])
        _, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return info["success"], commands


def game_index(env: ALFWorldEnv, name: str) -> int:
    return [Path(game).name for game in env.games].index(name)


def test_importing_and_building_the_env_leaves_alfworld_to_the_game_process():
    code = (
        "import sys\n"
        "from reflect_gym.envs.alfworld import ALFWorldEnv\n"
        "ALFWorldEnv()\n"
        "loaded = [m for m in ('alfworld', 'textworld', 'fast_downward') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bundled_problems_cover_the_six_task_types(cache_dir):
    env = make(cache_dir, task_types="all")
    names = [Path(game).name for game in env.games]
    assert len(names) == 8
    assert {name.split("-")[0] for name in names} == set(TASK_TYPES)
    assert make(cache_dir).task_types == ("pick_and_place_simple",)
    assert len(make(cache_dir).games) == 3


def test_handcoded_expert_solves_every_bundled_problem(cache_dir):
    env = make(cache_dir, task_types="all")
    try:
        for game in range(len(env.games)):
            success, commands = play_expert(env, game)
            assert success, f"{env.games[game]}: {commands}"
            assert len(commands) < env.horizon
    finally:
        env.close()


def test_planner_expert_solves_a_bundled_problem(cache_dir):
    env = make(cache_dir, task_types="pick_two_obj_and_place", expert="planner")
    try:
        success, commands = play_expert(env, 0)
        assert success and len(commands) <= 10, commands
    finally:
        env.close()


@pytest.mark.slow
def test_planner_expert_solves_every_bundled_problem(cache_dir):
    env = make(cache_dir, task_types="all", expert="planner")
    try:
        for game in range(len(env.games)):
            success, commands = play_expert(env, game)
            assert success, f"{env.games[game]}: {commands}"
    finally:
        env.close()


def test_observation_holds_task_transcript_window_and_commands(cache_dir):
    env = make(cache_dir, history_length=1)
    try:
        obs, info = env.reset(seed=0, options={"game": game_index(env, MUG)})
        assert info["state"].startswith("Your task is to: put ")
        assert "You are in the middle of a room." in info["state"]
        assert "Welcome to TextWorld" not in obs
        taken = []
        for _ in range(3):
            action = env.expert_action()
            taken.append(info["actions"][action])
            obs, _, _, _, info = env.step(action)
        lines = info["state"].split("\n")
        assert lines[0].startswith("Your task is to: ") and lines[1] == ""
        assert [line[2:] for line in lines if line.startswith("> ")] == taken[-2:]
        assert "You are in the middle of a room." not in info["state"]
        assert obs.endswith("\n".join(f"{i}. {a}" for i, a in enumerate(info["actions"])))
        assert {"look", "inventory"} <= set(info["actions"])
    finally:
        env.close()


def test_a_game_is_drawn_from_the_seed(cache_dir):
    env = make(cache_dir, task_types="all")
    try:
        drawn = []
        for seed in (0, 1, 2, 1):
            env.reset(seed=seed)
            drawn.append(env.current_game)
        assert len(set(drawn)) > 1 and drawn[1] == drawn[3]
    finally:
        env.close()


def test_short_action_lists_keep_the_expert_look_and_inventory(cache_dir):
    env = make(cache_dir, max_actions=5)
    try:
        _, info = env.reset(seed=0, options={"game": game_index(env, SOAP)})
        done = False
        while not done:
            assert len(info["actions"]) <= 5 and {"look", "inventory"} <= set(info["actions"])
            _, _, terminated, truncated, info = env.step(env.expert_action())
            done = terminated or truncated
        assert info["success"]
    finally:
        env.close()


def test_a_hanging_game_times_out_with_a_clear_error_and_reset_recovers(cache_dir):
    env = make(cache_dir, step_timeout=1.0)
    try:
        env.reset(seed=0)
        pid = env._game.pid
        os.kill(pid, signal.SIGSTOP)  # the game process stops answering, as a hung game would
        with pytest.raises(ALFWorldTimeoutError, match=r"game\.tw-pddl did not answer step .* step_timeout=1\.0"):
            env.step(env.expert_action())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the hung process was stopped
        with pytest.raises(ALFWorldGameError, match=r"call reset\(\)"):
            env.step(env.expert_action())
        _, info = env.reset(seed=0)
        _, reward, _, _, info = env.step(env.expert_action())
        assert not info["invalid_action"]
    finally:
        env.close()


def test_a_game_process_killed_while_idle_fails_the_step_and_reset_starts_a_new_one(cache_dir):
    env = make(cache_dir)
    try:
        soap = game_index(env, SOAP)
        env.reset(seed=0, options={"game": soap})
        pid = env._game.pid
        kill(pid)
        with pytest.raises(ALFWorldGameError, match=r"failed on step .* killed by SIGKILL\. .*reset\(\) starts"):
            env.step(env.expert_action())
        assert state(pid) is None  # reaped, not left a zombie
        with pytest.raises(ALFWorldGameError, match=r"call reset\(\)"):
            env.step(env.expert_action())
        success, _ = play_expert(env, soap)
        assert success and env._game.pid != pid
    finally:
        env.close()


def test_a_closed_game_process_refuses_requests_by_name():
    game = GameProcess()
    game.close()
    assert not game.alive
    with pytest.raises(GameProcessError, match=rf"game process \(pid {game.pid}\) was closed; start a new one"):
        game.request({"op": "step", "command": "look"}, timeout=1.0)


def test_a_reset_after_the_game_process_died_between_episodes_starts_a_new_one(cache_dir):
    env = make(cache_dir)
    try:
        env.reset(seed=0)
        pid = env._game.pid
        kill(pid)
        success, _ = play_expert(env, game_index(env, SOAP))
        assert success and env._game.pid != pid
    finally:
        env.close()


def test_reset_has_its_own_timeout(cache_dir):
    env = make(cache_dir, reset_timeout=0.001)
    with pytest.raises(ALFWorldTimeoutError, match="reset_timeout=0.001"):
        env.reset(seed=0)
    env.close()


def test_copies_replay_the_episode_in_their_own_game_process(cache_dir):
    env = make(cache_dir, render_mode="ansi")
    try:
        env.reset(seed=5)
        for _ in range(3):
            env.step(env.expert_action())
        clone = copy.deepcopy(env)
        assert clone._game is None and clone.render() == env.render()
        for _ in range(3):
            action = env.expert_action()
            assert clone.expert_action() == action
            assert clone.step(action)[:4] == env.step(action)[:4]
        assert env.elapsed_steps == clone.elapsed_steps == 6
        assert clone._game.pid != env._game.pid
    finally:
        env.close()
        clone.close()


def test_async_vector_env_plays_games_in_parallel():
    envs = gym.make_vec(
        "ReflectRL/ALFWorld-v0", num_envs=2, vectorization_mode="async", vector_kwargs={"shared_memory": False}
    )
    try:
        obs, infos = envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(3):
            for i in range(2):
                actions = "\n".join(f"{j}. {a}" for j, a in enumerate(infos["actions"][i]))
                assert obs[i] == f"{infos['state'][i]}\n\n{actions}"
            actions = np.array([int(rng.choice(np.flatnonzero(mask))) for mask in infos["action_mask"]])
            obs, _, _, _, infos = envs.step(actions)
        assert obs[0] != obs[1]
    finally:
        envs.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("killed", [0, 1])
def test_async_vector_env_whose_worker_is_killed_mid_step_closes_and_ends_every_game_process(killed):
    envs = BoundedClose(
        gym.make_vec(
            "ReflectRL/ALFWorld-v0", num_envs=2, vectorization_mode="async", vector_kwargs={"shared_memory": False}
        ),
        timeout=5.0,
    )
    workers = envs.unwrapped.processes
    try:
        envs.reset(seed=0)
        games = [game for worker in workers for game in children(worker.pid)]
        assert len(games) == 2
        # Gymnasium's own close() then waits forever (killed=1) or raises, leaving worker 1 running (killed=0).
        kill_worker_mid_step(envs.unwrapped, killed)
    finally:
        envs.close()
    assert envs.closed and all(worker.exitcode is not None for worker in workers)
    for game in games:
        wait_dead(game)  # a game process ends when its worker's pipe closes


def fake_dataset(root: Path) -> Path:
    """An ALFWorld-shaped data folder: json_2.1.1/train/<task folder>/<trial>/, built from bundled problems."""
    train = root / "json_2.1.1" / "train"
    shutil.copytree(BUNDLED_PROBLEMS / MUG, train / MUG / "trial_T1")
    shutil.copytree(BUNDLED_PROBLEMS / EGG, train / EGG / "trial_T2")
    # ALFWorld skips sliced-object games.
    shutil.copytree(BUNDLED_PROBLEMS / MUG, train / MUG.replace("Mug", "AppleSliced") / "trial_T3")
    # A game shipped with its game file and marked unsolvable, as alfworld-generate marks them.
    shipped = train / PILLOWS / "trial_T4"
    shutil.copytree(BUNDLED_PROBLEMS / PILLOWS, shipped)
    (shipped / "game.tw-pddl").write_text(json.dumps({"pddl_problem": "", "solvable": False}))
    return root


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_real_dataset_layout_is_read_without_writing_into_it(tmp_path):
    data, cache = fake_dataset(tmp_path / "data"), tmp_path / "cache"
    before = snapshot(data)
    env = ALFWorldEnv(dataset="alfworld", data_path=data, task_types="all", cache_dir=cache)
    try:
        assert [Path(game).relative_to(data / "json_2.1.1" / "train").parts[0] for game in env.games] == [MUG, EGG]
        success, _ = play_expert(env, 0)
        assert success
    finally:
        env.close()
    assert snapshot(data) == before
    assert len(list(cache.glob("games/*/game.tw-pddl"))) == 1


def test_a_shipped_game_file_is_played_in_place(tmp_path):
    alfworld_data = Path(importlib.util.find_spec("alfworld").submodule_search_locations[0]) / "data"
    trial = tmp_path / "valid_seen" / PILLOWS / "trial_T1"
    shutil.copytree(BUNDLED_PROBLEMS / PILLOWS, trial)
    game = {
        "pddl_domain": (alfworld_data / "alfred.pddl").read_text(),
        "grammar": (alfworld_data / "alfred.twl2").read_text().replace("UNKNOWN GOAL", "gather both pillows"),
        "pddl_problem": (trial / "initial_state.pddl").read_text(),
        "solvable": True,
    }
    (trial / "game.tw-pddl").write_text(json.dumps(game))
    cache = tmp_path / "cache"
    env = ALFWorldEnv(dataset="alfworld", data_path=tmp_path, split="valid_seen", task_types="all", cache_dir=cache)
    try:
        _, info = env.reset(seed=0)
        assert info["state"].startswith("Your task is to: gather both pillows")
        success, _ = play_expert(env, 0)
        assert success
    finally:
        env.close()
    assert not cache.exists()


def test_a_broken_game_fails_with_its_name(tmp_path):
    trial = tmp_path / "train" / "pick_and_place_simple-Mug-None-Desk-broken" / "trial_T1"
    shutil.copytree(BUNDLED_PROBLEMS / MUG, trial)
    (trial / "initial_state.pddl").write_text("(define (problem broken)")
    env = ALFWorldEnv(dataset="alfworld", data_path=tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(ALFWorldGameError, match=r"Desk-broken/trial_T1 failed on reset"):
        env.reset(seed=0)
    env.close()


@pytest.mark.parametrize("content", [b"garbage {", b"", b"\xff\xfe\x00", b"[1, 2]", b'"solvable"'])
def test_a_game_file_that_is_not_a_game_is_named_at_make(tmp_path, content):
    trial = tmp_path / "train" / MUG / "trial_T1"
    shutil.copytree(BUNDLED_PROBLEMS / MUG, trial)
    (trial / "game.tw-pddl").write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(f"ALFWorld game file {trial / 'game.tw-pddl'} ")) as error:
        gym.make("ReflectRL/ALFWorld-v0", dataset="alfworld", data_path=tmp_path, cache_dir=tmp_path / "cache")
    assert "alfworld-download" in str(error.value) and "initial_state.pddl" in str(error.value)


def test_alfworld_data_variable_is_the_default_data_path(tmp_path, monkeypatch):
    monkeypatch.setenv("ALFWORLD_DATA", str(fake_dataset(tmp_path)))
    assert len(ALFWorldEnv(dataset="alfworld", task_types="all").games) == 2


def test_a_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="alfworld-download") as error:
        ALFWorldEnv(dataset="alfworld", data_path=tmp_path, split="valid_unseen")
    assert "valid_unseen" in str(error.value) and "dataset='bundled'" in str(error.value)


def test_a_missing_extra_names_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        "importlib.util.find_spec", lambda name, *args: None if name == "textworld" else real_find_spec(name, *args)
    )
    with pytest.raises(DependencyNotInstalled, match=r"textworld.*pip install 'reflect-rl\[alfworld\]'"):
        ALFWorldEnv()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"task_types": ["pick_and_place"]}, "task_types must be"),
        ({"split": "valid_seen"}, "pass dataset='alfworld'"),
        ({"data_path": "/data"}, "pass dataset='alfworld'"),
        ({"dataset": "alfred"}, "dataset must be"),
        ({"dataset": "alfworld", "split": "test"}, "split must be one of"),
        ({"expert": "oracle"}, "expert must be"),
        ({"step_timeout": 0}, "step_timeout must be"),
        ({"history_length": -1}, "history_length must be"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ALFWorldEnv(**kwargs)


def test_bad_game_option_is_named(cache_dir):
    with pytest.raises(ValueError, match=r"options\['game'\] must be an index"):
        make(cache_dir).reset(options={"game": 3})
