"""BoundedClose: an async vector env's close() returns and reaps its workers, whatever they do."""

from __future__ import annotations

import os
import signal

import gymnasium as gym
import numpy as np
import pytest

import reflect_gym  # noqa: F401  (registers the ids)
from reflect_gym.vector import BoundedClose
from tests.faults.processes import kill, kill_worker_mid_step, state

TAXI = "ReflectRL/DangerousTaxi-v0"

# A regression hangs in close(); the bound fails it instead of the run.
pytestmark = pytest.mark.timeout(60)


def make(timeout: float = 5.0) -> BoundedClose:
    envs = gym.make_vec(TAXI, num_envs=2, vectorization_mode="async", vector_kwargs={"shared_memory": False})
    return BoundedClose(envs, timeout=timeout)


class FailingStep(gym.Env):
    """An env whose step raises, as a crashed game would."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        raise ValueError("the step failed")


def test_a_healthy_close_lets_the_workers_close_their_envs_and_exit():
    envs = make()
    workers = envs.unwrapped.processes
    envs.reset(seed=0)
    # The wrapper stands in for the vector env: its calls reach the workers.
    envs.set_attr("horizon", [7, 8])
    assert envs.get_attr("horizon") == (7, 8)
    assert envs.call("expert_action") == envs.unwrapped.call("expert_action")
    envs.close()
    assert envs.closed and [worker.exitcode for worker in workers] == [0, 0]
    envs.close()  # a second close does nothing


@pytest.mark.parametrize("killed", [0, 1])
def test_a_worker_killed_mid_step_is_reaped_and_close_returns(killed):
    envs = make()
    workers = envs.unwrapped.processes
    try:
        envs.reset(seed=0)
        kill_worker_mid_step(envs.unwrapped, killed)
    finally:
        envs.close()
    assert envs.closed and [worker.exitcode for worker in workers] == [-signal.SIGKILL] * 2
    assert [state(worker.pid) for worker in workers] == [None, None]  # reaped, not zombies


def test_a_worker_killed_while_idle_is_reaped_and_close_returns():
    envs = make()
    workers = envs.unwrapped.processes
    envs.reset(seed=0)
    kill(workers[0].pid)
    envs.close()
    assert envs.closed and all(worker.exitcode is not None for worker in workers)


@pytest.mark.parametrize("pending_step", [False, True])
def test_a_stopped_worker_is_killed_after_the_timeout(pending_step):
    envs = make(timeout=1.0)
    workers = envs.unwrapped.processes
    envs.reset(seed=0)
    if pending_step:
        envs.unwrapped.step_async(np.zeros(2, dtype=np.int64))
    os.kill(workers[1].pid, signal.SIGSTOP)
    envs.close()
    assert envs.closed and workers[1].exitcode == -signal.SIGKILL and workers[0].exitcode is not None


def test_an_error_of_a_pending_step_is_raised_once_the_workers_are_reaped():
    envs = BoundedClose(gym.vector.AsyncVectorEnv([FailingStep, FailingStep]), timeout=5.0)
    workers = envs.unwrapped.processes
    envs.reset(seed=0)
    envs.unwrapped.step_async(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="the step failed"):
        envs.close()
    assert envs.closed and all(worker.exitcode is not None for worker in workers)


def test_bad_arguments_are_named():
    sync = gym.make_vec(TAXI, num_envs=1, vectorization_mode="sync")
    with pytest.raises(TypeError, match="wraps an AsyncVectorEnv.*got SyncVectorEnv"):
        BoundedClose(sync)
    envs = make()
    try:
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
            BoundedClose(envs, timeout=0)
    finally:
        envs.close()
