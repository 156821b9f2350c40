"""FileQA (the paper's AutoExplore): find the file of a repository that answers a question.

* :mod:`~reflect_gym.envs.fileqa.filesystem`: read-only in-memory repository snapshots.
* :mod:`~reflect_gym.envs.fileqa.tasks`: the JSON-lines task format, question generation, the importer.
* :mod:`~reflect_gym.envs.fileqa.corpus`: the default corpus, built offline from the running Python.
* :mod:`~reflect_gym.envs.fileqa.env`: :class:`FileQAEnv`.

Command line: ``python -m reflect_gym.envs.fileqa --help``.
"""

from __future__ import annotations

from reflect_gym.envs.fileqa.corpus import corpus_version, default_tasks_path
from reflect_gym.envs.fileqa.env import FileQAEnv, command_history, last_result, question_subject
from reflect_gym.envs.fileqa.filesystem import RepositoryError, Snapshot, load_snapshot
from reflect_gym.envs.fileqa.tasks import Task, TaskError, build_tasks, import_reflect_rl, load_tasks, save_tasks

__all__ = [
    "FileQAEnv",
    "RepositoryError",
    "Snapshot",
    "Task",
    "TaskError",
    "build_tasks",
    "command_history",
    "corpus_version",
    "default_tasks_path",
    "import_reflect_rl",
    "last_result",
    "load_snapshot",
    "load_tasks",
    "question_subject",
    "save_tasks",
]
