"""The FileQA training corpus whose questions name the answer's folder."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import pytest

from experiments.fileqa_named_corpus.corpus import Args, main, names_file, names_folder
from reflect_gym.envs.fileqa.tasks import Task, load_tasks

MODULES = {
    "webkit/json/__init__.py": '"""JSON encoding and decoding."""\n',
    "webkit/json/decoder.py": '"""Decode JSON documents."""\n\n\nclass JSONDecoder:\n    """Turn JSON text into objects."""\n',
    "webkit/json/encoder.py": '"""Encode JSON documents."""\n\n\nclass JSONEncoder:\n    """Turn objects into JSON text."""\n',
    "webkit/http/__init__.py": '"""HTTP status codes and methods."""\n',
    "webkit/http/cookies.py": '"""Parse and write HTTP cookies."""\n\n\nclass CookieJar:\n    """Hold the cookies of a session."""\n',
    "webkit/core.py": '"""Shared helpers for the kit."""\n\n\ndef helper():\n    """Help the other modules along."""\n',
}


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` holding one installed package, ``webkit``."""
    root = tmp_path / "site"
    for path, text in MODULES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    monkeypatch.setattr(sys, "path", [str(root), *sys.path])
    return root


def test_a_task_passes_when_its_folder_alone_scores_best(site):
    repo = str(site / "webkit")
    assert names_folder(Task(repo, "Which file defines the class JSONDecoder?", ("json/decoder.py",), "code", 1))
    # The question names another folder, or none, or the answer lies in the root: the task is left out.
    assert not names_folder(Task(repo, "Which file defines the class HTTPDecoder?", ("json/decoder.py",), "code", 1))
    assert not names_folder(Task(repo, "Which file defines the class CookieJar?", ("http/cookies.py",), "code", 1))
    assert not names_folder(Task(repo, "Which file defines the function helper()?", ("core.py",), "code", 0))


def test_a_task_passes_the_file_filter_when_a_name_matcher_names_its_answer(site):
    repo = str(site / "webkit")
    assert names_file(Task(repo, "Which file defines the class JSONDecoder?", ("json/decoder.py",), "code", 1))
    # No file's name shares a word with the question: the matcher names __init__.py, and so must the task.
    assert names_file(Task(repo, 'Which module begins "Cookie handling"?', ("http/__init__.py",), "code", 1))
    assert not names_file(Task(repo, 'Which module begins "Cookie handling"?', ("http/cookies.py",), "code", 1))
    # Another file's name matches better, or two tie: left out.
    assert not names_file(Task(repo, "Which file defines the class JSONDecoder?", ("json/encoder.py",), "code", 1))
    assert not names_file(Task(repo, "Which file defines the class DecoderEncoder?", ("json/decoder.py",), "code", 1))


def test_the_corpus_keeps_named_folders_copies_its_packages_and_trains(site, tmp_path):
    out = tmp_path / "named"
    summary = main(Args(out=str(out), packages=["webkit", "not_installed"], default_train=False))
    tasks = load_tasks(out / "tasks.jsonl")
    assert tasks and all(task.split == "train" and names_folder(task) for task in tasks)
    assert "core.py" not in {task.answers[0] for task in tasks}  # in the root: no folder to name
    assert not [task for task in tasks if "CookieJar" in task.question]  # names no folder
    assert all(task.repo == str(out / "repos" / "webkit") for task in tasks)
    assert not (out / "repos" / "not_installed").exists()
    assert json.loads((out / "corpus.json").read_text()) == summary
    assert summary["tasks"] == len(tasks) < summary["of"]
    # The whole corpus, named or not, with --all-tasks; and gym.make takes the file.
    everything = main(Args(out=str(out), packages=["webkit"], default_train=False, all_tasks=True))
    assert everything["tasks"] == everything["of"] > summary["tasks"]
    env = gym.make("ReflectRL/FileQA-Depth1-v0", tasks=str(out / "tasks.jsonl"))
    assert len(env.unwrapped.tasks) == everything["by_depth"]["1"]
    # --names-file keeps, of the named folders' tasks, those whose file a name matcher names.
    named_files = main(Args(out=str(out), packages=["webkit"], default_train=False, names_file=True))
    tasks = load_tasks(out / "tasks.jsonl")
    assert 0 < named_files["tasks"] < summary["tasks"]
    assert all(names_folder(task) and names_file(task) for task in tasks)
    assert named_files["filter"] == "the question names the answer's folder and file"


def test_a_filter_that_keeps_nothing_says_what_to_do(site, tmp_path):
    (site / "flat").mkdir()
    (site / "flat" / "only.py").write_text('"""A module with nothing below it."""\n')
    with pytest.raises(SystemExit, match="--all-tasks"):
        main(Args(out=str(tmp_path / "named"), packages=["flat"], default_train=False))
