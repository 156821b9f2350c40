"""A FileQA training corpus whose questions name the answer's folder, from installed Python packages.

    python -m experiments.fileqa_named_corpus.corpus --out runs/fileqa-named       # about 10 seconds
    reflect-rl train --env-id ReflectRL/FileQA-Depth1-v0 \\
        --env-kwargs tasks runs/fileqa-named/tasks.jsonl leaveout_prob 0.5 \\
        --eval.env-kwargs tasks None split test leaveout_prob 0.0 ...

In the test split of FileQA's default corpus (:mod:`reflect_gym.envs.fileqa.corpus`) the folders are named after
what their files hold (``email/``, ``json/``, ``http/``): for 42% of its depth-1 tasks the answer's folder is the one
whose name shares the most words with the question. In the train split that holds for 7% (``idlelib/``,
``asyncio/``, ``encodings/``), so RL there teaches which folders the training repositories use, not how to pick a
folder by its name.

This script writes training tasks where the name does pick the folder. It copies installed packages
(:data:`PACKAGES`, ``--packages``) into ``<out>/repos/``, generates their tasks
(:func:`reflect_gym.envs.fileqa.tasks.repository_tasks`), adds the tasks of the default corpus's train split, and
keeps those below the root whose first folder the question names (:func:`names_folder`: the answer's folder scores
highest, alone, by :func:`experiments.fileqa_names.matcher.name_score`). With ``--names-file`` it keeps, of those, the tasks
whose answer is also the file its name picks (:func:`names_file`). Every task goes to the ``train`` split; the
default corpus's test split is not read. ``<out>/tasks.jsonl`` is the tasks file, ``<out>/corpus.json`` records the
package versions and the counts.

The filter uses only the training repositories. Its criterion was chosen from a statistic of the test split (how
often names predict the folder there), which is what a user does who knows the kind of repositories the agent
will meet.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import sysconfig
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from experiments.fileqa_names.matcher import name_score
from reflect_gym.envs.fileqa.corpus import default_tasks_path
from reflect_gym.envs.fileqa.filesystem import RepositoryError
from reflect_gym.envs.fileqa.tasks import Task, load_tasks, repository_tasks, save_tasks
from reflect_gym.files import atomic_write, make_folder

# fmt: off
#: Packages that ``make setup`` installs (the project's dependencies and theirs) and whose depth-1 tasks the
#: filter keeps at least 5 of, except eight: ``torch``, ``sympy``, ``transformers``, ``wandb``, ``spacy``,
#: ``setuptools``, ``httpcore2`` and ``google`` (314 more such tasks; ``--packages`` adds them). A warm-up on all
#: of them (480 episodes) solves as many held-out episodes as one on these (320 episodes); see
#: ``experiments/fileqa_named_corpus/``.
PACKAGES: tuple[str, ...] = (
    "_pytest", "cloudpathlib", "dateutil", "filelock", "fontTools", "functorch", "gymnasium", "httpcore",
    "huggingface_hub", "markdown_it", "matplotlib", "mpl_toolkits", "networkx", "numpy", "opentelemetry",
    "prompt_toolkit", "pydantic", "pygame", "pygments", "srsly", "stable_baselines3", "tyro", "weasel",
)
# fmt: on


def names_folder(task: Task) -> bool:
    """Whether ``task``'s answer lies below the root, in the root folder whose name shares the most words with the
    question (and no other root folder ties it)."""
    first = task.answers[0].split("/")[0]
    if task.depth == 0:
        return False
    folders = [entry.name for entry in os.scandir(task.repo) if entry.is_dir() and not entry.name.startswith(".")]
    scores = {folder: name_score(folder, task.question) for folder in folders}
    best = max(scores.values(), default=0)
    return best > 0 and scores.get(first) == best and list(scores.values()).count(best) == 1


def names_file(task: Task) -> bool:
    """Whether ``task``'s (first) answer is the file of its folder that a name matcher names: the one whose name
    shares the most words with the question (``__init__.py`` among those tied, as when no name shares any), with no
    other file tied (:class:`experiments.fileqa_names.matcher.NameMatchAgent`'s rule)."""
    folder, _, answer = task.answers[0].rpartition("/")
    files = [
        entry.name
        for entry in os.scandir(os.path.join(task.repo, folder))
        if entry.is_file() and not entry.name.startswith(".")
    ]
    keys = {name: (name_score(name, task.question), name == "__init__.py") for name in files}
    best = max(keys.values(), default=None)
    return best is not None and keys.get(answer) == best and list(keys.values()).count(best) == 1


def package_folder(name: str) -> Path | None:
    """The installed folder of the top-level package ``name`` (``None`` when it is not installed)."""
    for root in dict.fromkeys((sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *sys.path)):
        folder = Path(root) / name
        if root and folder.is_dir():
            return folder
    return None


def package_version(name: str) -> str | None:
    """The version of the distribution that installs the top-level package ``name``, if known."""
    for distribution in importlib.metadata.packages_distributions().get(name, []):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@dataclass
class Args:
    """Write a FileQA training corpus whose questions name the answer's folder."""

    out: str = "runs/fileqa-named"
    """Output folder: ``repos/`` (the copied packages), ``tasks.jsonl`` and ``corpus.json``."""
    packages: list[str] = field(default_factory=lambda: list(PACKAGES))
    """Installed top-level packages to copy and ask about (missing ones are skipped, with a note)."""
    default_train: bool = True
    """Also keep the default corpus's train-split tasks that pass the filter."""
    all_tasks: bool = False
    """Keep every task, not only those whose folder the question names."""
    names_file: bool = False
    """Of those, keep only the tasks whose answer is also the file its name picks (:func:`names_file`)."""


def main(args: Args) -> dict:
    out = make_folder(args.out)  # the project's folder, so that a rerun may replace its tasks and summary
    repos = out / "repos"
    repos.mkdir(exist_ok=True)
    tasks: list[Task] = []
    versions: dict[str, str | None] = {}
    for name in args.packages:
        source = package_folder(name)
        if source is None:
            print(f"skipped {name}: not installed", flush=True)
            continue
        target = repos / name
        if not target.is_dir():
            partial = repos / f".{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(source, partial, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
            os.replace(partial, target)
        try:
            tasks += repository_tasks(target)
        except RepositoryError as error:
            print(f"skipped {name}: {error}", flush=True)
            continue
        versions[name] = package_version(name)
    if args.default_train:
        tasks += [task for task in load_tasks(default_tasks_path()) if task.split == "train"]
    kept = [
        Task(task.repo, task.question, task.answers, task.kind, task.depth, "train")
        for task in tasks
        if (args.all_tasks or names_folder(task)) and (not args.names_file or names_file(task))
    ]
    if not kept:
        raise SystemExit(f"No task passed the filter among {len(tasks)}; pass --all-tasks or other --packages.")
    save_tasks(kept, out / "tasks.jsonl")
    by_repo = Counter(os.path.basename(task.repo) for task in kept)
    by_depth = Counter(task.depth for task in kept)
    summary = {
        "tasks": len(kept),
        "of": len(tasks),
        "by_depth": {str(depth): count for depth, count in sorted(by_depth.items())},
        "by_repository": dict(sorted(by_repo.items())),
        "packages": versions,
        "python": sys.version.split()[0],
        "filter": {
            (False, False): "the question names the answer's folder",
            (False, True): "the question names the answer's folder and file",
            (True, False): "every task",
            (True, True): "the question names the answer's file",
        }[args.all_tasks, args.names_file],
    }
    atomic_write(out / "corpus.json", json.dumps(summary, indent=2) + "\n")
    print(
        f"{len(kept)} of {len(tasks)} tasks kept ({', '.join(f'depth {d}: {n}' for d, n in sorted(by_depth.items()))})"
        f" -> {out / 'tasks.jsonl'}"
    )
    return summary


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
