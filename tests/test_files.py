"""The one atomic writer: it replaces what the project wrote, and refuses to replace anything else."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reflect_gym.files import (
    MARKER,
    ForeignPathError,
    atomic_directory,
    atomic_write,
    is_owned,
    make_folder,
    remove_leftovers,
    same_layout,
)


def test_a_new_file_is_written_and_an_earlier_version_replaced(tmp_path):
    path = tmp_path / "sub" / "results.json"
    atomic_write(path, json.dumps({"format": 1, "results": [1]}))
    atomic_write(path, json.dumps({"format": 1, "results": [1, 2]}))
    assert json.loads(path.read_text())["results"] == [1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary file left


def test_a_file_the_project_did_not_write_is_refused_and_kept(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(ForeignPathError, match=r"passwd.*did not write.*--overwrite"):
        atomic_write(path, json.dumps({"format": 1}))
    assert path.read_text().startswith("root:x")
    atomic_write(path, "replaced\n", overwrite=True)
    assert path.read_text() == "replaced\n"


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ('{"a": 1, "b": 2}', '{"b": 3, "a": 4}', True),
        ('{"a": 1}', '{"a": 1, "b": 2}', False),
        ('{"a": 1}\n{"a": 2}\n', '{"a": 3}\n', True),
        ("| env | agent |\n|---|---|\n", "| env | agent |\n|---|---|\n| x | y |\n", True),
        ("# notes\n", "| env | agent |\n", False),
        ("", "| env |\n", False),
    ],
)
def test_same_layout_recognizes_earlier_versions_only(tmp_path, old, new, same):
    path = tmp_path / "file"
    path.write_text(old)
    assert same_layout(path, new) is same


def test_an_image_replaces_an_image_only(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    (tmp_path / "plot.png").write_bytes(png)
    atomic_write(tmp_path / "plot.png", png + b"more")
    (tmp_path / "notes.png").write_text("my notes")
    with pytest.raises(ForeignPathError):
        atomic_write(tmp_path / "notes.png", png)


def test_a_folder_the_project_did_not_write_is_refused_with_its_files_kept(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("years of work")
    with pytest.raises(ForeignPathError, match="another path, or pass --overwrite"), atomic_directory(target) as folder:
        (folder / "weights").write_text("new")
    assert (target / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # and no temporary folder left


def test_a_folder_is_marked_and_replaced_whole_by_the_next_write(tmp_path):
    target = tmp_path / "policy"
    with atomic_directory(target) as folder:
        (folder / "old").write_text("1")
    assert (target / MARKER).is_file() and is_owned(target) and is_owned(target / "old")
    with atomic_directory(target) as folder:
        (folder / "new").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy"]


def test_an_error_in_the_block_leaves_the_old_folder(tmp_path):
    target = tmp_path / "checkpoint"
    with atomic_directory(target) as folder:
        (folder / "state").write_text("good")
    with pytest.raises(RuntimeError), atomic_directory(target) as folder:
        (folder / "state").write_text("half")
        raise RuntimeError("killed")
    assert (target / "state").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_a_caller_recognizes_its_own_layout(tmp_path):
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "adapter_config.json").write_text("{}")
    with atomic_directory(target, owned=lambda p: (p / "adapter_config.json").is_file()) as folder:
        (folder / "adapter_config.json").write_text('{"r": 8}')
    assert (target / "adapter_config.json").read_text() == '{"r": 8}'


def test_keep_existing_keeps_the_copy_another_process_published_first(tmp_path):
    target = tmp_path / "cache"
    with atomic_directory(target, keep_existing=True) as folder:
        (folder / "who").write_text("second")
        target.mkdir()
        (target / "who").write_text("first")
    assert (target / "who").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_leftovers_of_a_killed_writer_are_removed_and_a_live_writers_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f".out.json.{dead_pid}-abcd.tmp").write_text("half")
    (tmp_path / f".out.json.{os.getpid()}-beef.tmp").write_text("in progress")
    atomic_write(tmp_path / "out.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.json.{os.getpid()}-beef.tmp", "out.json"]


def test_remove_leftovers_clears_a_folders_dead_writes_and_nothing_else(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    folder = make_folder(tmp_path / "checkpoints")
    (folder / f".iter_000003.{dead_pid}-k2j4x9_q.tmp").mkdir()  # atomic_directory's temporary folder
    (folder / f".latest.{dead_pid}-abcd.tmp").write_text("iter_")
    (folder / f".iter_000002.old{dead_pid}-abcd.tmp").mkdir()  # an old version moved aside
    kept = [f".iter_000004.{os.getpid()}-beef.tmp", ".notes.tmp", f"iter_000001.{dead_pid}-abcd.tmp"]
    for name in kept:
        (folder / name).write_text("")
    assert len(remove_leftovers(folder)) == 3
    assert sorted(p.name for p in folder.iterdir() if p.name != MARKER) == sorted(kept)
    users = tmp_path / "users"  # a folder the project did not write is left alone
    users.mkdir()
    (users / f".a.{dead_pid}-abcd.tmp").write_text("")
    assert remove_leftovers(users) == [] and len(list(users.iterdir())) == 1


def test_make_folder_takes_an_empty_or_own_folder_and_refuses_a_users(tmp_path):
    run = make_folder(tmp_path / "runs" / "main")
    (run / "metrics.jsonl").write_text("{}\n")
    assert make_folder(run) == run and is_owned(run / "metrics.jsonl")
    empty = tmp_path / "empty"
    empty.mkdir()
    make_folder(empty)
    users = tmp_path / "users"
    users.mkdir()
    (users / "data.csv").write_text("1,2\n")
    with pytest.raises(ForeignPathError, match="users"):
        make_folder(users)
    make_folder(users, overwrite=True)
    assert (users / "data.csv").read_text() == "1,2\n"  # a folder is taken over, never emptied
