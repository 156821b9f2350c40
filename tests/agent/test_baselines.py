"""Stable-baselines3 baselines on the structured state: wrapper, training, cache."""

from __future__ import annotations

import gymnasium as gym
import pytest

from tests.utils import require_extra

require_extra("sb3", "stable_baselines3")
import stable_baselines3  # noqa: E402

import reflect_gym  # noqa: E402, F401  (registers the ReflectRL ids)
from reflect_agent import baselines  # noqa: E402
from reflect_agent.agents import play  # noqa: E402
from reflect_agent.episodes import make_envs  # noqa: E402

TAXI = "ReflectRL/DangerousTaxi-Pickup-v0"


def test_structured_observation_is_the_unwrapped_envs_state():
    env = baselines.StructuredObservation(gym.make(TAXI))
    assert env.observation_space == gym.spaces.Discrete(500)
    obs, _ = env.reset(seed=0)
    assert obs == env.unwrapped.structured_observation()
    obs, *_ = env.step(env.unwrapped.expert_action())
    assert obs == env.unwrapped.structured_observation() and env.observation_space.contains(obs)


def test_an_env_without_structured_state_is_refused(monkeypatch):
    real_make = gym.make

    def make(env_id, **kwargs):
        env = real_make(env_id, **kwargs)
        del env.unwrapped.structured_observation_space
        return env

    monkeypatch.setattr(baselines.gym, "make", make)
    with pytest.raises(baselines.NoStructuredStateError, match="has no structured state"):
        baselines.make_sb3_agent("sb3:ppo", TAXI, timesteps=10)


def test_unknown_algorithms_are_refused():
    with pytest.raises(ValueError, match="Unknown stable-baselines3 algorithm 'sac'"):
        baselines.make_sb3_agent("sb3:sac", TAXI, timesteps=10)


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_a_trained_model_is_cached_and_reloaded(algo, tmp_path, monkeypatch):
    monkeypatch.setenv("REFLECT_RL_CACHE", str(tmp_path))
    # Short PPO rollouts keep the test fast; the cache key includes them.
    monkeypatch.setitem(baselines.HYPERPARAMETERS, "ppo", {**baselines.HYPERPARAMETERS["ppo"], "n_steps": 128})
    agent = baselines.make_sb3_agent(f"sb3:{algo}", TAXI, timesteps=300, seed=1)
    path = baselines.model_path(TAXI, algo, 300, 1, dict(gym.spec(TAXI).kwargs))
    assert path.parent == tmp_path / "sb3" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"
    envs = make_envs(TAXI, 1)
    episodes = play(agent, envs, range(5))
    assert all(0 <= action < envs.single_action_space.n for e in episodes for action in e.chosen)

    # The second build loads the cached model instead of training, and acts the same.
    algorithm = getattr(stable_baselines3, algo.upper())
    monkeypatch.setattr(algorithm, "learn", lambda *a, **k: pytest.fail("retrained a cached model"))
    again = baselines.make_sb3_agent(f"sb3:{algo}", TAXI, timesteps=300, seed=1)
    assert [e.chosen for e in play(again, envs, range(5))] == [e.chosen for e in episodes]


def test_a_dict_state_trains_a_multi_input_policy(tmp_path):
    require_extra("babyai", "minigrid")
    agent = baselines.make_sb3_agent("sb3:dqn", "ReflectRL/BabyAI-GoToRedBall-v0", timesteps=100, directory=tmp_path)
    assert type(agent.model.policy).__name__ == "MultiInputPolicy"
    envs = make_envs("ReflectRL/BabyAI-GoToRedBall-v0", 1)
    (episode,) = play(agent, envs, [0])
    assert all(0 <= action < envs.single_action_space.n for action in episode.chosen)


def test_the_cache_key_changes_with_every_setting():
    base = baselines.model_path(TAXI, "ppo", 1000, 0, {"stage": "pickup"})
    others = [
        baselines.model_path("ReflectRL/DangerousTaxi-v0", "ppo", 1000, 0, {"stage": "pickup"}),
        baselines.model_path(TAXI, "dqn", 1000, 0, {"stage": "pickup"}),
        baselines.model_path(TAXI, "ppo", 2000, 0, {"stage": "pickup"}),
        baselines.model_path(TAXI, "ppo", 1000, 1, {"stage": "pickup"}),
        baselines.model_path(TAXI, "ppo", 1000, 0, {"stage": "pickup", "horizon": 30}),
    ]
    assert len({base, *others}) == 6
