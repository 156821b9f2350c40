"""Classical RL baselines on an env's structured state: stable-baselines3 agents and tabular Q-learning.

Envs that have a non-text state (DangerousTaxi: Taxi's ``Discrete(500)`` index; BabyAI: a ``Dict`` of view,
direction and mission)
expose ``structured_observation_space`` and ``structured_observation()`` on the unwrapped env.
:class:`StructuredObservation` hands that state to the learner in place of the text; the trained agent then acts
in the text env (:class:`SB3Agent`, :class:`QLearningAgent`), so it is evaluated on the same episodes, rewards and
metrics as the language agents.

Two families:

* stable-baselines3 DQN and PPO (specs ``sb3:dqn``, ``sb3:ppo``; the optional ``sb3`` extra). Trained models are
  cached per (env, algorithm, timesteps, seed, hyperparameters) under ``$REFLECT_RL_CACHE/sb3`` (default
  ``~/.cache/reflect_rl/sb3``)::

      reflect-rl evaluate --env DangerousTaxi-v0 --agent sb3:ppo sb3:dqn --sb3-timesteps 100000

* Tabular Q-learning (spec ``tabular:qlearning``, :func:`train_qlearning`, settings in :class:`QLearningConfig`):
  one action value per (state, action) seen, epsilon-greedy among the admissible actions of
  ``info["action_mask"]``, what a practitioner tries first on Taxi. It needs no extra and trains in seconds on
  Taxi's 500 states, so it is not cached. On a large state (BabyAI's view) each distinct state is its own row, so
  it learns only what it has seen.

:func:`make_baseline_agent` builds either from its spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from reflect_agent.agents import env_at
from reflect_agent.episodes import Decision, Turn
from reflect_gym.files import atomic_write

#: Algorithm name -> stable-baselines3 hyperparameters (besides the policy, env, seed and ``device="cpu"``).
#: The policy is ``MultiInputPolicy`` for a ``Dict`` state (BabyAI), else ``MlpPolicy``.
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 1024, "batch_size": 128, "learning_rate": 1e-3, "ent_coef": 0.01},
    "dqn": {
        "learning_rate": 1e-3,
        "buffer_size": 50_000,
        "learning_starts": 1_000,
        "exploration_fraction": 0.3,
        "target_update_interval": 1_000,
    },
}
DEFAULT_TIMESTEPS = 100_000


class NoStructuredStateError(ValueError):
    """The env has no structured state to train a classical baseline on."""


class StructuredObservation(gym.ObservationWrapper):
    """Replace a ReflectRL env's text observation by ``env.unwrapped.structured_observation()``.

    Raises:
        NoStructuredStateError: If the unwrapped env has no ``structured_observation_space``.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = getattr(env.unwrapped, "structured_observation_space", None)
        if space is None or not callable(getattr(env.unwrapped, "structured_observation", None)):
            name = env.spec.id if env.spec is not None else repr(env.unwrapped)
            raise NoStructuredStateError(
                f"{name} has no structured state "
                "(structured_observation_space / structured_observation()), so no classical baseline runs on it."
            )
        self.observation_space = space

    def observation(self, observation: str) -> Any:
        return self.env.unwrapped.structured_observation()


class SB3Agent:
    """A trained stable-baselines3 model acting, deterministically, in the text env of each turn.

    It reads ``structured_observation()`` of the sub-env each turn is for, so it plays on a sync vector env. A
    masked-out choice is an invalid action, like any agent's.

    Args:
        model: The trained model.
        name: Shown in results, e.g. ``"sb3:ppo"``.
    """

    batch_size = 1

    def __init__(self, model: Any, name: str):
        self.model = model
        self.name = name

    def reset(self, seed: int | None = None) -> None:
        pass

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv) -> Decision:
        return Decision(actions=[self.act_in(env_at(envs, turn.index)) for turn in turns])

    def act_in(self, env: gym.Env) -> int:
        """The model's action in ``env``'s current state."""
        state = env.unwrapped.structured_observation()
        if not isinstance(state, dict):
            state = np.asarray(state)
        action, _ = self.model.predict(state, deterministic=True)
        return int(action)


def cache_dir() -> Path:
    """Where trained models are kept: ``$REFLECT_RL_CACHE/sb3``, default ``~/.cache/reflect_rl/sb3``."""
    root = os.environ.get("REFLECT_RL_CACHE") or Path.home() / ".cache" / "reflect_rl"
    return Path(root) / "sb3"


def model_path(
    env_id: str,
    algo: str,
    timesteps: int,
    seed: int,
    env_kwargs: dict[str, Any] | None = None,
    directory: Path | None = None,
) -> Path:
    """The cache file of a model; its name holds a hash of the env arguments and hyperparameters."""
    key = {"env_kwargs": env_kwargs or {}, "hyperparameters": _hyperparameters(algo, timesteps)}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=repr).encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", env_id)
    return (directory or cache_dir()) / f"{slug}-{algo}-t{timesteps}-s{seed}-{digest}.zip"


def train_or_load(
    env_id: str,
    algo: str,
    *,
    timesteps: int = DEFAULT_TIMESTEPS,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    directory: Path | None = None,
    progress: bool = False,
) -> Any:
    """Load the cached model for these settings, or train it and cache it (written atomically).

    Args:
        env_id: A registered ReflectRL id whose env has a structured state.
        algo: ``"ppo"`` or ``"dqn"``.
        timesteps: Training budget, in env steps.
        seed: Seed of the algorithm and of the training env.
        env_kwargs: Arguments of ``gym.make(env_id, ...)``, the same for training and evaluation.
        directory: Cache folder; defaults to :func:`cache_dir`.
        progress: Show stable-baselines3's progress bar while training.

    Raises:
        ValueError: If ``algo`` is unknown or ``timesteps < 1``.
        NoStructuredStateError: If the env has no structured state.
    """
    if timesteps < 1:
        raise ValueError(f"timesteps must be at least 1, got {timesteps}.")
    algorithm = _algorithm(algo)
    path = model_path(env_id, algo, timesteps, seed, env_kwargs, directory)
    if path.exists():
        return algorithm.load(path, device="cpu")
    from stable_baselines3.common.logger import Logger

    env = StructuredObservation(gym.make(env_id, **(env_kwargs or {})))
    hyperparameters = _hyperparameters(algo, timesteps)
    policy = "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"
    with _one_torch_thread():
        model = algorithm(policy, env, seed=seed, device="cpu", verbose=0, **hyperparameters)
        # A logger without outputs: left to itself, learn() makes an empty SB3-<time> folder in the temp dir.
        model.set_logger(Logger(folder=None, output_formats=[]))
        model.learn(total_timesteps=timesteps, progress_bar=progress)
    env.close()
    buffer = io.BytesIO()
    model.save(buffer)
    atomic_write(path, buffer.getvalue())
    return model


def make_sb3_agent(
    spec: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    timesteps: int = DEFAULT_TIMESTEPS,
    seed: int = 0,
    directory: Path | None = None,
    progress: bool = False,
) -> SB3Agent:
    """Build the agent of spec ``"sb3:ppo"`` or ``"sb3:dqn"`` for ``env_id`` (training it if not cached).

    Args:
        spec: ``"sb3:<algo>"``.
        env_id: A registered ReflectRL id whose env has a structured state.
        env_kwargs: Arguments of ``gym.make(env_id, ...)``, the same for training and evaluation.
        timesteps, seed, directory, progress: As :func:`train_or_load`.

    Raises:
        ValueError: If the spec is not ``sb3:<algo>`` with a known algorithm.
        NoStructuredStateError: If the env has no structured state.
    """
    kind, _, algo = spec.partition(":")
    if kind != "sb3":
        raise ValueError(f"Not a stable-baselines3 spec: {spec!r}; use 'sb3:ppo' or 'sb3:dqn'.")
    _algorithm(algo)  # fail fast, before any env is built, on an unknown algorithm
    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        StructuredObservation(env)  # fail fast, before any training, on an env without a structured state
        # The env's own spec keys the cache: the registered defaults joined with env_kwargs.
        kwargs = dict(env.spec.kwargs) if env.spec is not None else dict(env_kwargs or {})
    finally:
        env.close()
    model = train_or_load(
        env_id, algo, timesteps=timesteps, seed=seed, env_kwargs=kwargs, directory=directory, progress=progress
    )
    return SB3Agent(model, spec)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one CPU thread: the baselines' small MLPs train fastest so, most of all on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _algorithm(algo: str) -> Any:
    if algo not in HYPERPARAMETERS:
        raise ValueError(f"Unknown stable-baselines3 algorithm {algo!r}; use one of {sorted(HYPERPARAMETERS)}.")
    import stable_baselines3  # the optional 'sb3' extra: imported only where a baseline is trained or loaded

    return getattr(stable_baselines3, algo.upper())


def _hyperparameters(algo: str, timesteps: int) -> dict[str, Any]:
    hyperparameters = dict(HYPERPARAMETERS[algo])
    if "learning_starts" in hyperparameters:
        # Small budgets (tests, smoke runs) must still leave steps to learn from.
        hyperparameters["learning_starts"] = min(hyperparameters["learning_starts"], timesteps // 10)
    return hyperparameters


# -- tabular Q-learning ---------------------------------------------------------------------------------------

#: The spec of the tabular Q-learning baseline.
QLEARNING_SPEC = "tabular:qlearning"


@dataclass
class QLearningConfig:
    """Settings of tabular Q-learning (:func:`train_qlearning`).

    The exploration rate and the learning rate fall linearly, over ``exploration_fraction`` of the budget and over
    the whole budget respectively, then stay at their final values.

    Attributes:
        timesteps: Training budget, in env steps (every step counts, exploratory ones included).
        seed: Seed of the learner's generator, which draws the exploratory actions, breaks ties between equal
            values and seeds the training env's first reset (later resets continue the env's own generator).
        gamma: Discount factor of the bootstrapped target.
        learning_rate: Step size of the update at the first step.
        final_learning_rate: Step size at the last step.
        epsilon: Probability of a uniformly random admissible action at the first step.
        final_epsilon: That probability once ``exploration_fraction`` of the budget has passed.
        exploration_fraction: Share of the budget over which ``epsilon`` falls to ``final_epsilon``.
        initial_value: Action value of a (state, action) not yet updated.
    """

    timesteps: int = 100_000
    seed: int = 0
    gamma: float = 0.99
    # Taxi is deterministic, so a step size of 1 takes the target exactly; decay it where transitions are noisy.
    learning_rate: float = 1.0
    final_learning_rate: float = 1.0
    epsilon: float = 0.1
    final_epsilon: float = 0.1
    exploration_fraction: float = 0.5
    # Optimism (the goal's reward) makes every untried action worth a try: with 0, DangerousTaxi's learner found
    # ending the episode at once (-0.5) better than a long drive it had not yet valued and stopped exploring.
    initial_value: float = 1.0

    def __post_init__(self) -> None:
        if self.timesteps < 1:
            raise ValueError(f"QLearningConfig.timesteps must be at least 1, got {self.timesteps}.")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"QLearningConfig.gamma must be in [0, 1], got {self.gamma}.")
        for name in ("learning_rate", "final_learning_rate"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(
                    f"QLearningConfig.{name} must be in (0, 1], got {getattr(self, name)}; "
                    "0 would never learn and above 1 overshoots the target."
                )
        for name in ("epsilon", "final_epsilon"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"QLearningConfig.{name} is a probability, in [0, 1]; got {getattr(self, name)}.")
        if not 0.0 < self.exploration_fraction <= 1.0:
            raise ValueError(
                f"QLearningConfig.exploration_fraction must be in (0, 1], got {self.exploration_fraction}; "
                "for constant exploration set final_epsilon equal to epsilon."
            )
        if not np.isfinite(self.initial_value):
            raise ValueError(f"QLearningConfig.initial_value must be finite, got {self.initial_value}.")

    def epsilon_at(self, step: int) -> float:
        """The exploration rate at training step ``step`` (0-based)."""
        progress = min(1.0, step / (self.exploration_fraction * self.timesteps))
        return self.epsilon + progress * (self.final_epsilon - self.epsilon)

    def learning_rate_at(self, step: int) -> float:
        """The step size at training step ``step`` (0-based)."""
        progress = step / max(1, self.timesteps - 1)
        return self.learning_rate + progress * (self.final_learning_rate - self.learning_rate)


def state_key(state: Any) -> Hashable:
    """A hashable key of a structured state: the ``int`` of an integer state, else the bytes of its arrays.

    A ``Dict`` state becomes a tuple over its sorted keys; an array keeps its dtype and shape in the key, so two
    states share a key only if they are equal.
    """
    if isinstance(state, dict):
        return tuple((name, state_key(state[name])) for name in sorted(state))
    array = np.asarray(state)
    if array.ndim == 0 and np.issubdtype(array.dtype, np.integer):
        return int(array)
    return (array.dtype.str, array.shape, array.tobytes())


class QTable:
    """Action values of the states seen so far; a state not seen has ``initial_value`` for every action.

    Args:
        num_actions: Size of the ``Discrete`` action space.
        initial_value: Value of every action of a state not yet updated.

    Attributes:
        values: State key (:func:`state_key`) -> ``(num_actions,)`` float64 action values.
    """

    def __init__(self, num_actions: int, initial_value: float = 0.0):
        if num_actions < 1:
            raise ValueError(f"A Q-table needs at least one action, got num_actions={num_actions}.")
        self.num_actions = num_actions
        self.initial_value = initial_value
        self.values: dict[Hashable, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.values)

    def row(self, key: Hashable) -> np.ndarray:
        """The action values of ``key``, added at ``initial_value`` on its first use; updates write through."""
        values = self.values.get(key)
        if values is None:
            values = self.values[key] = np.full(self.num_actions, self.initial_value, dtype=np.float64)
        return values

    def best_value(self, key: Hashable, mask: np.ndarray) -> float:
        """The highest value among the admissible actions of ``key``."""
        values = self.values.get(key)
        if values is None:
            return self.initial_value
        return float(values[self._admissible(mask)].max())

    def greedy(self, key: Hashable, mask: np.ndarray, rng: np.random.Generator | None = None) -> int:
        """The admissible action of highest value; a tie goes to the lowest index, or to a random one with ``rng``.

        Raises:
            ValueError: If ``mask`` has the wrong length or admits no action.
        """
        admissible = self._admissible(mask)
        values = self.values.get(key)
        if values is not None:
            admissible_values = values[admissible]
            admissible = admissible[admissible_values == admissible_values.max()]
        return int(admissible[0] if rng is None else rng.choice(admissible))

    def _admissible(self, mask: np.ndarray) -> np.ndarray:
        mask = np.asarray(mask)
        if mask.shape != (self.num_actions,):
            raise ValueError(
                f"The action mask has shape {mask.shape}, not ({self.num_actions},): is this the env the table "
                "was trained on?"
            )
        admissible = np.flatnonzero(mask)
        if admissible.size == 0:
            raise ValueError("The action mask admits no action; a ReflectRL env always offers at least one.")
        return admissible


def train_qlearning(
    env_id: str,
    config: QLearningConfig | None = None,
    *,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
) -> QTable:
    """Train tabular Q-learning on the structured state of ``env_id`` for ``config.timesteps`` env steps.

    Args:
        env_id: A registered ReflectRL id whose env has a structured state and a ``Discrete`` action space.
        config: The settings; :class:`QLearningConfig` defaults if ``None``.
        env_kwargs: Arguments of ``gym.make(env_id, ...)``, the same for training and evaluation.
        progress: Show a progress bar of the steps.

    Returns:
        The table of every state visited. The same settings give the same table.

    Raises:
        NoStructuredStateError: If the env has no structured state.
        TypeError: If the env's action space is not ``Discrete``.
    """
    config = config or QLearningConfig()
    env = StructuredObservation(gym.make(env_id, **(env_kwargs or {})))
    try:
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise TypeError(f"Tabular Q-learning needs a Discrete action space; {env_id} has {env.action_space}.")
        rng = np.random.default_rng(config.seed)
        table = QTable(int(env.action_space.n), config.initial_value)
        state, info = env.reset(seed=int(rng.integers(2**31)))
        key, mask = state_key(state), info["action_mask"]
        for step in tqdm(range(config.timesteps), desc=f"Q-learning {env_id}", unit="step", disable=not progress):
            # 1. Act epsilon-greedily among the admissible actions; a masked-out action is never tried.
            if rng.random() < config.epsilon_at(step):
                action = int(rng.choice(np.flatnonzero(mask)))
            else:
                action = table.greedy(key, mask, rng)
            state, reward, terminated, truncated, info = env.step(action)
            next_key, next_mask = state_key(state), info["action_mask"]

            # 2. Move the value toward the one-step target; bootstrap on truncation, not on termination.
            target = float(reward)
            if not terminated:
                target += config.gamma * table.best_value(next_key, next_mask)
            values = table.row(key)
            values[action] += config.learning_rate_at(step) * (target - values[action])

            # 3. Start the next episode where this one ended.
            if terminated or truncated:
                state, info = env.reset()
                next_key, next_mask = state_key(state), info["action_mask"]
            key, mask = next_key, next_mask
    finally:
        env.close()
    return table


class QLearningAgent:
    """A trained :class:`QTable` acting greedily among the admissible actions of the text env of each turn.

    It reads ``structured_observation()`` of the sub-env each turn is for, so it plays on a sync vector env; it
    never takes an action that ``info["action_mask"]`` masks out. Equal values, as in every state it never saw
    in training, are broken by its own generator, as in training: with the lowest index instead it would repeat
    one action (turn left) wherever BabyAI shows it a view it has not seen.

    Args:
        table: The trained table.
        name: Shown in results.
        seed: Seed of the tie-breaking generator; :meth:`reset` can reseed it.
    """

    batch_size = 1

    def __init__(self, table: QTable, name: str = QLEARNING_SPEC, seed: int | None = None):
        self.table = table
        self.name = name
        self._rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv) -> Decision:
        return Decision(actions=[self.act_in(env_at(envs, t.index), t.info["action_mask"]) for t in turns])

    def act_in(self, env: gym.Env, mask: np.ndarray) -> int:
        """The greedy admissible action in ``env``'s current state."""
        return self.table.greedy(state_key(env.unwrapped.structured_observation()), mask, self._rng)


def make_qlearning_agent(
    spec: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    timesteps: int = QLearningConfig.timesteps,
    seed: int = 0,
    progress: bool = False,
) -> QLearningAgent:
    """Train the agent of spec ``"tabular:qlearning"`` for ``env_id`` with :class:`QLearningConfig`'s defaults.

    Args:
        spec: ``"tabular:qlearning"``.
        env_id: A registered ReflectRL id whose env has a structured state.
        env_kwargs: Arguments of ``gym.make(env_id, ...)``, the same for training and evaluation.
        timesteps: Training budget, in env steps.
        seed: Seed of the learner (see :class:`QLearningConfig`).
        progress: Show a progress bar while training.

    Raises:
        ValueError: If the spec is not ``"tabular:qlearning"`` or a setting is out of range.
        NoStructuredStateError: If the env has no structured state.
    """
    if spec != QLEARNING_SPEC:
        raise ValueError(f"Unknown tabular baseline {spec!r}; use {QLEARNING_SPEC!r}.")
    config = QLearningConfig(timesteps=timesteps, seed=seed)
    return QLearningAgent(train_qlearning(env_id, config, env_kwargs=env_kwargs, progress=progress), spec, seed)


def make_baseline_agent(
    spec: str,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    timesteps: int = DEFAULT_TIMESTEPS,
    seed: int = 0,
    directory: Path | None = None,
    progress: bool = False,
) -> SB3Agent | QLearningAgent:
    """Build the classical baseline of ``spec`` (``sb3:ppo``, ``sb3:dqn`` or ``tabular:qlearning``) for ``env_id``.

    Args:
        spec: The baseline's spec.
        env_id: A registered ReflectRL id whose env has a structured state.
        env_kwargs: Arguments of ``gym.make(env_id, ...)``, the same for training and evaluation.
        timesteps: Training budget, in env steps.
        seed: Training seed.
        directory: Cache folder of stable-baselines3 models (tabular tables are not cached).
        progress: Show a progress bar while training.

    Raises:
        ValueError: If the spec names no classical baseline.
        NoStructuredStateError: If the env has no structured state.
    """
    kind = spec.partition(":")[0]
    if kind == "sb3":
        return make_sb3_agent(
            spec,
            env_id,
            env_kwargs=env_kwargs,
            timesteps=timesteps,
            seed=seed,
            directory=directory,
            progress=progress,
        )
    if kind == "tabular":
        return make_qlearning_agent(
            spec, env_id, env_kwargs=env_kwargs, timesteps=timesteps, seed=seed, progress=progress
        )
    raise ValueError(f"Not a classical baseline spec: {spec!r}; use 'sb3:ppo', 'sb3:dqn' or {QLEARNING_SPEC!r}.")
