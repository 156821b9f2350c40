"""Wrappers over the ReflectRL env contract."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from reflect_gym.core import CHARSET, normalize_action_text

#: The index an agent (or :func:`parse_action`) gives when it names no admissible action.
NO_ACTION = -1

# A reply that is only a label: "3", "3.", "(3)", "[3]", "Action: 3", "action 3".
_LABEL = re.compile(r"^(?:action\s*:?\s*)?[(\[]?\s*(\d+)\s*[)\].:]?$")


def parse_action(text: str, actions: Sequence[str]) -> int:
    """The index of the action in ``actions`` that ``text`` names, or :data:`NO_ACTION` when it names none.

    The rule of :class:`TextActions`, usable without an env (for example on a chat model's reply).
    """
    reply = normalize_action_text(str(text))
    match = _LABEL.match(reply)
    if match:
        index = int(match.group(1))
        return index if index < len(actions) else NO_ACTION
    for index, action in enumerate(actions):
        if normalize_action_text(action) == reply:
            return index
    return NO_ACTION


class NoActionAsInvalid(gym.Wrapper):
    """Step :data:`NO_ACTION` (``-1``: the agent named no admissible action) as an invalid action.

    The env's own rule applies (:meth:`reflect_gym.core.TextEnv.step_invalid`: a penalty that counts as a step by
    default, an error in ``"raise"`` mode), as :class:`TextActions` does for unreadable text. Any other index is
    stepped as it is. A vector env built with this wrapper (``gym.make_vec(..., wrappers=[NoActionAsInvalid])``)
    takes ``-1`` in its action array, so agents that may name no action play through the same vector env as
    any other agent.
    """

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if int(action) == NO_ACTION:
            return self.env.unwrapped.step_invalid("the agent named no admissible action")
        return self.env.step(action)


class TextActions(gym.ActionWrapper):
    """Let an agent act with text: a label, an index as text, or the action string itself.

    Observations number actions from 0, so an action's label and its index are the same number. This
    wrapper accepts, case and whitespace tolerant: ``"2"``, ``"2."``, ``"(2)"``, ``"[2]"``,
    ``"Action: 2"``, or the admissible action string (``"Move North"``). Anything else, a number that
    names no admissible action included, is an invalid action, handled by the env's own rule
    (:meth:`reflect_gym.core.TextEnv.step_invalid`: a penalty by default, an error in ``"raise"`` mode).

    ``info["parsed_action"]`` holds the index the text was read as, ``-1`` when it named none.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.action_space = gym.spaces.Text(max_length=4096, min_length=0, charset=CHARSET)
        self._actions: list[str] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._actions = list(info["actions"])
        return obs, info

    def parse(self, text: str) -> int:
        """The admissible index ``text`` names, or ``-1`` when it names none (see :func:`parse_action`)."""
        return parse_action(text, self._actions)

    def action(self, action: str) -> int:
        return self.parse(action)

    def step(self, action: str) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        index = self.parse(action)
        if index >= 0:
            obs, reward, terminated, truncated, info = self.env.step(np.int64(index))
        else:
            obs, reward, terminated, truncated, info = self.env.unwrapped.step_invalid(
                f"{action!r} names no admissible action"
            )
        self._actions = list(info["actions"])
        info["parsed_action"] = index
        return obs, reward, terminated, truncated, info
