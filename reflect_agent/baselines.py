"""Classical RL baselines: stable-baselines3 agents trained on an env's structured state.

Envs that have a non-text state (DangerousTaxi: Taxi's ``Discrete(500)`` index; BabyAI: a ``Dict`` of view,
direction and mission)
expose ``structured_observation_space`` and ``structured_observation()`` on the unwrapped env.
:class:`StructuredObservation` hands that state to stable-baselines3 in place of the text; the trained
model then acts in the text env through :class:`SB3Agent`, so it is evaluated on the same episodes,
rewards and metrics as the language agents.

Trained models are cached per (env, algorithm, timesteps, seed, hyperparameters) under
``$REFLECT_RL_CACHE/sb3`` (default ``~/.cache/reflect_rl/sb3``)::

    reflect-rl evaluate --env DangerousTaxi-v0 --agent sb3:ppo sb3:dqn --sb3-timesteps 100000
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

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
    env = StructuredObservation(gym.make(env_id, **(env_kwargs or {})))
    hyperparameters = _hyperparameters(algo, timesteps)
    policy = "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"
    with _one_torch_thread():
        model = algorithm(policy, env, seed=seed, device="cpu", verbose=0, **hyperparameters)
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
