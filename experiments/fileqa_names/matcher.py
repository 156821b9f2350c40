"""How much of a FileQA split can be solved from entry names alone, and with reading: name-matching baselines.

    python -m experiments.fileqa_names.matcher --env-id ReflectRL/FileQA-Depth1-v0 --episodes 400
    python -m experiments.fileqa_names.matcher --env-id ReflectRL/FileQA-Depth1-v0 --episodes 400 --reads

:class:`NameMatchAgent` scores every entry of a folder by the words its name shares with the question
(``HTTPError`` counts as ``http`` and ``error``; a name that appears whole in the question counts more), enters
the best-scoring folder until it is ``depth`` folders below the root, then names the best-scoring file with
``id`` (ties go to ``__init__.py``, then to the first listed). By default it never reads a file. With
``reads=True`` it checks before it names: it reads (``cat``) the files of the folder in the order of their scores and
names the first that shows what the question quotes or names (:func:`question_keys`). It sees what an LM
policy sees: the question, the command history and the last command's result in the observation, and the
admissible commands.

The script plays it on each split asked for (train and test by default), then on the test split's
held-out seeds of the main job (``reflect-rl train``). Its success measures how far a split's questions give their answer
away by name. An agent can learn to exploit that only from a training split where names do the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import reflect_gym  # noqa: F401  (registers the envs)
from reflect_agent.agents import play
from reflect_agent.episodes import Decision, Turn, make_envs
from reflect_agent.stats import wilson_interval
from reflect_gym.envs.fileqa import command_history, last_result

_QUESTION = re.compile(r"^Question: (.+)$", re.MULTILINE)
_DIRECTORY = re.compile(r"^# Current directory\n(.+)$", re.MULTILINE)
#: What a question names or quotes (``reflect_gym.envs.fileqa.tasks``' templates): a defined name, a quoted
#: sentence, the first column of a data file.
_KEY = re.compile(r'(?:class|function) (\w+)|"([^"]+)"|columns? (\w+)')
_KEY_CHARS = 30  # characters of a quoted sentence looked for: long quotes may be cut or re-wrapped in the file
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
#: Words of the question templates (``reflect_gym.envs.fileqa.tasks``): they say nothing about where the answer is.
_TEMPLATE_WORDS = frozenset({
    "which", "file", "defines", "the", "class", "function", "described", "python", "module", "whose", "docstring",
    "begins", "document", "has", "section", "titled", "that", "data", "with", "rows", "row", "columns", "and", "first",
})  # fmt: skip


def name_words(text: str) -> set[str]:
    """The words of ``text`` of at least three letters, lower-cased, camel case split, template words left out."""
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 3} - _TEMPLATE_WORDS


def name_score(name: str, question: str) -> int:
    """Words that ``name`` (without extension and underscores) shares with ``question``, plus 2 when it appears
    whole in the question."""
    stem = name.rsplit(".", 1)[0].strip("_")
    whole = len(stem) >= 3 and stem.lower() in question.lower()
    return len(name_words(stem) & name_words(question)) + 2 * whole


def question_keys(question: str) -> list[str]:
    """What a file that answers ``question`` shows when read: the class or function it defines, the first
    characters of the sentence the question quotes, or the first column it names."""
    match = _KEY.search(question)
    if match is None:
        return []
    name, quote, column = match.groups()
    return [name or column or quote[:_KEY_CHARS]]


class NameMatchAgent:
    """Enter the folder, then name the file, whose name best matches the question.

    Args:
        depth: Folders below the root where the answer lies (FileQA-Depth1: 1). ``None``: enter a folder only
            while one outscores every file here.
        reads: Before naming a file, read the folder's files in the order of their scores and name the first
            whose shown text contains the question's key (:func:`question_keys`). When no file on the page
            shows it, name the best-scoring one.
    """

    batch_size = 1

    def __init__(self, depth: int | None = None, reads: bool = False):
        self.name = "names+reads" if reads else "names"
        self.depth = depth
        self.reads = reads

    def reset(self, seed: int | None = None) -> None:
        """Nothing to reset: the agent keeps no state between steps."""

    def act(self, obs: str, info: dict[str, Any]) -> int:
        question = _QUESTION.search(obs)
        directory = _DIRECTORY.search(obs)
        if question is None or directory is None:
            raise ValueError("NameMatchAgent reads FileQA observations; this one has no question or directory.")
        actions: list[str] = list(info["actions"])
        folders = [i for i, a in enumerate(actions) if a.startswith("cd ") and a != "cd .."]
        files = [i for i, a in enumerate(actions) if a.startswith("id ")]

        def score(i: int) -> tuple[int, bool]:
            name = actions[i].split(" ", 1)[1]
            return name_score(name, question.group(1)), name == "__init__.py"

        here = directory.group(1).rstrip("/").count("/")  # 0 in the repository's root
        best_file = max(files, key=score, default=None)
        best_folder = max(folders, key=score, default=None)
        if self.depth is None:
            descend = best_folder is not None and (best_file is None or score(best_folder)[0] > score(best_file)[0])
        else:
            descend = here < self.depth and best_folder is not None
        if descend:
            return best_folder
        if best_file is not None and (self.depth is None or here >= self.depth):
            return self._check(obs, question.group(1), actions, sorted(files, key=score, reverse=True))
        # Nothing to name here: another page of this folder, or back up.
        for fallback in ("next page", "cd .."):
            if fallback in actions:
                return actions.index(fallback)
        return 0

    def _check(self, obs: str, question: str, actions: list[str], ranked: list[int]) -> int:
        """With ``reads``: ``id`` the file just read if it shows the question's key, else ``cat`` the best unread
        file. Without (or when every file here was read): ``id`` the best-scoring file."""
        if not self.reads:
            return ranked[0]
        history, result = command_history(obs), last_result(obs)
        keys = question_keys(question)
        if history and history[-1].startswith("cat ") and any(key in result for key in keys):
            name = history[-1].split(" ", 1)[1]
            if f"id {name}" in actions:
                return actions.index(f"id {name}")
        read = {line.split(" ", 1)[1] for line in history if line.startswith("cat ")}
        for i in ranked:
            name = actions[i].split(" ", 1)[1]
            if name not in read:
                return actions.index(f"cat {name}")
        return ranked[0]

    def decide(self, turns: Sequence[Turn], envs: Any = None) -> Decision:
        """One action per turn, as :meth:`act` chooses it (the agent protocol of :mod:`reflect_agent.agents`)."""
        return Decision([self.act(turn.observation, turn.info) for turn in turns])


@dataclass
class Args:
    """Play the name-matching baseline on each split of a FileQA env."""

    env_id: str = "ReflectRL/FileQA-Depth1-v0"
    """A FileQA env id."""
    episodes: int = 400
    """Episodes per split (seeds 0 .. episodes - 1)."""
    splits: list[str] = field(default_factory=lambda: ["train", "test"])
    """The env's ``split`` values to play."""
    held_out: int = 32
    """Also play the test split on the held-out seeds of the main job (its ``--eval.episodes``; 0: skip)."""
    reads: bool = False
    """Read files before naming one (``NameMatchAgent(reads=True)``)."""


def main(args: Args) -> dict[str, dict[str, Any]]:
    from reflect_agent.config import EVAL_SEED_OFFSET

    runs = [(split, split, range(args.episodes)) for split in args.splits]
    if args.held_out:
        runs.append(("test, held-out seeds", "test", range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.held_out)))
    results = {}
    for name, split, seeds in runs:
        envs = make_envs(args.env_id, 1, env_kwargs={"split": split})
        agent = NameMatchAgent(depth=envs.get_attr("depth")[0], reads=args.reads)
        successes = sum(episode.success for episode in play(agent, envs, seeds))
        envs.close()
        low, high = wilson_interval(successes, len(seeds))
        results[name] = {"successes": successes, "episodes": len(seeds), "interval_95": [low, high]}
        print(
            f"{args.env_id} {agent.name}, {name}: {successes}/{len(seeds)} = {100 * successes / len(seeds):.1f}% "
            f"[{100 * low:.1f}, {100 * high:.1f}]",
            flush=True,
        )
    return results


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
