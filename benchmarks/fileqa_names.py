"""How much of a FileQA split can be solved from entry names alone: a name-matching baseline.

    python -m benchmarks.fileqa_names --env-id ReflectRL/FileQA-Depth1-v0 --episodes 400

:class:`NameMatchAgent` never reads a file. In each folder it scores every entry by the words its name shares
with the question (``HTTPError`` counts as ``http`` and ``error``; a name that appears whole in the question
counts more), enters the best-scoring folder until it is ``depth`` folders below the root, then names the
best-scoring file with ``id`` (ties go to ``__init__.py``, then to the first listed). It sees what an LM
policy sees: the question in the observation and the admissible commands.

The script plays it on each split asked for (train and test by default), then on the test split's
held-out seeds of :mod:`examples.main`. Its success measures how far a split's questions give their answer
away by name. An agent can learn to exploit that only from a training split where names do the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

import reflect_gym  # noqa: F401  (registers the envs)
from benchmarks.stats import wilson_interval
from reflect_agent.agents import count_successes

_QUESTION = re.compile(r"^Question: (.+)$", re.MULTILINE)
_DIRECTORY = re.compile(r"^# Current directory\n(.+)$", re.MULTILINE)
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


class NameMatchAgent:
    """Enter the folder, then name the file, whose name best matches the question; never read a file.

    Args:
        depth: Folders below the root where the answer lies (FileQA-Depth1: 1). ``None``: enter a folder only
            while one outscores every file here.
    """

    batch_size = 1

    def __init__(self, depth: int | None = None):
        self.name = "names"
        self.depth = depth

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
            return best_file
        # Nothing to name here: another page of this folder, or back up.
        for fallback in ("next page", "cd .."):
            if fallback in actions:
                return actions.index(fallback)
        return 0

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        return [self.act(obs, info) for obs, info in zip(observations, infos, strict=True)]


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
    """Also play the test split on the held-out seeds of ``examples.main`` (its ``--eval-episodes``; 0: skip)."""


def main(args: Args) -> dict[str, dict[str, Any]]:
    from reflect_agent.config import EVAL_SEED_OFFSET

    runs = [(split, split, range(args.episodes)) for split in args.splits]
    if args.held_out:
        runs.append(("test, held-out seeds", "test", range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.held_out)))
    results = {}
    for name, split, seeds in runs:
        env = gym.make(args.env_id, split=split)
        agent = NameMatchAgent(depth=env.unwrapped.depth)
        successes = count_successes(env, agent, seeds)
        env.close()
        low, high = wilson_interval(successes, len(seeds))
        results[name] = {"successes": successes, "episodes": len(seeds), "interval_95": [low, high]}
        print(
            f"{args.env_id} {name}: {successes}/{len(seeds)} = {100 * successes / len(seeds):.1f}% "
            f"[{100 * low:.1f}, {100 * high:.1f}]",
            flush=True,
        )
    return results


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
