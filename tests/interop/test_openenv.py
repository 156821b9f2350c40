"""A ReflectRL env served by OpenEnv on 127.0.0.1 plays, through OpenEnv's own clients, as the Gymnasium env does."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from tests.conftest import ROOT
from tests.utils import require_extra

require_extra("openenv", "openenv")

from openenv.core.generic_client import GenericEnvClient  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from reflect_gym.core import expert_action  # noqa: E402
from reflect_gym.interop.openenv import ReflectAction, ReflectClient, make_app, serving  # noqa: E402

# Every call to the server gives up after this long instead of waiting forever.
TIMEOUT_S = 20.0
pytestmark = pytest.mark.timeout(120)


def client(url: str) -> ReflectClient:
    return ReflectClient(base_url=url, connect_timeout_s=TIMEOUT_S, message_timeout_s=TIMEOUT_S).sync()


@pytest.mark.parametrize(
    ("env_id", "policy"), [("ReflectRL/DangerousTaxi-v0", "random"), ("ReflectRL/FileQA-Depth0-v0", "expert")]
)
def test_an_episode_over_the_websocket_is_the_gym_envs_episode(env_id, policy):
    """Steps alternate between text and index; every observation, reward and end matches a local env's."""
    local = gym.make(env_id)
    expected_obs, info = local.reset(seed=3)
    rng = np.random.default_rng(0)
    with serving(env_id, timeout_s=TIMEOUT_S) as url, client(url) as remote:
        result = remote.reset(seed=3)
        assert (result.observation.text, result.done, result.reward) == (expected_obs, False, None)
        assert result.observation.actions == info["actions"]
        episode_return, done, turn = 0.0, False, 0
        while not done:
            index = expert_action(local) if policy == "expert" else int(rng.integers(len(info["actions"])))
            action = ReflectAction(text=info["actions"][index]) if turn % 2 == 0 else ReflectAction(index=index)
            expected_obs, reward, terminated, truncated, info = local.step(index)
            result = remote.step(action)
            observation = result.observation
            assert (observation.text, observation.state, observation.actions) == (
                expected_obs,
                info["state"],
                info["actions"],
            )
            assert (result.reward, result.done) == (reward, terminated or truncated)
            assert (observation.terminated, observation.truncated, observation.success) == (
                terminated,
                truncated,
                info["success"],
            )
            assert observation.parsed_action == (index if turn % 2 == 0 else None)
            episode_return += reward
            done, turn = terminated or truncated, turn + 1
        state = remote.state()
        assert (state.env_id, state.seed, state.step_count, state.done) == (env_id, 3, turn, True)
        assert state.episode_return == pytest.approx(episode_return)
        assert state.success == info["success"]
        if policy == "expert":
            assert state.success  # the expert answers FileQA, so the whole episode was played, not cut short


def test_bad_actions_are_invalid_steps_or_clear_errors():
    env_id = "ReflectRL/FileQA-Depth0-v0"
    local = gym.make(env_id)
    _, info = local.reset(seed=0)
    masked = len(info["actions"])  # admissible indices are 0..n-1; n is inside Discrete(max_actions) but masked
    assert masked < local.unwrapped.max_actions
    penalty = local.unwrapped.invalid_action_penalty
    with serving(env_id, timeout_s=TIMEOUT_S) as url, client(url) as remote:
        remote.reset(seed=0)
        for action in (ReflectAction(index=masked), ReflectAction(text="fly to the moon"), ReflectAction(index=-1)):
            result = remote.step(action)
            assert result.observation.invalid_action and result.reward == pytest.approx(penalty)
            assert result.observation.actions == info["actions"]  # the state is unchanged
        assert result.observation.parsed_action is None and remote.state().step_count == 3
        unreadable = remote.step(ReflectAction(text="cat nothing.py"))
        assert (unreadable.observation.invalid_action, unreadable.observation.parsed_action) == (True, -1)

        with pytest.raises(RuntimeError, match=r"outside the action space Discrete\(30\)"):
            remote.step(ReflectAction(index=local.unwrapped.max_actions))
        with GenericEnvClient(base_url=url, message_timeout_s=TIMEOUT_S).sync() as raw:
            with pytest.raises(RuntimeError, match=r"reset takes seed, episode_id and options; got also \['sead'\]"):
                raw.reset(sead=0)
            raw.reset(seed=0)
            for payload in ({"index": 1, "text": "cd curses"}, {}, {"index": "two"}):
                with pytest.raises(RuntimeError, match="VALIDATION_ERROR"):
                    raw.step(payload)
            # The session survives refused actions and plays on.
            assert raw.step({"text": "cd curses"}).observation["invalid_action"] is False
        assert remote.state().step_count == 4  # the refused actions were not steps

    with pytest.raises(ValueError, match="exactly one of index or text"):
        ReflectAction(index=1, text="cd curses")


def test_a_step_after_the_end_is_refused_until_reset():
    with serving("ReflectRL/DangerousTaxi-v0", timeout_s=TIMEOUT_S) as url, client(url) as remote:
        remote.reset(seed=0)
        result = remote.step(ReflectAction(index=1))  # seed 0 starts in the top row but one: north, then north again
        result = remote.step(ReflectAction(index=1))  # is a wall, which ends a DangerousTaxi episode
        assert result.done and result.observation.terminated and not result.observation.success
        with pytest.raises(RuntimeError, match="cannot step, the episode ended"):
            remote.step(ReflectAction(index=0))
        assert remote.reset(seed=0).done is False
        assert remote.step(ReflectAction(text="move north")).done is False


def test_sessions_are_separate_and_the_server_stops_with_a_client_still_connected():
    with serving("ReflectRL/DangerousTaxi-v0", timeout_s=TIMEOUT_S) as url:
        first, second = client(url), client(url)
        first.reset(seed=0)
        second.reset(seed=1)
        first.step(ReflectAction(index=0))
        assert (first.state().step_count, second.state().step_count) == (1, 0)
        assert (first.state().seed, second.state().seed) == (0, 1)
        second.close()
    # Leaving `serving` returned (it raises TimeoutError when the server outlives its timeout) with `first` open.
    with pytest.raises(ConnectionClosed):
        first.step(ReflectAction(index=0))
    first.close()


def test_make_app_names_an_unknown_id_and_a_wrong_argument():
    with pytest.raises(gym.error.NameNotFound, match=r"'ReflectRL/Taxi-v0'.*ReflectRL/DangerousTaxi-v0"):
        make_app("ReflectRL/Taxi-v0")
    with pytest.raises(TypeError, match="horizn"):
        make_app("ReflectRL/DangerousTaxi-v0", horizn=5)


def test_importing_reflect_gym_imports_no_interop_library():
    code = (
        "import sys, reflect_gym, reflect_gym.interop, reflect_gym.interop.episode; "
        "print(sorted(name for name in ('trl', 'openenv', 'fastapi', 'uvicorn', 'transformers', 'torch') "
        "if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
