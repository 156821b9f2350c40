"""Stable-baselines3 baselines on the structured state: wrapper, training, cache."""

from __future__ import annotations

import gymnasium as gym
import pytest

pytest.importorskip("stable_baselines3", reason="the sb3 baselines need the 'sb3' extra")

import reflect_gym  # noqa: E402, F401  (registers the ReflectRL ids)
from benchmarks import baselines  # noqa: E402

TAXI = "ReflectRL/DangerousTaxi-Pickup-v0"


def test_structured_observation_is_the_unwrapped_envs_state():
    env = baselines.StructuredObservation(gym.make(TAXI))
    assert env.observation_space == gym.spaces.Discrete(500)
    obs, _ = env.reset(seed=0)
    assert obs == env.unwrapped.structured_observation()
    obs, *_ = env.step(env.unwrapped.expert_action())
    assert obs == env.unwrapped.structured_observation() and env.observation_space.contains(obs)


def test_an_env_without_structured_state_is_refused():
    env = gym.make(TAXI)
    del env.unwrapped.structured_observation_space
    with pytest.raises(baselines.NoStructuredStateError, match="has no structured state"):
        baselines.make_sb3_agent("sb3:ppo", env, timesteps=10)


def test_unknown_algorithms_are_refused():
    with pytest.raises(ValueError, match="Unknown stable-baselines3 algorithm 'sac'"):
        baselines.make_sb3_agent("sb3:sac", gym.make(TAXI), timesteps=10)


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_a_trained_model_is_cached_and_reloaded(algo, tmp_path, monkeypatch):
    monkeypatch.setenv("REFLECT_RL_CACHE", str(tmp_path))
    # Short PPO rollouts keep the test fast; the cache key includes them.
    monkeypatch.setitem(baselines.HYPERPARAMETERS, "ppo", {**baselines.HYPERPARAMETERS["ppo"], "n_steps": 128})
    env = gym.make(TAXI)
    agent = baselines.make_sb3_agent(f"sb3:{algo}", env, timesteps=300, seed=1)
    path = baselines.model_path(TAXI, algo, 300, 1, dict(env.spec.kwargs))
    assert path.parent == tmp_path / "sb3" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"

    states = []
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        states.append((obs, info, agent.act(obs, info)))
    assert all(0 <= action < env.action_space.n for *_, action in states)

    # The second build loads the cached model instead of training.
    algorithm = baselines._algorithm(algo)
    monkeypatch.setattr(algorithm, "learn", lambda *a, **k: pytest.fail("retrained a cached model"))
    again = baselines.make_sb3_agent(f"sb3:{algo}", env, timesteps=300, seed=1)
    for seed, (obs, info, action) in enumerate(states):
        env.reset(seed=seed)
        assert again.act(obs, info) == action


def test_a_dict_state_trains_a_multi_input_policy(tmp_path):
    pytest.importorskip("minigrid", reason="BabyAI needs the 'babyai' extra")
    env = gym.make("ReflectRL/BabyAI-GoToRedBall-v0")
    agent = baselines.make_sb3_agent("sb3:dqn", env, timesteps=100, directory=tmp_path)
    assert type(agent.model.policy).__name__ == "MultiInputPolicy"
    obs, info = env.reset(seed=0)
    assert 0 <= agent.act(obs, info) < env.action_space.n


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
