"""FileQA: find the file of a repository that answers a question (the paper's AutoExplore)."""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reflect_gym.core import InvalidActionMode, TextEnv, sanitize
from reflect_gym.envs.fileqa.corpus import corpus_version, default_tasks_path
from reflect_gym.envs.fileqa.filesystem import DIR, FILE, LINK, Node, RepositoryError, Snapshot, load_snapshot
from reflect_gym.envs.fileqa.tasks import KINDS, Task, TaskError, build_tasks, count_tasks, load_tasks_cached

_INSTRUCTION = "Find the file that answers the question: move with cd, read with cat, then name the file with id."
_HISTORY_HEADER = "# Command history\n"
_RESULT_HEADER = "# Result of the last command\n"
_NO_HISTORY = "(none)"
_NEXT, _PREVIOUS = "next page", "previous page"
_CUT_MARK = "[... cut to fit the observation limit]"
# A shown name longer than this is shortened to its start, a digest of the whole name and its end.
_NAME_LIMIT, _NAME_HEAD, _NAME_TAIL = 40, 20, 10
_DIGEST, _FULL_DIGEST = 8, 64
_LONGEST_NAME = _NAME_HEAD + 1 + _FULL_DIGEST + 1 + _NAME_TAIL
# The units of a display name that a cut must not split: its escapes (see filesystem.display_name), or one character.
_NAME_UNIT = re.compile(r"\\U[0-9a-f]{8}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|\\.|.", re.DOTALL)


@dataclass(frozen=True)
class _ResolvedTask:
    """A task checked against its repository's snapshot."""

    task: Task
    repo: int  # index into FileQAEnv._snapshots
    answers: tuple[int, ...]  # node indices, in the task's order
    keep: frozenset[int]  # answers and their ancestors: never left out
    info: dict[str, Any]  # info["task"]: immutable values only, so shallow copies are safe


@dataclass(frozen=True)
class _Page:
    """One page of a directory's admissible commands."""

    actions: tuple[str, ...]
    ops: tuple[tuple[str, int], ...]  # ("up" | "cd" | "cat" | "id" | "next" | "previous", node index)
    listing: str


@dataclass(frozen=True)
class _View:
    """A directory as one episode sees it (after leave-out), split into pages."""

    location: str
    pages: tuple[_Page, ...]
    page_of: dict[int, int]  # entry node index -> page


def _resolve(task: Task, snapshot: Snapshot, repo: int) -> _ResolvedTask:
    where = f"Task {task.origin}" if task.origin else f"Task {task.question[:60]!r}"
    answers = []
    for answer in task.answers:
        node = snapshot.find(answer)
        if node is not None and node.kind == FILE:
            answers.append(node.index)
            continue
        real = os.path.realpath(os.path.join(snapshot.root, answer))
        if not (real == snapshot.root or real.startswith(snapshot.root + os.sep)):
            problem = f"points outside its repository (it resolves to {real!r})"
        elif node is None and os.path.lexists(os.path.join(snapshot.root, answer)):
            problem = "is not shown by FileQA (hidden, build noise, a special file, or under a link)"
        elif node is None:
            problem = "does not exist"
        elif node.kind == LINK:
            problem = f"is a {node.note}"
        else:
            problem = "is a directory, not a file"
        raise TaskError(
            f"{where}: answer {answer!r} in repository {snapshot.root!r} {problem}; rebuild the tasks (the default "
            "corpus: python -m reflect_gym.envs.fileqa default --rebuild)."
        )
    keep = set(answers)
    for index in answers:
        keep.update(snapshot.ancestors(snapshot.nodes[index]))
    info = {
        "repo": task.repo_name,
        "question": task.question,
        "answers": task.answers,
        "kind": task.kind,
        "depth": task.depth,
        "split": task.split,
    }
    return _ResolvedTask(task, repo, tuple(answers), frozenset(keep), info)


def command_history(state: str) -> list[str]:
    """The commands a FileQA state's ``# Command history`` section shows, oldest first (empty before the first).

    The section holds the episode's last ``history_length`` commands (fewer when the observation is full).

    Raises:
        ValueError: ``state`` has no such section (it is not a FileQA state).
    """
    _, found, rest = state.partition(_HISTORY_HEADER)
    if not found:
        raise ValueError("Not a FileQA state: it has no '# Command history' section.")
    section = rest.split("\n\n", 1)[0]
    return [] if section in (_NO_HISTORY, "") else section.split("\n")


def last_result(state: str) -> str:
    """The text of a FileQA state's ``# Result of the last command`` section ("" in a state without one)."""
    return state.partition(_RESULT_HEADER)[2]


def question_subject(question: str) -> str:
    """The short subject of a FileQA question, as a noun phrase: ``"the file that defines the class TestSuite"``.

    It reads the wordings :mod:`reflect_gym.envs.fileqa.tasks` writes (the part before a quoted
    description, a first row or a section's first words); a question in other words keeps its first
    fourteen words.
    """
    subject = question.strip().rstrip("?")
    subject = re.split(r", described as| and the first row| that begins", subject)[0]
    subject = re.sub(r"^Which data file, with (\d+ rows?), has ", r"the data file with \1 that has ", subject)
    subject = re.sub(r"^Which (file|document) ", r"the \1 that ", subject)
    words = subject.split()
    return " ".join(words[:14]) + (" ..." if len(words) > 14 else "")


def shown_names(displays: Sequence[str]) -> list[str]:
    """The names of one directory's entries as FileQA shows them in observations and commands.

    Each starts as its display name (:func:`reflect_gym.envs.fileqa.filesystem.display_name`). A character the
    observation charset lacks (:data:`reflect_gym.core.CHARSET`) is escaped as ``\\uNNNN`` and the name
    quoted, as display names escape unusual characters, so it never shows as U+FFFD. A name longer than 40
    characters is shortened to its first 20 and last 10 characters (escapes kept whole) around the first 8
    hex digits of its SHA-256: ``"\\U0001f600…3fa2b1c4….py"``. Where two names of the directory would still
    show alike, the long ones among them carry the whole digest instead. Distinct display names thus show
    distinct, and a command holds the shown name, so the text of a command names its entry.
    """
    names = [_showable(display) for display in displays]
    shown = [_shorten(name, _DIGEST) if len(name) > _NAME_LIMIT else name for name in names]
    count = Counter(shown)
    return [
        _shorten(name, _FULL_DIGEST) if count[short] > 1 and len(name) > _NAME_LIMIT else short
        for name, short in zip(names, shown, strict=True)
    ]


def _showable(display: str) -> str:
    """``display`` with the characters the observation would replace by U+FFFD escaped, quoted if so."""
    if sanitize(display) == display:
        return display
    escaped = "".join(
        c if sanitize(c) == c else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in display
    )
    return escaped if escaped.startswith('"') else f'"{escaped}"'


def _shorten(name: str, digest: int) -> str:
    units = _NAME_UNIT.findall(name)
    head = tail = ""
    for unit in units:
        if len(head) + len(unit) > _NAME_HEAD:
            break
        head += unit
    for unit in reversed(units):
        if len(tail) + len(unit) > _NAME_TAIL:
            break
        tail = unit + tail
    tag = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:digest]
    return f"{head}\u2026{tag}\u2026{tail}"


def _entry_line(node: Node, name: str) -> str:
    if node.kind == DIR:
        return f"{name}/" + (" (unreadable)" if node.note else "")
    if node.kind == LINK:
        return f"{name}@ ({node.note})"
    return name + (" (unreadable)" if node.note else "")


def _keep_start(text: str, limit: int, separator: str = "\n") -> str:
    """``text`` in at most ``limit`` characters: its start (whole lines when it has several), then the cut mark.

    Where ``limit`` is shorter than the mark, the mark alone.
    """
    if len(text) <= limit:
        return text
    room = limit - len(_CUT_MARK) - len(separator)
    if room <= 0:
        return _CUT_MARK  # over the limit by less than the mark: the next part cut makes up for it
    kept = text[:room]
    if "\n" in kept and separator == "\n":
        kept = kept[: kept.rfind("\n")]
    return f"{kept}{separator}{_CUT_MARK}"


def _keep_last_lines(text: str, limit: int) -> str:
    """The last whole lines of ``text`` that fit in ``limit`` characters (the newest commands of a history)."""
    lines = text.split("\n")
    kept, used = [], -1
    for line in reversed(lines):
        if used + 1 + len(line) > limit:
            break
        kept.append(line)
        used += 1 + len(line)
    return "\n".join(reversed(kept))


def _keep_end(text: str, limit: int) -> str:
    """The end of ``text`` in at most ``limit`` characters, after an ellipsis (a path's deepest part)."""
    if len(text) <= limit:
        return text
    return "\u2026" + text[len(text) - limit + 1 :] if limit > 0 else ""


class FileQAEnv(TextEnv):
    """Find, in a repository, the file that answers a question: the Reflect-RL paper's AutoExplore.

    ## Description
    An episode draws a task: a question about a repository and the file(s) that answer it. The agent
    starts in the repository's root, moves with ``cd``, reads with ``cat`` and ends the episode by
    naming a file with ``id``. The repository is a read-only in-memory snapshot
    (:mod:`reflect_gym.envs.fileqa.filesystem`): nothing is written, copied or run, hidden files and build
    noise are left out, links never lead out of the root, and large or binary files are shown cut.

    Tasks come from a JSON-lines file (``tasks=``), are generated from folders (``repos=``), or, by
    default, come from the default corpus (:mod:`reflect_gym.envs.fileqa.corpus`): themed groups of the
    running Python's standard library, plus data and text repositories derived from it, built once and
    cached. The default corpus's version is ``env.unwrapped.corpus_version`` (``None`` for other tasks);
    record it with results.

    ## Observation Space
    A ``str`` (:class:`reflect_gym.core.PromptText`, ``max_length=4096`` by default), laid out as in the
    paper: the question, the current directory, its entries, the command history (last
    ``history_length`` commands), the result of the last command, then the numbered commands::

        # Task
        Find the file that answers the question: move with cd, read with cat, then name the file with id.
        Question: Which file defines the class JSONDecoder, described as "Simple JSON decoder."?

        # Current directory
        stdlib-web/json/

        # Entries
        __init__.py
        decoder.py
        ...

        # Command history
        cd json

        # Result of the last command
        Moved to stdlib-web/json/.

        0. cd ..
        1. cat __init__.py
        2. id __init__.py
        ...

    ``cat`` shows at most ``max_output_lines`` lines of a text file (the paper: about 100) or
    ``max_data_lines`` of a CSV/TSV file (the paper: 5), each line at most 200 characters and the whole at
    most ``max_output_chars`` characters, with a last line that says what was cut; binary files show
    ``[binary file, N bytes]``. A typical observation has 1,500-3,000 characters.

    The numbered commands always show whole: a page of them takes at most half of ``max_length``. The
    question takes at most a quarter (a longer one is cut, with a mark). When the state still does not
    fit, its parts are cut in this order, each only as far as needed: the listing (the commands name the
    same entries), the oldest commands of the history, the result of the last command (the file shown),
    the start of the current directory's path, and the question last. A cut listing, result or question
    ends with a mark.

    ## Action Space
    ``Discrete(max_actions)`` over the admissible commands: ``cd ..`` (not in the root), ``cd <dir>`` per
    sub-folder, ``cat <file>`` and ``id <file>`` per file. Names with spaces, quotes or unusual characters
    are quoted and escaped, as are characters the observation's charset lacks; names over 40 characters
    are shortened around a digest of the whole name (:func:`shown_names`). Entries of a directory always
    show distinct names, the same in the listing, the path and the commands, so the text of a command
    (:class:`reflect_gym.wrappers.TextActions`) names its entry. When a directory offers more than
    ``max_actions`` commands, or more than half of ``max_length`` characters of them, they are split into
    pages, whole entries per page, and ``next page`` / ``previous page`` move between them (each a step);
    ``cd ..`` is on every page, so every entry stays reachable.

    ## Rewards
    The paper's, divided by ``reward_scale`` (default: ``horizon``): -1 per step; ``id`` on a correct
    file adds ``+horizon``; ``id`` on a wrong file, or running out of steps, adds ``-horizon``. With the
    defaults a step costs -1/15, a success ends with 1 - 1/15 and a failure with -1 - 1/15.

    ## Episode End
    Terminated by ``id`` (``info["success"]`` tells whether the file was correct); truncated after
    ``horizon`` steps.

    ## Information
    The ReflectRL contract's keys, plus ``task``: ``repo`` (folder name), ``question``, ``answers`` (a
    tuple of paths), ``kind``, ``depth`` and ``split`` of the episode's task. ``state_facts()`` (see
    :mod:`reflect_gym.core`) returns ``question``, the task's question in the observation's charset (whole,
    where the observation cuts a question longer than a quarter of ``max_length``), and ``subject``, what it
    asks for as a noun phrase (:func:`question_subject`).

    ## Arguments
    - ``tasks``: a JSON-lines tasks file (see :mod:`reflect_gym.envs.fileqa.tasks`) or a sequence of
      :class:`Task`. Built with ``python -m reflect_gym.envs.fileqa build --repo DIR --out tasks.jsonl``.
    - ``repos``: folders to generate tasks from at construction (instead of ``tasks``).
    - ``split``: ``"train"``, ``"test"`` or ``"all"``. Default: ``"train"`` for the default corpus,
      ``"all"`` for ``tasks`` and ``repos``.
    - ``depth``: keep only tasks whose answer lies exactly ``depth`` directories below the root (0: in
      the root); ``None`` keeps all.
    - ``kinds``: keep only these kinds (``"code"``, ``"data"``, ``"text"``); ``None`` keeps all.
    - ``horizon``: steps before truncation (default 15, the paper's).
    - ``max_actions``: size of the action space (default 30; at least 5).
    - ``leaveout_prob``: per episode, hide each entry that is not on the way to an answer with this
      probability (the paper: 0.5 in training, 0 in evaluation; default 0). Drawn from ``np_random``.
    - ``reward_scale``: divides every reward (default ``horizon``).
    - ``expert_reads``: the expert ``cat``\\ s the answer before ``id`` (the paper's demonstrations);
      default ``False``, the shortest command sequence.
    - ``expert_search``: in the answer's folder the expert reads the files in listing order, from the
      first it has not read, until it has read the answer, then names it (implies ``expert_reads``).
      Whether it names the file it just read then depends only on what that file shows, so its
      demonstrations hold the check an agent without the answer has to make. Default ``False``.
    - ``max_output_lines``, ``max_data_lines``, ``max_output_chars``, ``history_length``,
      ``max_length``: the observation's limits described above. ``max_length`` must hold a page of
      commands with the longest shown names in its half (at least 504 with the default ``max_actions``).
    - ``invalid_action``, ``invalid_action_penalty`` (default: one step's cost), ``render_mode``: see
      :class:`reflect_gym.core.TextEnv`.

    ``reset(options={"task": i})`` starts task ``i`` of ``env.unwrapped.tasks`` (the tasks left after
    filtering), for evaluation over every task.

    ## Registered Configurations
    ``ReflectRL/FileQA-v0`` (every depth), ``ReflectRL/FileQA-Depth0-v0`` (``depth=0``: the answer is in
    the root), ``ReflectRL/FileQA-Depth1-v0`` (``depth=1``), ``ReflectRL/FileQA-Depth2-v0`` (``depth=2``):
    the paper's curriculum by depth.

    ## Version History
    - v0: initial release.
    - v0 (issue 32): names in CJK, Arabic, Hebrew and other scripts of the wider charset show as they are;
      long names are shortened around a digest; the commands and the question always fit the observation,
      the listing, history and file shown are cut first; stepping an ended episode raises ``ResetNeeded``.
    """

    def __init__(
        self,
        tasks: str | os.PathLike[str] | Sequence[Task] | None = None,
        repos: Sequence[str | os.PathLike[str]] | None = None,
        split: str | None = None,
        depth: int | None = None,
        kinds: str | Sequence[str] | None = None,
        horizon: int = 15,
        max_actions: int = 30,
        max_length: int = 4096,
        leaveout_prob: float = 0.0,
        reward_scale: float | None = None,
        expert_reads: bool = False,
        expert_search: bool = False,
        max_output_lines: int = 100,
        max_data_lines: int = 5,
        max_output_chars: int = 1200,
        history_length: int = 10,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float | None = None,
        render_mode: str | None = None,
    ):
        if max_actions < 5:
            raise ValueError(
                f"max_actions must be at least 5 (cd .., a file's cat and id, two page commands), got {max_actions}."
            )
        if not 0.0 <= leaveout_prob < 1.0:
            raise ValueError(f"leaveout_prob must be in [0, 1), got {leaveout_prob}.")
        scale = float(horizon if reward_scale is None else reward_scale)
        if not scale > 0:
            raise ValueError(f"reward_scale must be positive, got {reward_scale}.")
        for name, value in (
            ("max_output_lines", max_output_lines),
            ("max_data_lines", max_data_lines),
            ("max_output_chars", max_output_chars),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}.")
        if history_length < 0:
            raise ValueError(f"history_length must be non-negative, got {history_length}.")
        # A page's commands take at most half the observation; the fullest page that cannot be split further
        # (cd .., one file's cat and id with the longest shown names, the two page commands) must fit in it.
        width = len(str(max_actions - 1)) + 3  # "29. " and the newline
        fullest = 5 * width + len("cd ..") + 2 * (len("cat ") + _LONGEST_NAME) + len(_NEXT) + len(_PREVIOUS)
        if max_length < 2 * fullest:
            raise ValueError(
                f"max_length must be at least {2 * fullest} for max_actions={max_actions}: half the observation "
                f"holds a page of commands, which may name files of up to {_LONGEST_NAME} characters; got {max_length}."
            )
        super().__init__(
            max_actions=max_actions,
            max_length=max_length,
            horizon=horizon,
            invalid_action=invalid_action,
            invalid_action_penalty=-1.0 / scale if invalid_action_penalty is None else invalid_action_penalty,
            render_mode=render_mode,
        )
        self.leaveout_prob = float(leaveout_prob)
        self.reward_scale = scale
        self.expert_search = bool(expert_search)
        self.expert_reads = bool(expert_reads) or self.expert_search
        self.history_length = history_length
        self._limits = {"max_lines": max_output_lines, "max_data_lines": max_data_lines, "max_chars": max_output_chars}

        all_tasks, default_split, self.corpus_version = self._load(tasks, repos)
        self.split = default_split if split is None else split
        self.tasks: tuple[Task, ...] = self._select(all_tasks, self.split, depth, kinds)
        self.depth = depth
        roots: dict[str, int] = {}
        snapshots: list[Snapshot] = []
        resolved = []
        for task in self.tasks:
            if task.repo not in roots:
                try:
                    snapshots.append(load_snapshot(task.repo))
                except RepositoryError as error:
                    raise TaskError(f"Task {task.origin or task.question[:60]!r}: {error}") from None
                roots[task.repo] = len(snapshots) - 1
            resolved.append(_resolve(task, snapshots[roots[task.repo]], roots[task.repo]))
        self._snapshots = tuple(snapshots)
        self._resolved = tuple(resolved)
        # View cache: across episodes without leave-out, per episode with it.
        self._views: dict[tuple[int, int], _View] = {}
        # Shown names by (repository, node), filled a directory at a time: fixed by the snapshot, so shared by copies.
        self._names: dict[tuple[int, int], str] = {}
        self._task = self._resolved[0]
        self._snapshot = self._snapshots[0]
        self._cwd = 0
        self._page = 0
        self._ops: tuple[tuple[str, int], ...] = ()
        self._history: list[str] = []
        self._catted: set[int] = set()
        self._last_result = ""
        self._leaveout_draws: list[float] = []

    def __deepcopy__(self, memo: dict) -> FileQAEnv:
        # Tasks, snapshots, spaces and directory views are immutable: share them, copy the episode state.
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(self.__dict__)
        clone._np_random = copy.deepcopy(self._np_random, memo)
        clone._mask = self._mask.copy()
        clone._actions = list(self._actions)
        clone._history = list(self._history)
        clone._catted = set(self._catted)
        clone._views = dict(self._views)
        return clone

    # -- construction -----------------------------------------------------------------------------

    @staticmethod
    def _load(
        tasks: str | os.PathLike[str] | Sequence[Task] | None, repos: Sequence[str | os.PathLike[str]] | None
    ) -> tuple[tuple[Task, ...], str, str | None]:
        """``(tasks, default split, corpus version or None)``."""
        if tasks is not None and repos is not None:
            raise ValueError("Pass tasks= or repos=, not both.")
        if repos is not None:
            if isinstance(repos, (str, os.PathLike)):
                repos = [repos]
            return tuple(build_tasks(list(repos))), "all", None
        if tasks is None:
            path = default_tasks_path()
            try:
                loaded = load_tasks_cached(path)
                for repo in {task.repo for task in loaded}:  # a cheap check that the cached corpus is whole
                    if not os.path.isdir(repo):
                        raise TaskError(f"repository {repo!r} of the cached default corpus is missing")
            except TaskError:
                loaded = load_tasks_cached(default_tasks_path(rebuild=True))
            return loaded, "train", corpus_version()
        if isinstance(tasks, (str, os.PathLike)):
            return load_tasks_cached(tasks), "all", None
        loaded = tuple(tasks)
        if not all(isinstance(task, Task) for task in loaded):
            raise TypeError("tasks must be a path to a JSON-lines file or a sequence of Task objects.")
        return loaded, "all", None

    @staticmethod
    def _select(
        tasks: tuple[Task, ...], split: str, depth: int | None, kinds: str | Sequence[str] | None
    ) -> tuple[Task, ...]:
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}.")
        if depth is not None and (type(depth) is not int or depth < 0):
            raise ValueError(f"depth must be a non-negative int or None, got {depth!r}.")
        wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds) if kinds is not None else KINDS
        unknown = [kind for kind in wanted if kind not in KINDS]
        if unknown:
            raise ValueError(f"kinds must be among {KINDS}, got {unknown}.")
        selected = tuple(
            task
            for task in tasks
            if (split == "all" or task.split == split)
            and (depth is None or task.depth == depth)
            and task.kind in wanted
        )
        if not selected:
            available = ", ".join(f"{s}/{k}/depth {d}: {n}" for (s, k, d), n in sorted(count_tasks(tasks).items()))
            raise ValueError(
                f"No FileQA task has split={split!r}, depth={depth!r}, kinds={list(wanted)}; available (split/kind/depth): {available}."
            )
        return selected

    # -- directory views ------------------------------------------------------------------------

    def _view(self, directory: int) -> _View:
        key = (self._task.repo, directory)
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = self._build_view(directory)
        return view

    def _build_view(self, directory: int) -> _View:
        snapshot = self._snapshot
        node = snapshot.nodes[directory]
        children = node.children
        if self.leaveout_prob > 0:
            draws, keep = self._leaveout_draws, self._task.keep
            children = tuple(c for c in children if draws[c] >= self.leaveout_prob or c in keep)
        groups: list[tuple[int, list[tuple[str, tuple[str, int]]]]] = []
        for index in children:
            child, name = snapshot.nodes[index], self._name(index)
            if child.kind == DIR:
                commands = [(f"cd {name}", ("cd", index))]
            elif child.kind == FILE:
                commands = [(f"cat {name}", ("cat", index)), (f"id {name}", ("id", index))]
            else:
                commands = []
            groups.append((index, commands))
        base = [] if node.parent < 0 else [("cd ..", ("up", node.parent))]
        # Pages hold at most max_actions commands and, numbered, half the observation's characters.
        width = len(str(self.max_actions - 1)) + 3

        def length(commands: list[tuple[str, tuple[str, int]]]) -> int:
            return sum(width + len(command) for command, _ in commands)

        room = self.observation_space.max_length // 2 - length(base)
        total = len(base) + sum(len(commands) for _, commands in groups)
        paged = total > self.max_actions or sum(length(commands) for _, commands in groups) > room
        size = self.max_actions - len(base) - 2
        size_chars = room - 2 * width - len(_NEXT) - len(_PREVIOUS)
        chunks: list[list[tuple[int, list[tuple[str, tuple[str, int]]]]]] = [[]]
        used = used_chars = 0
        for group in groups:
            count, chars = len(group[1]), length(group[1])
            if paged and used and (used + count > size or used_chars + chars > size_chars):
                chunks.append([])
                used = used_chars = 0
            chunks[-1].append(group)
            used += count
            used_chars += chars
        location = self._location(directory)
        pages, page_of, first = [], {}, 1
        for number, chunk in enumerate(chunks):
            commands = list(base) + [command for _, group in chunk for command in group]
            if number + 1 < len(chunks):
                commands.append((_NEXT, ("next", directory)))
            if number > 0:
                commands.append((_PREVIOUS, ("previous", directory)))
            lines = [_entry_line(snapshot.nodes[index], self._name(index)) for index, _ in chunk]
            if len(chunks) > 1:
                lines.insert(
                    0,
                    f"(page {number + 1} of {len(chunks)}: entries {first}-{first + len(chunk) - 1} of {len(children)})",
                )
            elif not lines:
                lines = ["(unreadable directory)" if node.note else "(empty)"]
            first += len(chunk)
            page_of.update((index, number) for index, _ in chunk)
            pages.append(_Page(tuple(c for c, _ in commands), tuple(op for _, op in commands), "\n".join(lines)))
        return _View(location, tuple(pages), page_of)

    def _name(self, index: int) -> str:
        """Entry ``index``'s name (any node but the root) as observations and commands show it (:func:`shown_names`)."""
        key = (self._task.repo, index)
        name = self._names.get(key)
        if name is None:
            nodes = self._snapshot.nodes
            siblings = nodes[nodes[index].parent].children
            names = shown_names([nodes[sibling].display for sibling in siblings])
            self._names.update(((self._task.repo, sibling), n) for sibling, n in zip(siblings, names, strict=True))
            name = self._names[key]
        return name

    def _location(self, directory: int) -> str:
        """The path of ``directory`` as the agent sees it: the repository's name, then shown names, ``/``-ended."""
        snapshot = self._snapshot
        path = [*snapshot.ancestors(snapshot.nodes[directory])[1:], directory] if directory else []
        return "/".join([snapshot.name, *(self._name(index) for index in path)]) + "/"

    # -- TextEnv hooks --------------------------------------------------------------------------

    def _reset_state(self, options: dict[str, Any] | None) -> None:
        index = (options or {}).get("task")
        if index is None:
            index = int(self.np_random.integers(len(self._resolved)))
        elif not (isinstance(index, (int, np.integer)) and 0 <= index < len(self._resolved)):
            raise ValueError(f"options['task'] must be an index in [0, {len(self._resolved)}), got {index!r}.")
        self._task = self._resolved[int(index)]
        self._snapshot = self._snapshots[self._task.repo]
        if self.leaveout_prob > 0:
            # One uniform draw per entry of the repository, whatever the agent visits: cheap and seed-fixed.
            self._leaveout_draws = self.np_random.random(len(self._snapshot.nodes)).tolist()
            self._views = {}
        self._cwd = 0
        self._page = 0
        self._history = []
        self._catted = set()
        self._last_result = "(no command yet)"

    def _admissible_actions(self) -> list[str]:
        page = self._view(self._cwd).pages[self._page]
        self._ops = page.ops
        return list(page.actions)

    def _state_text(self) -> str:
        view = self._view(self._cwd)
        history = (
            "\n".join(self._history[-self.history_length :]) if self._history and self.history_length else _NO_HISTORY
        )
        # The question takes at most a quarter of the observation. Only a prefix is sanitized, so a huge question
        # costs nothing per step (sanitize at most halves a text, turning "\r\n" into "\n").
        limit = self.observation_space.max_length // 4
        question = _keep_start(sanitize(self._task.task.question[: 2 * limit + 2]), limit, " ")
        parts = {
            "question": question,
            "location": sanitize(view.location),
            "entries": sanitize(view.pages[self._page].listing),
            "history": sanitize(history),
            "result": sanitize(self._last_result),
        }
        headers = {
            "question": f"# Task\n{_INSTRUCTION}\nQuestion: ",
            "location": "# Current directory\n",
            "entries": "# Entries\n",
            "history": _HISTORY_HEADER,
            "result": _RESULT_HEADER,
        }
        room = self._state_room() - sum(map(len, headers.values())) - 2 * (len(headers) - 1)
        # Over the limit, parts are cut in this order, each only as far as needed: the listing (the commands name
        # the same entries), the oldest commands, the last command's result, the path's start, the question last.
        for name in ("entries", "history", "result", "location", "question"):
            excess = sum(map(len, parts.values())) - room
            if excess <= 0:
                break
            limit = max(0, len(parts[name]) - excess)
            if name == "history":
                parts[name] = _keep_last_lines(parts[name], limit)
            elif name == "location":
                parts[name] = _keep_end(parts[name], limit)
            else:
                parts[name] = _keep_start(parts[name], limit, " " if name == "question" else "\n")
        return "\n\n".join(headers[name] + part for name, part in parts.items())

    def _apply(self, index: int) -> tuple[float, bool, bool]:
        op, target = self._ops[index]
        self._history.append(self._actions[index])
        reward, terminated, success = -1.0, False, False
        if op in ("cd", "up"):
            self._cwd, self._page = target, 0
            self._last_result = f"Moved to {self._view(target).location}."
        elif op in ("next", "previous"):
            self._page += 1 if op == "next" else -1
            view = self._view(self._cwd)
            self._last_result = f"Showing page {self._page + 1} of {len(view.pages)} of {view.location}."
        elif op == "cat":
            self._catted.add(target)
            node = self._snapshot.nodes[target]
            result = self._snapshot.render(node, **self._limits)
            header = f"Content of {node.display}:\n"  # the snapshot's header names the file by its whole display name
            if result.startswith(header):
                result = f"Content of {self._name(target)}:\n{result[len(header) :]}"
            self._last_result = result
        else:  # id
            terminated = True
            success = target in self._task.answers
            reward += self.horizon if success else -self.horizon
            verdict = "correct" if success else "wrong"
            self._last_result = f"Identified {self._name(target)}: {verdict}."
        return reward / self.reward_scale, terminated, success

    def _truncation_reward(self) -> float:
        return -self.horizon / self.reward_scale

    def _info(self, *, success: bool, invalid: bool) -> dict[str, Any]:
        info = super()._info(success=success, invalid=invalid)
        info["task"] = dict(self._task.info)
        return info

    def state_facts(self) -> dict[str, Any]:
        """The episode's question and its subject (see the Information section)."""
        question = sanitize(self._task.task.question)
        return {"question": question, "subject": question_subject(question)}

    # -- expert ---------------------------------------------------------------------------------

    def expert_action(self) -> int:
        """The first command of a shortest command sequence to a correct file (page turns counted).

        The sequence goes up to the common ancestor, down to the answer's folder, turns pages where the
        next entry is on another page, optionally ``cat``\\ s the answer (``expert_reads``) and ends with
        ``id``. With ``expert_search`` it ``cat``\\ s, in the answer's folder, every unread file listed before
        the answer first. Among several answers the cheapest is taken, the first on ties.
        """
        snapshot = self._snapshot
        here = [*snapshot.ancestors(snapshot.nodes[self._cwd]), self._cwd]
        best: tuple[int, tuple[str, int]] | None = None
        for answer in self._task.answers:
            cost, first = self._route(here, answer)
            if best is None or cost < best[0]:
                best = (cost, first)
        assert best is not None
        op, target = best[1]
        if op in ("up", "next", "previous"):
            return next(i for i, (o, _) in enumerate(self._ops) if o == op)
        return self._ops.index((op, target))

    def _route(self, here: list[int], answer: int) -> tuple[int, tuple[str, int]]:
        """``(cost, first op)`` of the shortest command sequence from the current state to ``id answer``."""
        snapshot = self._snapshot
        there = snapshot.ancestors(snapshot.nodes[answer])
        common = 0
        while common < min(len(here), len(there)) and here[common] == there[common]:
            common += 1
        ups = len(here) - common
        # The entries to open, each in its parent directory: sub-folders down to the answer, then the answer.
        steps = [*there[common:], answer]
        parents = [there[common - 1], *there[common:]]
        reads = self.expert_reads and answer not in self._catted
        cost, first = ups + len(steps) + int(reads), None
        if self.expert_search and reads:
            # Files listed before the answer and not read yet are read first, in listing order.
            view = self._view(parents[-1])
            files = [target for page in view.pages for op, target in page.ops if op == "cat"]
            unread = [f for f in files[: files.index(answer)] if f not in self._catted]
            if unread:
                cost += len(unread)
                if ups == 0 and len(steps) == 1:  # in the answer's folder: the first unread file is next
                    turns = view.page_of[unread[0]] - self._page
                    first = ("next" if turns > 0 else "previous", parents[-1]) if turns else ("cat", unread[0])
                    return cost + abs(turns), first
        for position, (parent, entry) in enumerate(zip(parents, steps, strict=True)):
            start = self._page if ups == 0 and position == 0 else 0
            turns = self._view(parent).page_of[entry] - start
            cost += abs(turns)
            if first is None and ups == 0 and position == 0:
                if turns:
                    first = ("next" if turns > 0 else "previous", parent)
                elif entry == answer:
                    first = ("cat" if reads else "id", answer)
                else:
                    first = ("cd", entry)
        return cost, first if ups == 0 else ("up", 0)
