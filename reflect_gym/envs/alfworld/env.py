"""ALFWorld: household tasks in text, played through ALFWorld's TextWorld games."""

from __future__ import annotations

import importlib.util
import json
import numbers
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gymnasium.error import DependencyNotInstalled

from reflect_gym.core import InvalidActionMode, TextEnv
from reflect_gym.envs.alfworld.process import GameProcess, GameProcessError, GameTimeout

#: ALFWorld's six task types, in ALFWorld's order.
TASK_TYPES: tuple[str, ...] = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
#: The splits of ALFWorld's dataset.
SPLITS: tuple[str, ...] = ("train", "valid_seen", "valid_unseen")
#: The hand-written problems that ship with reflect-rl, one folder each.
BUNDLED_PROBLEMS = Path(__file__).resolve().parent / "problems"

Dataset = Literal["bundled", "alfworld"]
ExpertType = Literal["handcoded", "planner"]

_WELCOME = "-= Welcome to TextWorld, ALFRED! =-"
_TASK_PREFIX = "Your task is to: "
_SOLVABLE = re.compile(rb'"solvable":\s*(true|false|null)')
_ALWAYS_KEPT = ("look", "inventory")


class ALFWorldTimeoutError(TimeoutError):
    """An ALFWorld game did not answer a reset or a step in time; its process was stopped."""


class ALFWorldGameError(RuntimeError):
    """An ALFWorld game failed to reset or step."""


def default_cache_dir() -> Path:
    """``$REFLECT_RL_CACHE/alfworld``, by default ``~/.cache/reflect_rl/alfworld``."""
    return Path(os.environ.get("REFLECT_RL_CACHE", "~/.cache/reflect_rl")).expanduser() / "alfworld"


def find_games(root: Path, task_types: Sequence[str]) -> list[Path]:
    """The game folders under ``root`` of the given task types, sorted, filtered as ALFWorld filters them.

    A game folder holds ``traj_data.json`` and ``game.tw-pddl`` or ``initial_state.pddl``. Its task type
    is the start of the top folder's name under ``root`` (ALFRED's ``<task_type>-<object>-...`` naming).
    Like ALFWorld's ``AlfredTWEnv``, this skips paths naming ``movable`` or ``Sliced`` and games whose
    ``game.tw-pddl`` is not marked solvable; a folder with only ``initial_state.pddl`` is kept.

    Raises:
        ValueError: A ``game.tw-pddl`` is not a JSON object; the message names it.
    """
    games = []
    for traj_data in sorted(root.rglob("traj_data.json")):
        folder = traj_data.parent
        relative = folder.relative_to(root)
        if not relative.parts or "movable" in str(relative) or "Sliced" in str(relative):
            continue
        if relative.parts[0].split("-")[0] not in task_types:
            continue
        shipped = folder / "game.tw-pddl"
        if shipped.is_file():
            if not _is_solvable(shipped):
                continue
        elif not (folder / "initial_state.pddl").is_file():
            continue
        games.append(folder)
    return games


def _is_solvable(game_file: Path) -> bool:
    """The ``solvable`` flag of an ALFWorld game file, read from its tail (it is written last) when there.

    Raises:
        ValueError: The file is not a JSON object (a truncated download, or another file under that name).
    """
    with game_file.open("rb") as stream:
        stream.seek(max(0, game_file.stat().st_size - 4096))
        match = _SOLVABLE.search(stream.read())
    if match is not None:
        return match.group(1) == b"true"
    try:
        game = json.loads(game_file.read_bytes())
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        problem = f"is not JSON ({error})"
    else:
        if isinstance(game, dict):
            return bool(game.get("solvable"))
        problem = f"holds a JSON {type(game).__name__}, not an object"
    raise ValueError(
        f"ALFWorld game file {game_file} {problem}, so it is not a TextWorld game. Download the dataset "
        "again with `alfworld-download`, or delete the file to have the game built from the folder's "
        "initial_state.pddl."
    )


def split_intro(feedback: str) -> tuple[str, str]:
    """Split a game's opening text into ``(task, room description)``, dropping TextWorld's banner."""
    text = feedback.replace(_WELCOME, "").strip()
    before, marker, task = text.rpartition(_TASK_PREFIX)
    if not marker:
        return "", text
    return task.strip(), before.strip()


def _require_alfworld() -> None:
    missing = [name for name in ("alfworld", "textworld", "fast_downward") if importlib.util.find_spec(name) is None]
    if missing:
        raise DependencyNotInstalled(
            f"ReflectRL/ALFWorld-v0 needs {', '.join(missing)}; install them with: pip install 'reflect-rl[alfworld]'"
        )


class ALFWorldEnv(TextEnv):
    """ALFWorld's text household tasks, one TextWorld game per episode.

    ## Description
    ALFWorld (Shridhar et al., 2021) turns ALFRED's household tasks into TextWorld games: an agent in
    a room of receptacles (cabinets, a fridge, a sink basin...) must, for example, find a mug and put
    it in the coffee machine. Each episode plays one game, chosen with ``self.np_random`` from the games
    of the selected task types (or named by ``reset(options={"game": index})``, an index into
    :attr:`games`). Games are played by ``alfworld`` and ``textworld`` in a separate process per env
    (TextWorld's PDDL engine keeps its game in process-wide state, and a separate process can be stopped
    when a game hangs); it starts at the first ``reset`` and is reused for later episodes.

    Two sources of games:

    * ``dataset="bundled"`` (default): eight small hand-written ALFRED-style problems that ship with
      reflect-rl (``initial_state.pddl`` + ``traj_data.json``, ALFWorld's format) covering the six task
      types (three ``pick_and_place_simple``, one of each other type), so the env runs offline.
    * ``dataset="alfworld"``: the dataset that ``alfworld-download`` fetches, read from ``data_path``.

    A game folder that ships its ``game.tw-pddl`` is played as is; otherwise the game file is built from
    the problem, ALFWorld's PDDL domain and its grammar (as ``alfworld-generate`` builds them) into
    ``cache_dir``, once, and never into the data folder.

    ## Observation Space
    A ``str`` (:class:`reflect_gym.core.PromptText`, ``max_length=8192`` by default): the task, the
    game's transcript (the room description, then ``> command`` and the game's answer per step) cut to
    the current text and the ``history_length`` steps before it, then the numbered admissible commands::

        Your task is to: put some mug on coffeemachine.

        You are in the middle of a room. Looking quickly around you, you see a cabinet 2, a cabinet 1, ...
        > go to cabinet 1
        You arrive at cabinet 1. The cabinet 1 is closed.

        0. close cabinet 1
        1. examine cabinet 1
        ...

    ## Action Space
    ``Discrete(max_actions)`` (128 by default); TextWorld's admissible commands, in TextWorld's sorted
    order, are indices ``0..n-1``. A state offering more than ``max_actions`` commands keeps the
    expert's command, ``look``, ``inventory`` and then the others in sorted order up to ``max_actions``
    (the bundled problems offer at most 17 commands).

    ## Rewards
    +1 on the step that wins the game, 0 otherwise; ``invalid_action_penalty`` (-0.1) for a masked-out
    index.

    ## Episode End
    Terminated when the game is won (``info["success"]``); truncated after ``horizon`` steps (50).

    ## Information
    The ReflectRL contract's keys (``actions``, ``action_mask``, ``state``, ``invalid_action``,
    ``success``).

    ## Expert
    :meth:`expert_action` follows ALFWorld's expert through ``AlfredExpert``: the hand-coded expert
    (``expert="handcoded"``, default), which tracks the episode's commands and searches receptacles with
    ALFRED's priors, or the PDDL planner (``expert="planner"``, optimal, slower per step). Two failings
    of the hand-coded expert of alfworld 0.4 are worked around in the game process (see
    :mod:`reflect_gym.envs.alfworld.server`). When the expert offers no admissible command, the env
    returns ``look``, as ``AlfredExpert`` does. The hand-coded expert solves all eight bundled problems.

    ## Timeouts
    TextWorld games can hang. ``reset`` waits at most ``reset_timeout`` seconds (this includes starting
    the game process and building the game file) and ``step`` at most ``step_timeout``; past that, the
    game process is killed and :class:`ALFWorldTimeoutError` (a ``TimeoutError``) names the game file and
    the option. The next ``reset`` starts a fresh process.

    A game process that dies (killed, or crashed) fails the next ``step`` with :class:`ALFWorldGameError`,
    which names how it ended; ``step`` keeps failing until ``reset``, which starts a fresh process (a
    ``reset`` right after a death while idle just starts it).

    ## Parallel games
    Each env has its own game process, so envs in one process (``"sync"`` vector envs) do not share a
    game, but they take turns. Games run in parallel with ``gym.make_vec(..., vectorization_mode="async",
    vector_kwargs={"shared_memory": False})``: Gymnasium 1.x decodes a ``Text`` observation from shared
    memory only once, when the vector env is built, so with shared memory its observations go stale.
    Gymnasium's async ``close()`` waits forever when a worker died during a step; wrap the vector env in
    :class:`reflect_gym.vector.BoundedClose` to bound it.

    ## Copies and pickles
    A copy (``copy.deepcopy``, ``pickle``) holds the game's folder, seed and the commands taken, not the
    game process: its first step replays the episode in a fresh process (a process start, about a CPU
    second, plus one game step per command taken), then both continue independently.

    ## Arguments
    - ``dataset``: ``"bundled"`` or ``"alfworld"`` (see Description).
    - ``data_path``: for ``dataset="alfworld"``, the folder ``alfworld-download`` filled (holding
      ``json_2.1.1/<split>``) or a folder holding ``<split>`` directly; default ``$ALFWORLD_DATA``, else
      ``~/.cache/alfworld`` (``alfworld-download``'s default).
    - ``split``: for ``dataset="alfworld"``: ``"train"`` (default), ``"valid_seen"`` or ``"valid_unseen"``.
    - ``task_types``: task types to play, a sequence of :data:`TASK_TYPES` or ``"all"``; default
      ``("pick_and_place_simple",)``, the task the Reflect-RL paper used.
    - ``expert``: ``"handcoded"`` or ``"planner"``.
    - ``history_length``: steps shown before the current text (default 3; 0 shows only the current text).
    - ``horizon``, ``max_actions``, ``max_length``: see above.
    - ``step_timeout``, ``reset_timeout``: seconds (default 30 and 120), ``None`` to wait forever.
    - ``cache_dir``: where built game files go; default ``$REFLECT_RL_CACHE/alfworld``, else
      ``~/.cache/reflect_rl/alfworld``.
    - ``invalid_action``, ``invalid_action_penalty``, ``render_mode``: see :class:`reflect_gym.core.TextEnv`.

    ## Registered Configurations
    ``ReflectRL/ALFWorld-v0`` (the defaults: bundled problems, ``pick_and_place_simple``).

    ## Version History
    - v0: initial release (alfworld 0.4.2, textworld 1.7).
    - v0 (issue 32), episodes unchanged: a game process that died fails the step with
      :class:`ALFWorldGameError` and ``reset`` starts a new one (it raised ``BrokenPipeError``, then
      ``ValueError`` on every later call); a ``game.tw-pddl`` that is not a JSON object fails ``gym.make``
      with a ``ValueError`` naming it.
    """

    def __init__(
        self,
        *,
        dataset: Dataset = "bundled",
        data_path: str | os.PathLike | None = None,
        split: str | None = None,
        task_types: str | Sequence[str] = ("pick_and_place_simple",),
        expert: ExpertType = "handcoded",
        history_length: int = 3,
        horizon: int = 50,
        max_actions: int = 128,
        max_length: int = 8192,
        step_timeout: float | None = 30.0,
        reset_timeout: float | None = 120.0,
        cache_dir: str | os.PathLike | None = None,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float = -0.1,
        render_mode: str | None = None,
    ):
        _require_alfworld()
        super().__init__(
            max_actions=max_actions,
            max_length=max_length,
            horizon=horizon,
            invalid_action=invalid_action,
            invalid_action_penalty=invalid_action_penalty,
            render_mode=render_mode,
        )
        if expert not in ("handcoded", "planner"):
            raise ValueError(f"expert must be 'handcoded' or 'planner', got {expert!r}.")
        if history_length < 0:
            raise ValueError(f"history_length must be 0 or more, got {history_length}.")
        for name, value in (("step_timeout", step_timeout), ("reset_timeout", reset_timeout)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}.")
        self.task_types = _parse_task_types(task_types)
        self.dataset = dataset
        self.split = split
        self.expert = expert
        self.history_length = history_length
        self.step_timeout = step_timeout
        self.reset_timeout = reset_timeout
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        root = self._games_root(dataset, data_path, split)
        #: The game folders this env draws from, sorted.
        self.games: tuple[str, ...] = tuple(str(folder) for folder in find_games(root, self.task_types))
        if not self.games:
            raise ValueError(f"No ALFWorld games of task types {list(self.task_types)} under {root}.")

        self._game: GameProcess | None = None
        self._needs_reset = False
        self._game_index = -1
        self._game_file = ""
        self._episode_seed = 0
        self._taken: list[str] = []  # commands taken this episode, replayed by copies
        self._offered: list[str] = []  # the game's admissible commands now, before any cut
        self._task = ""
        self._transcript: list[str] = []
        self._expert_command: str | None = None

    # ----------------------------------------------------------------------------------------------

    @property
    def current_game(self) -> str | None:
        """The folder of the game being played, ``None`` before the first ``reset``."""
        return self.games[self._game_index] if self._game_index >= 0 else None

    def close(self) -> None:
        if self._game is not None:
            self._game.close()
            self._game = None
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        # A game process cannot be copied; the copy replays the episode in its own (see _ensure_game).
        state = self.__dict__.copy()
        state["_game"] = None
        return state

    # -- TextEnv hooks ----------------------------------------------------------------------------

    def _reset_state(self, options: dict[str, Any] | None) -> None:
        options = options or {}
        if "game" in options:
            index = options["game"]
            if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < len(self.games):
                raise ValueError(
                    f"options['game'] must be an index into env.games (0..{len(self.games) - 1}), got {index!r}."
                )
            index = int(index)
        else:
            index = int(self.np_random.integers(len(self.games)))
        seed = int(self.np_random.integers(2**31 - 1))
        self._needs_reset = False
        answer = self._request_reset(index, seed)
        self._game_index, self._episode_seed, self._taken = index, seed, []
        self._game_file = answer["game_file"]
        self._task, room = split_intro(answer["feedback"])
        self._transcript = [room]
        self._read(answer)

    def _admissible_actions(self) -> list[str]:
        commands = self._offered
        if len(commands) <= self.max_actions:
            return list(commands)
        kept = list(dict.fromkeys(c for c in (self._expert_command, *_ALWAYS_KEPT) if c in commands))
        kept = kept[: self.max_actions]
        kept += [c for c in commands if c not in kept][: self.max_actions - len(kept)]
        return sorted(kept, key=commands.index)

    def _state_text(self) -> str:
        lines = [f"{_TASK_PREFIX}{self._task}", ""] if self._task else []
        lines += self._transcript[-(self.history_length + 1) :]
        return "\n".join(lines)

    def _apply(self, index: int) -> tuple[float, bool, bool]:
        command = self._actions[index]
        self._ensure_game()
        answer = self._request_step(command)
        self._taken.append(command)
        self._transcript.append(f"> {command}\n{answer['feedback'].strip()}")
        self._read(answer)
        won = bool(answer["won"])
        return (1.0 if won else 0.0), won, won

    def expert_action(self) -> int:
        """The index of ALFWorld's expert's next command; ``look`` when it has no admissible one."""
        for command in (self._expert_command, "look"):
            if command in self._actions:
                return self._actions.index(command)
        return 0

    # -- the game process ---------------------------------------------------------------------------

    def _read(self, answer: dict[str, Any]) -> None:
        self._offered = list(answer["commands"])
        self._expert_command = answer["expert"]

    def _request_reset(self, index: int, seed: int) -> dict[str, Any]:
        if self._game is not None and not self._game.alive:  # it died between episodes: nothing is lost
            self._game.close()
            self._game = None
        message = {
            "op": "reset",
            "game": self.games[index],
            "cache_dir": str(self.cache_dir),
            "expert": self.expert,
            "seed": seed,
        }
        return self._request(message, self.reset_timeout, "reset", "reset_timeout", self.games[index])

    def _request_step(self, command: str) -> dict[str, Any]:
        message = {"op": "step", "command": command}
        return self._request(message, self.step_timeout, f"step {command!r}", "step_timeout", self._game_file)

    def _request(
        self, message: dict[str, Any], timeout: float | None, what: str, option: str, game: str
    ) -> dict[str, Any]:
        if self._game is None:
            self._game = GameProcess()
        try:
            return self._game.request(message, timeout)
        except GameTimeout:
            self._drop_game()
            raise ALFWorldTimeoutError(
                f"ALFWorld game {game} did not answer {what} within {option}={timeout} s, so its process was "
                f"stopped. Give it more time with gym.make(..., {option}=SECONDS) (None waits forever); "
                "reset() starts a fresh game process."
            ) from None
        except GameProcessError as error:
            self._drop_game()
            raise ALFWorldGameError(
                f"ALFWorld game {game} failed on {what}: {str(error).rstrip()}. Its game process was stopped; "
                "reset() starts a fresh one."
            ) from None

    def _drop_game(self) -> None:
        if self._game is not None:
            self._game.close()
            self._game = None
        self._needs_reset = True

    def _ensure_game(self) -> None:
        """Make sure a game process is at the current state; a copied env replays its episode first."""
        if self._needs_reset:
            raise ALFWorldGameError(
                "The ALFWorld game process was stopped after an error or a timeout; call reset() to play on."
            )
        if self._game is not None:
            return
        answer = self._request_reset(self._game_index, self._episode_seed)
        for command in self._taken:
            answer = self._request_step(command)
        if answer["commands"] != self._offered or answer["expert"] != self._expert_command:
            self._drop_game()
            raise ALFWorldGameError(f"Replaying the episode of a copied env diverged in game {self._game_file}.")

    @staticmethod
    def _games_root(dataset: str, data_path: str | os.PathLike | None, split: str | None) -> Path:
        if dataset == "bundled":
            if data_path is not None or split is not None:
                raise ValueError(
                    "data_path and split choose games of ALFWorld's dataset; pass dataset='alfworld' with them "
                    f"(got data_path={data_path!r}, split={split!r} with dataset='bundled')."
                )
            return BUNDLED_PROBLEMS
        if dataset != "alfworld":
            raise ValueError(f"dataset must be 'bundled' or 'alfworld', got {dataset!r}.")
        split = split or "train"
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
        base = Path(data_path if data_path is not None else os.environ.get("ALFWORLD_DATA", "~/.cache/alfworld"))
        base = base.expanduser()
        for root in (base / "json_2.1.1" / split, base / split):
            if root.is_dir():
                return root
        raise FileNotFoundError(
            f"ALFWorld's {split!r} split is not under {base} (looked for {base / 'json_2.1.1' / split} and "
            f"{base / split}). Download the dataset with `alfworld-download` (it needs access to github.com; "
            "it saves to $ALFWORLD_DATA, default ~/.cache/alfworld, or to --data-dir DIR) and pass "
            "data_path=DIR or set ALFWORLD_DATA; or use dataset='bundled', the hand-written problems that "
            "ship with reflect-rl."
        )


def _parse_task_types(task_types: str | Sequence[str]) -> tuple[str, ...]:
    if task_types == "all":
        return TASK_TYPES
    if isinstance(task_types, str):
        task_types = (task_types,)
    unknown = [t for t in task_types if t not in TASK_TYPES]
    if unknown or not task_types:
        raise ValueError(f"task_types must be 'all' or a non-empty sequence of {TASK_TYPES}, got {task_types!r}.")
    return tuple(dict.fromkeys(task_types))
