"""Wrappers over the ReflectRL env contract."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from reflect_gym.core import PromptText, normalize_action_text

#: The index an agent (or :func:`parse_action`) gives when it names no admissible action.
NO_ACTION = -1

# A text that is only a number label: "3", "3.", "(3)", "[3]", "Action: 3", "action 3" (normalized: lower case).
_NUMBER = re.compile(r"^(?:action\s*:?\s*)?[(\[]?\s*(\d+)\s*[)\].:]?$")
# A model's line that opens with a number label: "2. move east", "(2) because ...", "Action: 2".
_NUMBER_FIRST = re.compile(r"^(?:action\s*:?\s*)?[(\[]?\s*(\d+)(?=[\s.:)\]]|$)")
# Replies of "reasoning" models (vLLM, llama.cpp) may open with a thinking block.
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
# Characters a chat model wraps its answer in (Markdown emphasis, code, quotes).
_WRAPPING = "*`'\""


def parse_action(text: str, actions: Sequence[str], *, labels: Sequence[str] | None = None, reply: bool = False) -> int:
    """The index of the action in ``actions`` that ``text`` names, or :data:`NO_ACTION` when it names none.

    The one text-to-action rule of the project. By default (the rule of :class:`TextActions`), the whole text,
    case and whitespace tolerant, must be a label (``"2"``, ``"2."``, ``"(2)"``, ``"[2]"``, ``"Action: 2"``) or
    an admissible action string (``"Move North"``); ``"1 or 2"`` names none. Where actions differ only in case
    (``"cat README"``, ``"cat readme"``), the one whose case the text matches is taken.

    With ``reply=True`` the text is a language model's free reply (a chat model's answer, a policy's generated
    line): a ``<think>...</think>`` block is dropped; then the whole reply is read by the default rule, and
    failing that each non-empty line in order, Markdown emphasis, backticks and quotes stripped, until one names
    an action: by the default rule, by a label at its start (``"2. move east"``, ``"B. open the fridge"``,
    ``"(A) because ..."``), or by an action string at its start (``"open the fridge, then look"``; the first
    action in order whose text starts the line).

    Args:
        text: The text to read.
        actions: The admissible action strings.
        labels: The label of each action as the prompt showed it, matched case-sensitively (an LM policy's
            letters ``"A"``, ``"B"``, ..., ``"a"``, ...); ``None``: the observation's numbers ``0, 1, ...``.
        reply: Read ``text`` as a model's free reply (see above).
    """
    text = str(text)
    if not reply:
        return _parse_whole(text, actions, labels)
    text = _THINK_BLOCK.sub("", text)
    index = _parse_whole(text, actions, labels)
    lines = (line.strip().strip(_WRAPPING).strip() for line in text.splitlines())
    for line in lines:
        if index != NO_ACTION:
            return index
        if line:
            index = _parse_whole(line, actions, labels)
            if index == NO_ACTION:
                index = _parse_line_start(line, actions, labels)
    return index


def _parse_whole(text: str, actions: Sequence[str], labels: Sequence[str] | None) -> int:
    """The default rule: the whole text is a label or an action string."""
    normalized = normalize_action_text(text)
    if labels is None:
        match = _NUMBER.match(normalized)
        if match:
            return _numbered(match.group(1), len(actions))
    else:
        match = _label_pattern(labels, len(actions), whole=True).match(" ".join(text.split()))
        if match:
            return _labelled(match.group(1), labels)
    exact = " ".join(text.split())
    for index, action in enumerate(actions):
        if " ".join(action.split()) == exact:
            return index
    for index, action in enumerate(actions):
        if normalize_action_text(action) == normalized:
            return index
    return NO_ACTION


def _parse_line_start(line: str, actions: Sequence[str], labels: Sequence[str] | None) -> int:
    """A line of a reply that starts with a label, or else with an action string."""
    if labels is None:
        match = _NUMBER_FIRST.match(normalize_action_text(line))
        if match:
            return _numbered(match.group(1), len(actions))
    else:
        match = _label_pattern(labels, len(actions), whole=False).match(" ".join(line.split()))
        if match:
            return _labelled(match.group(1), labels)
    normalized = normalize_action_text(line)
    for index, action in enumerate(actions):
        if normalized.startswith(normalize_action_text(action)):
            return index
    return NO_ACTION


def _numbered(digits: str, count: int) -> int:
    # More digits than any index has names no action (and keeps int() off adversarially long numbers).
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(count)):
        return NO_ACTION
    index = int(digits)
    return index if index < count else NO_ACTION


def _label_pattern(labels: Sequence[str], count: int, *, whole: bool) -> re.Pattern[str]:
    """``labels[:count]`` as ``"B"``, ``"B."``, ``"(B)"``, ``"Action: B"``: the whole text, or a line's start."""
    names = sorted({label.strip() for label in labels[:count] if label.strip()}, key=len, reverse=True)
    choice = "|".join(re.escape(name) for name in names) or "(?!)"
    end = r"\s*[)\].:]?$" if whole else r"(?=[\s.:)\]]|$)"
    return re.compile(rf"^(?:[Aa]ction\s*:?\s*)?[(\[]?\s*({choice}){end}")


def _labelled(label: str, labels: Sequence[str]) -> int:
    return [name.strip() for name in labels].index(label)


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
        self.action_space = PromptText(4096, min_length=0)
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
