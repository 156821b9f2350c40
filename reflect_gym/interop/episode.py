"""One ReflectRL episode played by action index or by action text: what every interop adapter shares.

An adapter (:mod:`reflect_gym.interop.trl`, :mod:`reflect_gym.interop.openenv`) turns its framework's calls into
:meth:`Episode.reset`, :meth:`Episode.step_index` and :meth:`Episode.step_text`, and reports the
:class:`EpisodeStep` in its framework's form. Stepping follows the env contract (``docs/contract.md``) exactly:

* an index is stepped as the Gymnasium env steps it: a masked-out index is an invalid action (the env's
  ``invalid_action_penalty``, a step, ``info["invalid_action"]``; an ``InvalidActionError`` in ``"raise"`` mode),
  an index outside the action space raises ``ValueError``, and ``-1`` (no action) is an invalid action
  (:class:`reflect_gym.wrappers.NoActionAsInvalid`);
* a text is read by :func:`reflect_gym.wrappers.parse_action` (a label such as ``"2"`` or ``"(2)"``, or the action
  string, case and whitespace tolerant), and text that names no admissible action is an invalid action, as
  :class:`reflect_gym.wrappers.TextActions` steps it;
* a step after the episode has ended raises ``gymnasium.error.ResetNeeded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_gym.wrappers import NoActionAsInvalid, parse_action


@dataclass(frozen=True)
class EpisodeStep:
    """What one step of an :class:`Episode` gave.

    Attributes:
        observation: The env's observation after the step (the whole prompt: state, then numbered actions).
        reward: The step's reward.
        terminated: Whether the episode ended on this step (a win or a loss).
        truncated: Whether the env's horizon ran out on this step.
        info: The env's ``info`` after the step (``actions``, ``action_mask``, ``state``, ``invalid_action``,
            ``success`` and the env's own keys).
        parsed_action: The index a text action was read as (``-1``: it named no admissible action); ``None`` for
            an action given by index.
    """

    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    parsed_action: int | None = None

    @property
    def done(self) -> bool:
        """Whether the episode has ended (``terminated or truncated``)."""
        return self.terminated or self.truncated


def check_env_id(env_id: str) -> None:
    """Raise ``gymnasium.error.NameNotFound``, naming the registered ReflectRL ids, if ``env_id`` is not registered."""
    if env_id not in gym.registry:
        known = sorted(name for name in gym.registry if name.startswith("ReflectRL/"))
        raise gym.error.NameNotFound(f"No env is registered as {env_id!r}; pass one of {known}.")


class Episode:
    """A ReflectRL env (``gym.make(env_id, **make_kwargs)``) played one step at a time by index or by text.

    It keeps what adapters report besides the step itself: the episode's return, its step count, how it ended
    and the seed it was reset with.

    Args:
        env_id: A registered id, e.g. ``"ReflectRL/DangerousTaxi-v0"``.
        **make_kwargs: Keyword arguments of ``gym.make`` (the env's own arguments, ``horizon=...`` ...).
    """

    def __init__(self, env_id: str, **make_kwargs: Any):
        check_env_id(env_id)
        self.env_id = env_id
        self.env = NoActionAsInvalid(gym.make(env_id, **make_kwargs))
        self.seed: int | None = None
        self.observation = ""
        self.info: dict[str, Any] = {}
        self.episode_return = 0.0
        self.steps = 0
        self.terminated = False
        self.truncated = False
        self.success = False
        self.started = False

    @property
    def done(self) -> bool:
        """Whether the current episode has ended (``terminated or truncated``)."""
        return self.terminated or self.truncated

    @property
    def actions(self) -> list[str]:
        """The admissible action strings of the current state, in index order."""
        return list(self.info.get("actions", []))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start an episode, as ``env.reset(seed=seed, options=options)``; returns ``(observation, info)``."""
        self.observation, self.info = self.env.reset(seed=seed, options=options)
        self.seed = seed
        self.episode_return = 0.0
        self.steps = 0
        self.terminated = self.truncated = self.success = False
        self.started = True
        return self.observation, self.info

    def step_index(self, index: int) -> EpisodeStep:
        """Step admissible index ``index``, as the Gymnasium env steps it (see the module docstring)."""
        return self._step(index, parsed_action=None)

    def step_text(self, text: str) -> EpisodeStep:
        """Step the action ``text`` names (see :func:`reflect_gym.wrappers.parse_action`), or an invalid action."""
        index = parse_action(text, self.actions)
        return self._step(index, parsed_action=index)

    def close(self) -> None:
        """Close the env (an ALFWorld env ends its game process)."""
        self.env.close()

    def _step(self, index: int, *, parsed_action: int | None) -> EpisodeStep:
        if not self.started:
            raise gym.error.ResetNeeded(f"{self.env_id}: no episode has started; call reset() first.")
        observation, reward, terminated, truncated, info = self.env.step(index)
        self.observation, self.info = observation, info
        self.episode_return += float(reward)
        self.steps += 1
        self.terminated, self.truncated = bool(terminated), bool(truncated)
        self.success = self.success or bool(info["success"])
        return EpisodeStep(observation, float(reward), self.terminated, self.truncated, info, parsed_action)
