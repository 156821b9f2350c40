"""Classical baselines on the structured state: the wrapper, stable-baselines3 training and cache, tabular
Q-learning."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent import baselines
from reflect_agent.agents import play
from reflect_agent.episodes import make_envs
from reflect_agent.evaluation import EvalResult
from reflect_gym.core import TextEnv
from tests.agent.toy_envs import WALK
from tests.utils import require_extra

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

    require_extra("sb3", "stable_baselines3")
    monkeypatch.setattr(baselines.gym, "make", make)
    with pytest.raises(baselines.NoStructuredStateError, match="has no structured state"):
        baselines.make_sb3_agent("sb3:ppo", TAXI, timesteps=10)


def test_unknown_algorithms_are_refused():
    with pytest.raises(ValueError, match="Unknown stable-baselines3 algorithm 'sac'"):
        baselines.make_sb3_agent("sb3:sac", TAXI, timesteps=10)


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_a_trained_model_is_cached_and_reloaded(algo, tmp_path, monkeypatch):
    require_extra("sb3", "stable_baselines3")
    import stable_baselines3

    monkeypatch.setenv("REFLECT_RL_CACHE", str(tmp_path))
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path / "sb3_log"))  # where stable-baselines3's default logger writes
    # Short PPO rollouts keep the test fast; the cache key includes them.
    monkeypatch.setitem(baselines.HYPERPARAMETERS, "ppo", {**baselines.HYPERPARAMETERS["ppo"], "n_steps": 128})
    agent = baselines.make_sb3_agent(f"sb3:{algo}", TAXI, timesteps=300, seed=1)
    path = baselines.model_path(TAXI, algo, 300, 1, dict(gym.spec(TAXI).kwargs))
    assert path.parent == tmp_path / "sb3" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"
    assert not (tmp_path / "sb3_log").exists(), "training left a log folder behind"
    envs = make_envs(TAXI, 1)
    episodes = play(agent, envs, range(5))
    assert all(0 <= action < envs.single_action_space.n for e in episodes for action in e.chosen)

    # The second build loads the cached model instead of training, and acts the same.
    algorithm = getattr(stable_baselines3, algo.upper())
    monkeypatch.setattr(algorithm, "learn", lambda *a, **k: pytest.fail("retrained a cached model"))
    again = baselines.make_sb3_agent(f"sb3:{algo}", TAXI, timesteps=300, seed=1)
    assert [e.chosen for e in play(again, envs, range(5))] == [e.chosen for e in episodes]


def test_a_dict_state_trains_a_multi_input_policy(tmp_path):
    require_extra("sb3", "stable_baselines3")
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


# -- tabular Q-learning ---------------------------------------------------------------------------------------

LADDER = "ReflectRLTest/MaskedLadder-v0"


class MaskedLadder(TextEnv):
    """Climb ``height`` rungs. Even rungs offer ``climb, slip``, odd rungs ``slip, wait, climb``, so index 2 is
    masked out on every even rung; ``slip`` ends the episode. It raises on a masked-out action by default."""

    def __init__(self, height: int = 4, horizon: int = 8, invalid_action: str = "raise", render_mode=None):
        super().__init__(
            max_actions=3, max_length=200, horizon=horizon, invalid_action=invalid_action, render_mode=render_mode
        )
        self.height = height
        self.rung = 0
        self.structured_observation_space = gym.spaces.Discrete(height)

    def structured_observation(self) -> int:
        return self.rung

    def _reset_state(self, options):
        self.rung = 0

    def _admissible_actions(self):
        return ["climb", "slip"] if self.rung % 2 == 0 else ["slip", "wait", "climb"]

    def _state_text(self):
        return f"Rung {self.rung} of {self.height}."

    def _apply(self, index):
        action = self._admissible_actions()[index]
        if action == "slip":
            return -1.0, True, False
        if action == "wait":
            return -0.1, False, False
        self.rung += 1
        won = self.rung == self.height
        return (1.0 if won else 0.0), won, won

    def expert_action(self):
        return 0 if self.rung % 2 == 0 else 2


if LADDER not in gym.registry:
    gym.register(LADDER, entry_point=MaskedLadder)


def test_qlearning_never_takes_a_masked_action_and_learns_the_toy_task():
    # With optimistic values every action of an unseen state ties, so a learner that ignored the mask would pick
    # index 2 on an even rung within a few steps and the env would raise.
    table = baselines.train_qlearning(LADDER, baselines.QLearningConfig(timesteps=300, seed=0, epsilon=0.5))
    assert sorted(table.values) == [0, 1, 2, 3]
    for rung in (0, 2):
        assert table.values[rung][2] == table.initial_value, "a masked-out action was updated"
    envs = make_envs(LADDER, 1)
    episodes = play(baselines.QLearningAgent(table), envs, range(5))
    assert all(e.success and e.chosen == [0, 2, 0, 2] for e in episodes)


def test_the_greedy_action_is_the_best_admissible_one():
    table = baselines.QTable(num_actions=3)
    table.row(7)[:] = [0.1, 0.2, 0.9]
    assert table.greedy(7, np.array([1, 1, 0], dtype=np.int8)) == 1
    assert table.greedy(7, np.array([1, 1, 1], dtype=np.int8)) == 2
    assert table.greedy("never seen", np.array([0, 1, 1], dtype=np.int8)) == 1  # ties: the lowest admissible index
    assert table.best_value(7, np.array([1, 1, 0], dtype=np.int8)) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="admits no action"):
        table.greedy(7, np.zeros(3, dtype=np.int8))
    with pytest.raises(ValueError, match=r"shape \(6,\), not \(3,\)"):
        table.greedy(7, np.ones(6, dtype=np.int8))


def test_the_agent_breaks_ties_with_its_own_seeded_generator():
    # An empty table ties every action of every state: a lowest-index agent would only ever move south.
    agent = baselines.QLearningAgent(baselines.QTable(num_actions=6))
    envs = make_envs(TAXI, 1)
    first = [e.chosen for e in play(agent, envs, range(20))]
    assert len({action for chosen in first for action in chosen}) > 1
    assert [e.chosen for e in play(agent, envs, range(20))] == first  # play reseeds it with the first seed


def test_the_same_seed_gives_the_same_table():
    def train(seed: int) -> dict:
        return baselines.train_qlearning(TAXI, baselines.QLearningConfig(timesteps=2_000, seed=seed)).values

    first, again, other = train(0), train(0), train(1)
    assert first.keys() == again.keys() and all(np.array_equal(first[key], again[key]) for key in first)
    assert first.keys() != other.keys() or any(not np.array_equal(first[key], other[key]) for key in first)


def test_qlearning_solves_dangerous_taxi_pickup_on_held_out_seeds():
    agent = baselines.make_baseline_agent(baselines.QLEARNING_SPEC, TAXI, timesteps=20_000, seed=0)
    assert isinstance(agent, baselines.QLearningAgent) and agent.name == "tabular:qlearning"
    # Training resets from a seed the learner draws; these episode seeds are not among its resets.
    episodes = play(agent, make_envs(TAXI, 1), range(500, 700))
    result = EvalResult.of(TAXI, episodes, seconds=0.0)
    assert result.success_rate >= 0.95, result.row()


def test_dict_states_key_by_their_contents():
    state = {"image": np.zeros((2, 2), np.uint8), "direction": 1}
    same = {"direction": 1, "image": np.zeros((2, 2), np.uint8)}
    other = {"image": np.eye(2, dtype=np.uint8), "direction": 1}
    assert baselines.state_key(state) == baselines.state_key(same) != baselines.state_key(other)
    assert baselines.state_key(np.int64(3)) == 3
    assert baselines.state_key(np.zeros(4, np.uint8)) != baselines.state_key(np.zeros((2, 2), np.uint8))


def test_the_schedules_fall_linearly_to_their_final_values():
    config = baselines.QLearningConfig(
        timesteps=100,
        epsilon=1.0,
        final_epsilon=0.1,
        exploration_fraction=0.5,
        learning_rate=1.0,
        final_learning_rate=0.5,
    )
    assert config.epsilon_at(0) == 1.0 and config.epsilon_at(25) == pytest.approx(0.5 + 0.05)
    assert config.epsilon_at(99) == pytest.approx(0.1) and config.epsilon_at(60) == pytest.approx(0.1)
    assert config.learning_rate_at(0) == 1.0 and config.learning_rate_at(99) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"timesteps": 0}, "timesteps must be at least 1, got 0"),
        ({"gamma": 1.5}, r"gamma must be in \[0, 1\], got 1.5"),
        ({"learning_rate": 0.0}, r"learning_rate must be in \(0, 1\], got 0.0; 0 would never learn"),
        ({"final_learning_rate": 2.0}, r"final_learning_rate must be in \(0, 1\], got 2.0"),
        ({"epsilon": -0.1}, r"epsilon is a probability, in \[0, 1\]; got -0.1"),
        ({"exploration_fraction": 0.0}, "exploration_fraction must be in .*set final_epsilon equal to epsilon"),
        ({"initial_value": float("nan")}, "initial_value must be finite, got nan"),
    ],
)
def test_bad_qlearning_settings_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        baselines.QLearningConfig(**setting)


def test_bad_specs_and_envs_are_refused_before_training():
    with pytest.raises(ValueError, match="Unknown tabular baseline 'tabular:sarsa'; use 'tabular:qlearning'"):
        baselines.make_baseline_agent("tabular:sarsa", TAXI)
    with pytest.raises(ValueError, match="Not a classical baseline spec: 'random'"):
        baselines.make_baseline_agent("random", TAXI)
    with pytest.raises(baselines.NoStructuredStateError, match="has no structured state"):
        baselines.train_qlearning(WALK, baselines.QLearningConfig(timesteps=10))


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ["ReflectRL/DangerousTaxi-Dropoff-v0", "ReflectRL/DangerousTaxi-v0"])
def test_qlearning_solves_dropoff_and_the_full_taxi_task_at_its_default_budget(env_id):
    agent = baselines.make_baseline_agent(baselines.QLEARNING_SPEC, env_id, timesteps=100_000, seed=0)
    result = EvalResult.of(env_id, play(agent, make_envs(env_id, 1), range(1_000)), seconds=0.0)
    assert result.success_rate >= 0.95, result.row()
