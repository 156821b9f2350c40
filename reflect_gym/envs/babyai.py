"""BabyAI and MiniGrid in words: the agent's partial view as text, in the style of BabyAI-Text.

:class:`MiniGridTextEnv` turns any MiniGrid env (an id or an instance) into a ReflectRL text env;
:class:`BabyAITextEnv` picks a BabyAI level by name and is what the ``ReflectRL/BabyAI-<Level>-v0`` ids
build. minigrid is an optional extra (``pip install 'reflect-rl[babyai]'``); importing this module
without it raises :class:`gymnasium.error.DependencyNotInstalled`.
"""

from __future__ import annotations

import contextlib
import functools
import io
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import DependencyNotInstalled

from reflect_gym.core import InvalidActionMode, TextEnv

try:
    from minigrid.core.constants import COLOR_NAMES, IDX_TO_COLOR, IDX_TO_OBJECT, OBJECT_TO_IDX, STATE_TO_IDX
    from minigrid.envs.babyai.core.levelgen import LevelGen
    from minigrid.minigrid_env import MiniGridEnv
    from minigrid.utils.baby_ai_bot import BabyAIBot, DisappearedBoxError
except ImportError as error:
    raise DependencyNotInstalled(
        f"The BabyAI/MiniGrid envs need minigrid ({error}). Install it with: pip install 'reflect-rl[babyai]'"
    ) from error

#: MiniGrid's actions 0..5 as words, in MiniGrid's order (``done``, index 6, is left out).
ACTIONS: tuple[str, ...] = ("turn left", "turn right", "go forward", "pick up", "drop", "toggle")
_DONE = 6

#: Words of the ``mission`` part of :meth:`MiniGridTextEnv.structured_observation`; index 0 pads, 1 is
#: any other word. BabyAI's whole mission grammar, plus the words of the common MiniGrid missions.
MISSION_WORDS: tuple[str, ...] = (
    "<pad>", "<unk>", ",",
    "a", "the", "go", "to", "pick", "up", "open", "put", "next", "then", "after", "you", "and",
    "in", "front", "of", "behind", "on", "your", "left", "right", "object",
    *COLOR_NAMES, "ball", "box", "key", "door",
    "get", "goal", "square", "use", "avoid", "lava", "fetch", "must", "near", "reach", "traverse", "rooms",
)  # fmt: skip
MISSION_TOKENS = 32
_WORD_INDEX = {word: index for index, word in enumerate(MISSION_WORDS)}

_UNSEEN, _EMPTY, _WALL = OBJECT_TO_IDX["unseen"], OBJECT_TO_IDX["empty"], OBJECT_TO_IDX["wall"]
_IDX_TO_STATE = {index: state for state, index in STATE_TO_IDX.items()}
# The episode limit MiniGrid is left with, so that only this env's ``horizon`` truncates.
_NO_LIMIT = 2**31 - 1


def _object_name(type_index: int, color_index: int, state_index: int) -> str:
    """How the text names an encoded MiniGrid cell: ``"a closed red door"``, ``"a blue key"``, ``"lava"``."""
    kind, color = IDX_TO_OBJECT[type_index], IDX_TO_COLOR[color_index]
    if kind == "door":
        return f"a {_IDX_TO_STATE[state_index]} {color} door"
    if kind == "wall":
        return "a wall"
    if kind == "lava":
        return "lava"
    if kind == "goal":
        return f"a {color} goal square"
    if kind == "floor":
        return f"a {color} floor tile"
    return f"a {color} {kind}"


# _NAMES[type][color][state], for every index MiniGrid's encoding can hold.
_NAMES: tuple[tuple[tuple[str, ...], ...], ...] = tuple(
    tuple(tuple(_object_name(t, c, s) for s in range(len(STATE_TO_IDX))) for c in range(len(IDX_TO_COLOR)))
    for t in range(len(IDX_TO_OBJECT))
)


def _steps(count: int) -> str:
    return f"{count} step" if count == 1 else f"{count} steps"


@dataclass(frozen=True)
class _ViewTables:
    """Precomputed words for an agent view of ``size`` x ``size`` cells.

    MiniGrid's view image is indexed ``[column, row]``: the agent stands at column ``size // 2`` of the
    last row and looks towards row 0. Cells are addressed by flat index ``column * size + row``.
    """

    order: tuple[int, ...]  # every cell but the agent's, nearest first
    where: tuple[str, ...]  # "2 steps forward and 1 step left", per flat index
    walls: tuple[tuple[tuple[int, ...], tuple[str, ...]], ...]  # (cells, wall sentences) forward, left, right
    front: int  # the cell right in front of the agent


@functools.cache
def _view_tables(size: int) -> _ViewTables:
    """The :class:`_ViewTables` of a ``size`` x ``size`` view (computed once per size)."""
    center, last = size // 2, size - 1
    where: list[str] = []
    for column in range(size):
        for row in range(size):
            forward, lateral = last - row, column - center
            side = f"{_steps(abs(lateral))} {'left' if lateral < 0 else 'right'}"
            if lateral == 0:
                where.append(f"{_steps(forward)} forward")
            elif forward == 0:
                where.append(side)
            else:
                where.append(f"{_steps(forward)} forward and {side}")
    agent = center * size + last
    cells = [index for index in range(size * size) if index != agent]
    # Nearest first (Manhattan distance), then farther ahead (smaller row), then left to right.
    order = sorted(cells, key=lambda i: (last - i % size + abs(i // size - center), i % size, i // size))
    lines = (
        ([center * size + row for row in range(last - 1, -1, -1)], "forward"),
        ([column * size + last for column in range(center - 1, -1, -1)], "left"),
        ([column * size + last for column in range(center + 1, size)], "right"),
    )
    walls = tuple(
        (tuple(line), tuple(f"You see a wall {_steps(d)} {word}." for d in range(1, len(line) + 1)))
        for line, word in lines
    )
    return _ViewTables(tuple(order), tuple(where), walls, front=center * size + last - 1)


class _PlanningLoopError(RuntimeError):
    """BabyAIBot searched more than :attr:`_BoundedBot.max_searches` times for one action."""


class _BoundedBot(BabyAIBot):
    """``BabyAIBot`` that gives up instead of planning forever.

    Its ``replan`` cycles between subgoals without end when the mission cannot be done (minigrid 3.2,
    ``BabyAI-Unlock-v0`` seed 63, from step 160). A normal plan needs at most ~10 path searches per
    action (8 measured over 100 episodes of each registered level), so 200 means it is stuck.
    """

    max_searches = 200

    def replan(self, action_taken: int | None = None) -> int:
        self._searches_left = self.max_searches
        return super().replan(action_taken)

    def _breadth_first_search(self, *args: Any, **kwargs: Any) -> Any:
        self._searches_left -= 1
        if self._searches_left < 0:
            raise _PlanningLoopError(f"no action after {self.max_searches} path searches; the plan loops")
        return super()._breadth_first_search(*args, **kwargs)


def _pickup_local(**kwargs: Any) -> MiniGridEnv:
    """BabyAI-Text's ``PickupLocal``, which minigrid does not ship: one 8x8 room, 8 objects, "pick up ..."."""
    return LevelGen(
        action_kinds=("pickup",),
        instr_kinds=("action",),
        num_rows=1,
        num_cols=1,
        num_dists=8,
        locked_room_prob=0,
        locations=False,
        unblocking=False,
        **kwargs,
    )


# How BabyAIBot gives up: its asserts, an opened box, or a plan that loops (see _BoundedBot).
_BOT_FAILURES = (AssertionError, DisappearedBoxError, _PlanningLoopError)

# Levels built here because minigrid registers no ``BabyAI-<Level>-v0`` for them.
_LEVELS_BUILT_HERE = {"PickupLocal": _pickup_local}


def babyai_levels() -> list[str]:
    """Every level name :func:`make_babyai_level` accepts, sorted."""
    ids = [env_id for env_id in gym.registry if env_id.startswith("BabyAI-") and env_id.endswith("-v0")]
    return sorted({*_LEVELS_BUILT_HERE, *(env_id[len("BabyAI-") : -len("-v0")] for env_id in ids)})


def make_babyai_level(level: str, **kwargs: Any) -> MiniGridEnv:
    """The bare MiniGrid env of BabyAI level ``level`` (``"GoToLocal"`` builds ``BabyAI-GoToLocal-v0``).

    Args:
        level: A level name: minigrid's ``BabyAI-<level>-v0`` ids, plus ``"PickupLocal"``.
        **kwargs: Passed to the level's constructor.

    Raises:
        ValueError: ``level`` names no BabyAI level.
    """
    if level in _LEVELS_BUILT_HERE:
        return _LEVELS_BUILT_HERE[level](**kwargs)
    env_id = f"BabyAI-{level}-v0"
    if env_id not in gym.registry:
        raise ValueError(f"Unknown BabyAI level {level!r} (no {env_id} registered); choose one of {babyai_levels()}.")
    return gym.make(env_id, disable_env_checker=True, **kwargs).unwrapped


class MiniGridTextEnv(TextEnv):
    """Any MiniGrid env in words: what the agent sees, relative to itself, and its mission.

    ## Description
    A generic wrapper, written as a ReflectRL :class:`~reflect_gym.core.TextEnv` that owns a MiniGrid
    env. Each step describes the agent's partial view (MiniGrid's 7x7 view image, occlusion included)
    in the style of BabyAI-Text: the nearest wall straight ahead, to the left and to the right, every
    visible object with its position relative to the agent, nearest first, what is directly in front,
    and what the agent carries. Layouts are drawn by MiniGrid: ``reset(seed=s)`` passes ``s`` to it,
    so episodes are exactly minigrid's own for the same seeds (later unseeded resets continue
    minigrid's generator, as minigrid does), and the same seed gives the same episodes.

    ## Observation Space
    A ``str`` (:class:`reflect_gym.core.PromptText`, ``max_length=4096``; BabyAI observations are
    typically 200-650 characters, and a longer state is cut with a note). ``BabyAI-GoToLocal``, seed 1::

        Mission: go to the purple box
        You see a wall 4 steps forward.
        You see a wall 3 steps left.
        You see a purple box 1 step forward and 1 step left.
        You see a grey box 2 steps left.
        You see a red key 1 step forward and 2 steps left.
        You see a green key 2 steps forward and 2 steps right.
        You see a grey key 2 steps forward and 3 steps right.
        In front of you: an empty cell.
        You carry nothing.

        0. turn left
        1. turn right
        2. go forward
        3. pick up
        4. drop
        5. toggle

    Objects are named ``a <color> <ball|box|key>``, ``a <open|closed|locked> <color> door``,
    ``a <color> goal square``, ``lava``, ``a <color> floor tile``. For classical baselines,
    ``structured_observation()`` returns ``{"image": (7, 7, 3) uint8, "direction": int, "mission":
    (32,) word indices into MISSION_WORDS}``, in ``structured_observation_space`` (whose image bounds
    are the encoding's real maxima, so Stable-Baselines3 flattens it instead of using a CNN).

    ## Action Space
    ``Discrete(6)``: MiniGrid's actions 0..5 as words, all always admissible. MiniGrid's ``done``
    action is left out: no level registered here needs it (so minigrid's ``BABYAI_DONE_ACTIONS``
    mode is not supported).

    ## Rewards
    MiniGrid's success reward ``1 - 0.9 * steps / horizon`` on the winning step (``steps`` counts this
    env's steps, invalid ones included; with the default horizon it equals MiniGrid's reward), the
    inner env's reward otherwise (0 in MiniGrid and BabyAI).

    ## Episode End
    Terminated when the inner env terminates: success (its reward > 0), or failure (BabyAI's strict
    instructions, lava). Truncated after ``horizon`` steps; the inner env is given no step limit of its
    own, so it never truncates first.

    ## Information
    The ReflectRL contract's keys (``actions``, ``action_mask``, ``state``, ``invalid_action``,
    ``success``).

    ## Arguments
    - ``env``: a MiniGrid env id (built with ``gym.make(env, **env_kwargs)``) or a MiniGrid env
      instance (used as is, not copied; wrappers around it are ignored, its ``unwrapped`` env is used).
    - ``horizon``: steps before truncation; ``None`` (default) takes the inner env's own ``max_steps``
      at each reset (BabyAI computes it per episode from the layout), so read ``horizon`` after reset.
    - ``env_kwargs``: keyword arguments for ``gym.make`` when ``env`` is an id.
    - ``invalid_action``, ``invalid_action_penalty``, ``render_mode``: see
      :class:`reflect_gym.core.TextEnv`; ``render()`` in ``"ansi"`` mode adds MiniGrid's full map
      (which the agent does not see) below the state.

    The expert is minigrid's ``BabyAIBot``, so only BabyAI levels (envs with ``instrs``) have one;
    see :meth:`expert_action`.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        env: str | gym.Env,
        *,
        horizon: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float = -0.1,
        render_mode: str | None = None,
    ):
        if isinstance(env, str):
            inner = gym.make(env, disable_env_checker=True, **(env_kwargs or {})).unwrapped
        elif env_kwargs:
            raise ValueError(f"env_kwargs={env_kwargs!r} only apply when env is an id; got an instance {env!r}.")
        else:
            inner = env.unwrapped
        if not isinstance(inner, MiniGridEnv):
            raise TypeError(f"env must be a MiniGrid env id or instance, got {type(inner).__name__} from {env!r}.")
        if horizon is not None and horizon < 1:
            raise ValueError(f"horizon must be at least 1 or None (the env's own max_steps), got {horizon}.")
        super().__init__(
            max_actions=len(ACTIONS),
            max_length=4096,
            # With horizon=None the real value is set at each reset, from the inner env's max_steps.
            horizon=horizon if horizon is not None else max(1, inner.max_steps),
            invalid_action=invalid_action,
            invalid_action_penalty=invalid_action_penalty,
            render_mode=render_mode,
        )
        self._inner = inner
        self._fixed_horizon = horizon
        self._base_max_steps = inner.max_steps
        self._tables = _view_tables(inner.agent_view_size)
        view = inner.agent_view_size
        # The encoding's real maxima (type, color, state), not 0..255: Stable-Baselines3 would take a
        # 0..255 uint8 image for pixels and put a CNN on it, which a 7x7 view is too small for.
        image_high = np.array([len(IDX_TO_OBJECT) - 1, len(IDX_TO_COLOR) - 1, len(STATE_TO_IDX) - 1], np.uint8)
        self.structured_observation_space = spaces.Dict(
            {
                "image": spaces.Box(low=0, high=np.tile(image_high, (view, view, 1)), dtype=np.uint8),
                "direction": spaces.Discrete(4),
                "mission": spaces.MultiDiscrete(np.full(MISSION_TOKENS, len(MISSION_WORDS))),
            }
        )
        self._image = np.zeros((view, view, 3), dtype=np.uint8)
        self._mission_line = ""
        self._mission_tokens = np.zeros(MISSION_TOKENS, dtype=np.int64)
        self._inner_seed: int | None = None  # the seed of the reset in progress
        self._inner_seeded = False
        self._bot: _BoundedBot | None = None
        self._bot_action: int | None = None  # the bot's answer for the current state, once asked
        self._last_action: int | None = None  # the action that led to the current state

    # -- structured state, for classical baselines ------------------------------------------------

    def structured_observation(self) -> dict[str, Any]:
        """MiniGrid's view image, the agent's direction and the mission as word indices."""
        return {
            "image": self._image.copy(),
            "direction": int(self._inner.agent_dir),
            "mission": self._mission_tokens.copy(),
        }

    # -- TextEnv hooks --------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._inner_seed = seed
        return super().reset(seed=seed, options=options)

    def _reset_state(self, options: dict[str, Any] | None) -> None:
        inner = self._inner
        # MiniGrid draws the layout. A seed goes to it unchanged, so episodes match minigrid's own for the
        # same seed; an unseeded reset continues its generator, as minigrid does (seeded from ours the
        # first time, so that one seed fixes every episode either way).
        seed = self._inner_seed
        if seed is None and not self._inner_seeded:
            seed = int(self.np_random.integers(2**31 - 1))
        self._inner_seeded = True
        inner.max_steps = self._base_max_steps  # BabyAI recomputes it at reset; other envs keep this one
        # BabyAI levels print "Sampling rejected: ..." to stdout for each rejected layout; keep it quiet.
        with contextlib.redirect_stdout(io.StringIO()):
            observation, _ = inner.reset(seed=seed)
        self.horizon = self._fixed_horizon if self._fixed_horizon is not None else max(1, inner.max_steps)
        inner.max_steps = _NO_LIMIT
        self._image = observation["image"]
        mission = str(inner.mission)
        self._mission_line = f"Mission: {mission}"
        words = mission.replace(",", " , ").lower().split()[:MISSION_TOKENS]
        self._mission_tokens = np.zeros(MISSION_TOKENS, dtype=np.int64)
        self._mission_tokens[: len(words)] = [_WORD_INDEX.get(word, 1) for word in words]
        self._bot, self._bot_action, self._last_action = None, None, None

    def _admissible_actions(self) -> list[str]:
        return list(ACTIONS)

    def _state_text(self) -> str:
        tables = self._tables
        size = self._image.shape[0]
        cells = self._image.reshape(size * size, 3).tolist()
        lines = [self._mission_line]
        for line, sentences in tables.walls:
            for distance, index in enumerate(line):
                if cells[index][0] == _WALL:
                    lines.append(sentences[distance])
                    break
        where = tables.where
        for index in tables.order:
            kind, color, state = cells[index]
            if kind > _WALL:
                lines.append(f"You see {_NAMES[kind][color][state]} {where[index]}.")
        kind, color, state = cells[tables.front]
        if kind == _EMPTY:
            lines.append("In front of you: an empty cell.")
        elif kind == _UNSEEN:
            lines.append("In front of you: nothing you can see.")
        else:
            lines.append(f"In front of you: {_NAMES[kind][color][state]}.")
        carrying = self._inner.carrying
        if carrying is None:
            lines.append("You carry nothing.")
        else:
            kind, color, state = carrying.encode()
            lines.append(f"You carry {_NAMES[kind][color][state]}.")
        return "\n".join(lines)

    def _apply(self, index: int) -> tuple[float, bool, bool]:
        if self._bot is not None and self._bot_action is None:
            # The bot must see every state once it plans; feed it the states the agent did not ask about.
            try:
                self._bot.replan(self._last_action)
            except _BOT_FAILURES:
                self._bot = None  # it lost track of the plan; a fresh bot starts at the next expert_action()
        observation, reward, terminated, _, _ = self._inner.step(index)
        self._image = observation["image"]
        self._last_action, self._bot_action = index, None
        success = bool(terminated and reward > 0)
        if success:
            reward = 1.0 - 0.9 * (self._steps + 1) / self.horizon
        return float(reward), bool(terminated), success

    def expert_action(self) -> int:
        """minigrid's ``BabyAIBot``: the action it suggests in the current state.

        The bot is created the first time it is asked in an episode and from then on sees every state,
        so it advises well after the agent strayed (its plan adapts to the actions actually taken).
        Asking it never changes the episode: it reads the env and draws no random numbers. Should it
        lose track (it gives up, e.g., after a box was opened), a fresh bot plans from the current
        state. Success rates per level are in :class:`BabyAITextEnv`.

        Raises:
            NotImplementedError: The inner env is not a BabyAI level (has no ``instrs`` to plan from).
            RuntimeError: A fresh bot cannot plan from this state either, or it answers ``done``.
        """
        if not hasattr(self._inner, "instrs"):
            raise NotImplementedError(
                f"No expert for {type(self._inner).__name__}: BabyAIBot plans BabyAI levels only "
                "(MiniGrid envs with `instrs`). Use a BabyAI level, e.g. BabyAITextEnv('GoToLocal')."
            )
        if self._bot_action is None:
            try:
                self._bot_action = self._replan()
            except _BOT_FAILURES:
                self._bot = None
                try:
                    self._bot_action = self._replan()
                except _BOT_FAILURES as error:
                    raise RuntimeError(
                        f"BabyAIBot cannot plan from this state ({type(error).__name__}: {error}); "
                        "no expert action is available until the next reset."
                    ) from error
        if self._bot_action == _DONE:
            raise RuntimeError(
                "BabyAIBot answered 'done' but the episode is not over; this env has no 'done' action "
                "(levels that need it are not supported)."
            )
        return self._bot_action

    def _replan(self) -> int:
        if self._bot is None:
            self._bot = _BoundedBot(self._inner)
            return int(self._bot.replan())
        return int(self._bot.replan(self._last_action))

    # -- Gymnasium API --------------------------------------------------------------------------

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return f"{self._state}\n\nFull map (not shown to the agent):\n{self._inner.pprint_grid()}"
        return None

    def close(self) -> None:
        self._inner.close()
        super().close()


class BabyAITextEnv(MiniGridTextEnv):
    """A BabyAI level in words (BabyAI-Text style), with minigrid's ``BabyAIBot`` as the expert.

    ## Description
    :class:`MiniGridTextEnv` over the BabyAI level ``level``; see it for the observation, actions,
    rewards and episode end. The default horizon is the level's own ``max_steps``.

    ``PickupLocal`` is not shipped by minigrid; it is built here as BabyAI-Text defines it: one 8x8
    room with 8 objects and a "pick up the/a ..." mission (``LevelGen`` with pickup actions only, no
    locations, no locked room).

    ## Expert
    ``BabyAIBot`` (see :meth:`MiniGridTextEnv.expert_action`). Measured with
    ``python -m benchmarks.speed_babyai --episodes 100`` (seeds 0..99, expert at every step, default
    horizon), it succeeds on 100/100 episodes of GoToRedBall, GoToLocal, PickupLocal, PutNextLocal,
    OpenDoor, GoTo and Pickup, and on 99/100 of Unlock. The Unlock failure (seed 63) is minigrid's
    level, not the bot: ``Unlock.gen_mission`` compares room indices with ``is``, which fails for numpy
    integers, so the key can land inside the room it unlocks; 33 of the first 1000 Unlock seeds have no
    reachable key and cannot be solved by anyone. There the bot's plan loops; this env detects that and
    restarts the bot until the horizon truncates the episode. minigrid also documents levels not
    registered here that the bot fails (``PutNextS*N*Carrying``, ``KeyInBox``).

    ## Arguments
    - ``level``: a BabyAI level name, ``BabyAI-<level>-v0`` in minigrid (any of them works, e.g.
      ``"BossLevel"``), or ``"PickupLocal"``.
    - ``level_kwargs``: keyword arguments for the level's constructor.
    - ``horizon``, ``invalid_action``, ``invalid_action_penalty``, ``render_mode``: see
      :class:`MiniGridTextEnv`.

    ## Registered Configurations
    ``ReflectRL/BabyAI-<Level>-v0`` for ``GoToRedBall``, ``GoToLocal``, ``PickupLocal``,
    ``PutNextLocal``, ``OpenDoor``, ``GoTo``, ``Pickup`` and ``Unlock``.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        level: str = "GoToLocal",
        *,
        horizon: int | None = None,
        level_kwargs: dict[str, Any] | None = None,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float = -0.1,
        render_mode: str | None = None,
    ):
        super().__init__(
            make_babyai_level(level, **(level_kwargs or {})),
            horizon=horizon,
            invalid_action=invalid_action,
            invalid_action_penalty=invalid_action_penalty,
            render_mode=render_mode,
        )
        self.level = level
