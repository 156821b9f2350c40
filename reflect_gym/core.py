"""The contract every ReflectRL environment follows.

A ReflectRL env is a Gymnasium env whose observation is the whole prompt a text agent needs and whose
action is an index into the admissible actions of the current state:

* Observation: a ``str`` in a :class:`PromptText` space: the state text, a blank line, then the numbered
  admissible actions (``0. move north`` ...). Numbers start at 0, so an action's label *is* its index.
* Action: ``Discrete(max_actions)``. Indices beyond the current admissible list are masked out.
* ``info`` after ``reset`` and every ``step``: ``actions`` (the admissible strings, in index order),
  ``action_mask`` (``int8``, length ``max_actions``), ``state`` (the observation without the action
  list), ``invalid_action`` (bool) and ``success`` (bool; ``True`` only on the step that wins).
* Stepping a masked-out index is an *invalid action*: by default it costs ``invalid_action_penalty``,
  leaves the state unchanged, counts as a step and sets ``info["invalid_action"]``; with
  ``invalid_action="raise"`` it raises :class:`InvalidActionError`. An index outside the action space
  always raises ``ValueError``.
* The env owns truncation: after ``horizon`` steps the episode is truncated (no ``TimeLimit``).
* An episode that has ended (``terminated`` or ``truncated``) takes no further step: ``step`` raises
  ``gymnasium.error.ResetNeeded`` until ``reset()`` starts the next one, as it does before the first
  ``reset()``. Gymnasium's vector envs reset a finished env before they step it again.
* ``expert_action()`` returns an optimal (or documented near-optimal) admissible index. It is a
  capability of the unwrapped env; reach it through any wrappers with :func:`expert_action`.
* ``state_facts()`` returns the facts fixed by the current state that a data writer may use (a
  JSON-serialisable ``dict``: positions, the question, the goal), read from the env's own state, never
  parsed from its text. The keys are env-specific and listed in each env's Information section; the
  default is ``{}``. Reach it through any wrappers with :func:`state_facts`. A contract test pins each
  env's facts, so the prompt's wording can change without changing what the facts say.

Subclasses implement five hooks: :meth:`TextEnv._reset_state`, :meth:`TextEnv._admissible_actions`,
:meth:`TextEnv._state_text`, :meth:`TextEnv._apply` and :meth:`TextEnv.expert_action`, and may
override :meth:`TextEnv.state_facts`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import read_from_shared_memory

InvalidActionMode = Literal["penalty", "raise"]
_ZERO_WIDTH_JOINER = 0x200D


# The characters an observation may hold, in code point order: newline, the printable characters of the
# blocks below and the zero-width joiner, which joins emoji sequences (families, flags). The blocks hold the
# scripts real repositories and questions use (Latin with its combining accents, Greek, Cyrillic, Armenian,
# Hebrew, Arabic, Devanagari, Thai, CJK ideographs with extension A, kana, Hangul, full-width forms),
# punctuation, symbols, box drawing, emoji with their variation selectors, and U+FFFD, which replaces every
# other character. The tables ``spaces.Text`` derives from a charset are built once per process and shared
# by every :class:`PromptText` (see there).
_BLOCKS = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x58F),  # Latin-1 to Latin Extended-B, IPA, modifier letters, combining accents, Greek, Cyrillic, Armenian
    (0x590, 0x6FF),  # Hebrew, Arabic
    (0x750, 0x77F),  # Arabic Supplement
    (0x900, 0x97F),  # Devanagari
    (0xE00, 0xE7F),  # Thai
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x2BFF),  # punctuation, currency, letter-like, arrows, maths, technical, box drawing, shapes, dingbats
    (0x3000, 0x30FF),  # CJK punctuation, Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xFE00, 0xFE0F),  # variation selectors (emoji presentation)
    (0xFF00, 0xFFEF),  # half-width and full-width forms
    (0xFFFD, 0xFFFD),  # the replacement character
    (0x1F000, 0x1FAFF),  # emoji and pictographs (flags, emoticons, transport, symbols)
)
CHARSET: str = "\n" + "".join(
    chr(c) for low, high in _BLOCKS for c in range(low, high + 1) if chr(c).isprintable() or c == _ZERO_WIDTH_JOINER
)


def _outside(charset: str) -> re.Pattern[str]:
    """A pattern matching one character outside ``charset`` (sorted): a class of its runs of consecutive code points."""
    codes = np.frombuffer(charset.encode("utf-32-le"), dtype=np.uint32)
    ends = np.flatnonzero(np.diff(codes) != 1)  # a run ends where the next code point is not the next one
    runs = zip(codes[np.r_[0, ends + 1]].tolist(), codes[np.r_[ends, -1]].tolist(), strict=True)
    return re.compile(
        "[^" + "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in runs) + "]"
    )


# sanitize's two passes, in C: space separators (no-break, ideographic, ...; not printable) to a plain space,
# then anything outside CHARSET to U+FFFD.
_SPACE_SEPARATORS = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")  # Unicode's Zs but the space
_OUTSIDE_CHARSET = _outside(CHARSET)
_TRUNCATION_MARK = "\n[... cut to fit the observation limit]"


class InvalidActionError(ValueError):
    """A masked-out action was stepped in an env built with ``invalid_action="raise"``."""


@dataclass(frozen=True)
class _CharsetTables:
    """What ``spaces.Text`` derives from a charset, for :data:`CHARSET`."""

    characters: tuple[str, ...]  # in CHARSET's order: shared-memory codes index it
    character_set: frozenset[str]
    index: dict[str, int]
    decode: np.ndarray  # characters, then "" for the padding code of shared memory


@functools.cache
def _charset_tables() -> _CharsetTables:
    characters = tuple(CHARSET)
    return _CharsetTables(
        characters, frozenset(characters), {c: i for i, c in enumerate(characters)}, np.array((*characters, ""))
    )


class PromptText(spaces.Text):
    """``spaces.Text`` over :data:`CHARSET` with a short ``repr``.

    ``CHARSET`` holds tens of thousands of characters, so the space serves ``character_set``,
    ``character_list``, ``character_index`` and ``characters`` from tables built once per process instead
    of its own: building, copying and pickling a ``PromptText`` cost what they cost for a short charset.
    """

    def __init__(self, max_length: int, *, min_length: int = 1, seed: int | None = None):
        # spaces.Text validates the lengths and seeds the space; the one-character charset keeps the tables it
        # builds (and would pickle) small, and the properties below replace them.
        super().__init__(max_length, min_length=min_length, charset="\n", seed=seed)

    @property
    def character_set(self) -> frozenset[str]:
        """The characters of :data:`CHARSET`."""
        return _charset_tables().character_set

    @property
    def character_list(self) -> tuple[str, ...]:
        """The characters of :data:`CHARSET`, in its order."""
        return _charset_tables().characters

    def character_index(self, char: str) -> np.int32:
        """The position of ``char`` in :attr:`character_list`."""
        return np.int32(_charset_tables().index[char])

    @property
    def characters(self) -> str:
        """The characters of :data:`CHARSET`, sorted (as it is)."""
        return CHARSET

    def __repr__(self) -> str:
        return f"PromptText(min_length={self.min_length}, max_length={self.max_length})"


class SharedTexts(Sequence):
    """A live view of the text observations an ``AsyncVectorEnv`` keeps in shared memory.

    Gymnasium 1.x decodes ``Text`` observations from shared memory once, when the vector env is built,
    so ``gym.make_vec(..., vectorization_mode="async")`` would return the first observations forever.
    Registering this view for :class:`PromptText` makes every read current; the vector env's
    ``deepcopy`` of its observations (its default, ``copy=True``) returns a plain tuple of ``str``.
    """

    def __init__(self, space: PromptText, shared_memory: Any, n: int):
        self._codes = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(n, space.max_length)
        self._characters = _charset_tables().decode  # the padding code, len(CHARSET), maps to ""

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return "".join(self._characters[self._codes[index]])

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@read_from_shared_memory.register(PromptText)
def _read_prompt_text(space: PromptText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(space, shared_memory, n)


def sanitize(text: str) -> str:
    """Make ``text`` fit :data:`CHARSET`.

    Tabs become four spaces, other space separators (no-break, ideographic, ...) one, ``\\r`` newlines, and
    every other character outside the charset U+FFFD.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    if text.isascii() and text.replace("\n", "").isprintable():
        return text
    return _OUTSIDE_CHARSET.sub("\ufffd", _SPACE_SEPARATORS.sub(" ", text))


def format_actions(actions: list[str]) -> str:
    """The numbered action list of an observation: ``"0. go north\\n1. go south"``."""
    return "\n".join(f"{i}. {a}" for i, a in enumerate(actions))


def normalize_action_text(text: str) -> str:
    """Lower-case ``text`` and collapse its whitespace, for tolerant action matching."""
    return re.sub(r"\s+", " ", text.strip().lower())


class TextEnv(gym.Env[str, np.int64]):
    """Base class of the ReflectRL envs: builds observations and infos, and enforces the contract.

    Stepping follows Gymnasium's order: ``reset()`` first, and again after a step that ends the episode
    (``terminated`` or ``truncated``); until then ``step`` raises ``gymnasium.error.ResetNeeded`` rather
    than play on past the end, where an episode could report its success twice.

    Information:
        Every ``info`` holds the contract's keys (see the module docstring). Beyond ``info``, the
        current state's facts come from :meth:`state_facts` (``{}`` unless a subclass lists them in its
        own Information section), and the expert's action from :meth:`expert_action`.

    Args:
        max_actions: Size of the ``Discrete`` action space; no state may offer more actions.
        max_length: ``max_length`` of the observation space; longer states are cut with a note.
        horizon: Steps after which the episode is truncated.
        invalid_action: ``"penalty"`` (default) or ``"raise"``; see the module docstring.
        invalid_action_penalty: Reward of a masked-out action in ``"penalty"`` mode.
        render_mode: ``None`` or ``"ansi"``.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        *,
        max_actions: int,
        max_length: int,
        horizon: int,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float = -0.1,
        render_mode: str | None = None,
    ):
        if max_actions < 1:
            raise ValueError(f"max_actions must be at least 1, got {max_actions}.")
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}.")
        if invalid_action not in ("penalty", "raise"):
            raise ValueError(f"invalid_action must be 'penalty' or 'raise', got {invalid_action!r}.")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}."
            )
        self.max_actions = max_actions
        self.horizon = horizon
        self.invalid_action = invalid_action
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.render_mode = render_mode
        self.observation_space = PromptText(max_length)
        self.action_space = spaces.Discrete(max_actions)
        self._steps = 0
        self._actions: list[str] = []
        self._action_text = ""
        self._mask = np.zeros(max_actions, dtype=np.int8)
        self._state = ""
        self._observation = ""
        self._ended: str | None = "no episode has started"  # why step() must wait for reset(); None while playing

    # ----------------------------------------------------------------------------------------------
    # Hooks for subclasses.

    def _reset_state(self, options: dict[str, Any] | None) -> None:
        """Start a new episode, drawing every random choice from ``self.np_random``."""
        raise NotImplementedError

    def _admissible_actions(self) -> list[str]:
        """The admissible action strings of the current state, at most ``max_actions`` of them."""
        raise NotImplementedError

    def _state_text(self) -> str:
        """The observation without the action list."""
        raise NotImplementedError

    def _apply(self, index: int) -> tuple[float, bool, bool]:
        """Apply admissible action ``index``; return ``(reward, terminated, success)``."""
        raise NotImplementedError

    def _truncation_reward(self) -> float:
        """Extra reward added on the step at which the horizon runs out (default 0)."""
        return 0.0

    def expert_action(self) -> int:
        """An optimal (or documented near-optimal) admissible action index for the current state."""
        raise NotImplementedError

    def state_facts(self) -> dict[str, Any]:
        """Facts fixed by the current state, for data writers: a JSON-serialisable ``dict`` (default ``{}``).

        Subclasses read them from their own state, never from the state text, and list the keys in their
        Information section.
        """
        return {}

    # ----------------------------------------------------------------------------------------------
    # The Gymnasium API.

    @property
    def actions(self) -> list[str]:
        """The admissible action strings of the current state (a copy)."""
        return list(self._actions)

    @property
    def elapsed_steps(self) -> int:
        """Steps taken in the current episode."""
        return self._steps

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        self._ended = None
        self._reset_state(options)
        self._refresh()
        return self._observation, self._info(success=False, invalid=False)

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Step admissible action ``action`` (see the module docstring).

        Raises:
            gymnasium.error.ResetNeeded: The episode has ended, or none has started; call ``reset()``.
            ValueError: ``action`` is outside the action space.
            InvalidActionError: ``action`` is masked out and the env was built with ``invalid_action="raise"``.
        """
        self._check_playing()
        index = self._check_index(action)
        if index >= len(self._actions):
            return self.step_invalid(f"action {index} is not admissible")
        reward, terminated, success = self._apply(index)
        self._refresh()
        return self._finish_step(reward, terminated, success, invalid=False)

    def step_invalid(
        self, reason: str = "the action is not admissible"
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Step an invalid action: raise, or pay the penalty and leave the state unchanged.

        :class:`reflect_gym.wrappers.TextActions` calls this for text that names no admissible action.

        Raises:
            gymnasium.error.ResetNeeded: The episode has ended, or none has started; call ``reset()``.
            InvalidActionError: The env was built with ``invalid_action="raise"``.
        """
        self._check_playing()
        if self.invalid_action == "raise":
            raise InvalidActionError(
                f"Invalid action: {reason}; this state offers {len(self._actions)} actions "
                f"(0..{len(self._actions) - 1}). Read info['action_mask'], or build the env with "
                "invalid_action='penalty'."
            )
        return self._finish_step(self.invalid_action_penalty, False, False, invalid=True)

    def _finish_step(
        self, reward: float, terminated: bool, success: bool, *, invalid: bool
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._steps += 1
        truncated = not terminated and self._steps >= self.horizon
        if truncated:
            reward += self._truncation_reward()
        if terminated or truncated:
            self._ended = f"the episode ended ({'terminated' if terminated else 'truncated'}) at step {self._steps}"
        return self._observation, float(reward), terminated, truncated, self._info(success=success, invalid=invalid)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._observation
        return None

    # ----------------------------------------------------------------------------------------------

    def _check_playing(self) -> None:
        if self._ended is not None:
            name = self.spec.id if self.spec is not None else type(self).__name__
            raise gym.error.ResetNeeded(
                f"{name}: cannot step, {self._ended}; call reset() to start the next episode (a vector env's "
                "autoreset does this for you)."
            )

    def _check_index(self, action: Any) -> int:
        try:
            index = int(action)
        except (TypeError, ValueError):
            raise ValueError(
                f"Action must be an integer index in [0, {self.max_actions}), got {action!r}. "
                "Wrap the env in reflect_gym.wrappers.TextActions to act with text."
            ) from None
        if index != action or not 0 <= index < self.max_actions:
            raise ValueError(f"Action {action!r} is outside the action space Discrete({self.max_actions}).")
        return index

    def _refresh(self) -> None:
        """Cache the actions, state text and observation of the current state."""
        actions = self._admissible_actions()
        if actions != self._actions:
            if not actions or len(actions) > self.max_actions:
                raise RuntimeError(
                    f"{type(self).__name__} offered {len(actions)} actions; a state must offer 1..{self.max_actions}."
                )
            self._actions = actions
            self._action_text = sanitize(format_actions(actions))
            self._mask = np.zeros(self.max_actions, dtype=np.int8)
            self._mask[: len(actions)] = 1
        state = sanitize(self._state_text())
        budget = self._state_room()
        if len(state) > budget:
            state = state[: max(0, budget - len(_TRUNCATION_MARK))] + _TRUNCATION_MARK
        self._state = state
        self._observation = f"{state}\n\n{self._action_text}"[: self.observation_space.max_length]

    def _state_room(self) -> int:
        """Characters the state text may take in the current observation, beside the action list.

        Valid from :meth:`_state_text` on (the actions are refreshed first): an env whose state has parts of
        different worth cuts the least useful ones to fit, instead of losing the end of the text to the
        generic cut.
        """
        return self.observation_space.max_length - len(self._action_text) - 2

    def _info(self, *, success: bool, invalid: bool) -> dict[str, Any]:
        return {
            "actions": list(self._actions),
            "action_mask": self._mask.copy(),
            "state": self._state,
            "invalid_action": invalid,
            "success": success,
        }


# --------------------------------------------------------------------------------------------------
# Capabilities beyond the Gymnasium API, reached through any wrappers.


def expert_action(env: gym.Env) -> int:
    """The expert's action in ``env``'s current state: ``env.unwrapped.expert_action()``.

    Args:
        env: A ReflectRL env, wrapped or not (``gym.make`` wraps it).

    Raises:
        TypeError: The unwrapped env has no ``expert_action()``.
    """
    return int(_capability(env, "expert_action")())


def state_facts(env: gym.Env) -> dict[str, Any]:
    """The facts of ``env``'s current state: ``env.unwrapped.state_facts()`` (see the module docstring).

    Args:
        env: A ReflectRL env, wrapped or not (``gym.make`` wraps it).

    Raises:
        TypeError: The unwrapped env has no ``state_facts()``.
    """
    return dict(_capability(env, "state_facts")())


def _capability(env: gym.Env, name: str) -> Any:
    base = env.unwrapped
    method = getattr(base, name, None)
    if not callable(method):
        raise TypeError(
            f"{type(base).__name__} ({env.spec.id if env.spec else 'no registered id'}) has no {name}() method; "
            f"subclass reflect_gym.core.TextEnv, or define {name}() on the env as reflect_gym.core documents."
        )
    return method
