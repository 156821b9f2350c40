"""FileQA against a concurrent writer: a folder of the repository swapped for a link to an outside folder, and
back, while the env scans and reads it (issue 32 item 6). Nothing from the outside folder may show."""

from __future__ import annotations

import os
from collections.abc import Callable

import gymnasium as gym
import pytest

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_gym.envs.fileqa import Task, load_snapshot
from reflect_gym.envs.fileqa.filesystem import Snapshot
from tests.faults.flipper import RepositoryFlipper

PAGES = 10  # files in the flipped folder: each read of one is a chance for the writer to strike
# Page reads under the thread. Before the fix, about 1 in 70 showed the outside folder (157 of 10835 reads in 3 s).
READS = 3000


def make_repository(base: str) -> str:
    """A README at the root and a ``docs`` folder of pages, which the tests flip."""
    repo = os.path.join(base, "repo")
    os.makedirs(os.path.join(repo, "docs"))
    with open(os.path.join(repo, "README.md"), "w", encoding="utf-8") as file:
        file.write("# A project\n\nThe docs folder explains it.\n")
    for page in range(PAGES):
        with open(os.path.join(repo, "docs", f"page{page}.txt"), "w", encoding="utf-8") as file:
            file.write(f"inside text of page {page}\n")
    return repo


# One scan of this repository and one read of each file call os.open and os.scandir 36 times (13 before the
# fix): the writer strikes before each call in turn, and after the last.
@pytest.mark.parametrize("strike", range(1, 40))
def test_a_folder_swapped_for_a_link_at_any_step_of_a_scan_or_read_shows_nothing_outside(tmp_path, monkeypatch, strike):
    """The writer strikes once, just before the ``strike``-th os.open or os.scandir call: after a path was
    checked and before it is opened, or between listing a folder and reading it."""
    repo = make_repository(str(tmp_path))
    flipper = RepositoryFlipper(os.path.join(repo, "docs"), tmp_path / "outside")
    calls = 0

    def striking(function: Callable) -> Callable:
        def call(*args, **kwargs):
            nonlocal calls
            calls += 1
            if calls == strike:
                flipper.to_link()
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(os, "open", striking(os.open))
    monkeypatch.setattr(os, "scandir", striking(os.scandir))
    snapshot = Snapshot(repo)
    names = [node.name for node in snapshot.nodes]
    texts = {node.path: snapshot.read_text(node, 1000) for node in snapshot.files()}
    monkeypatch.undo()
    struck = calls >= strike
    if struck:
        flipper.to_folder()

    assert not any(flipper.secret in name for name in names), names
    assert not any(text and flipper.secret in text for text in texts.values()), texts
    pages = {f"docs/page{page}.txt": f"inside text of page {page}\n" for page in range(PAGES)}
    assert texts["README.md"] == "# A project\n\nThe docs folder explains it.\n"
    if not struck:  # the writer came after the last read: every page was read whole
        assert {path: texts[path] for path in pages} == pages
    else:  # a page listed before the swap and read after it is unreadable (None), never another file's text
        assert all(texts[path] in (None, pages[path]) for path in pages if path in texts), texts


def test_observations_show_nothing_outside_while_a_thread_flips_a_folder(tmp_path):
    """The hostile probe of issue 32: envs built and played while a thread swaps ``docs`` for a link to an
    outside folder and back. Every scan and read races the writer; no observation may show its secret."""
    repo = make_repository(str(tmp_path))
    task = Task(repo, "Which file introduces the project?", ("README.md",), "text", 0)
    observations, page_reads, envs = [], 0, 0
    with RepositoryFlipper(os.path.join(repo, "docs"), tmp_path / "outside") as flipper:
        while page_reads < READS and envs < 20 * READS:  # about half the scans find docs a folder
            envs += 1
            load_snapshot.cache_clear()  # a fresh scan, and fresh reads, for every env
            env = gym.make("ReflectRL/FileQA-v0", tasks=[task])
            obs, info = env.reset(seed=0)
            observations.append(obs)
            if "cd docs" not in info["actions"]:  # the scan found docs swapped: listed as a link, or unreadable
                continue
            obs, _, _, _, info = env.step(info["actions"].index("cd docs"))
            observations.append(obs)
            for page in range(PAGES):
                if f"cat page{page}.txt" in info["actions"]:
                    obs, _, _, _, info = env.step(info["actions"].index(f"cat page{page}.txt"))
                    observations.append(obs)
                    page_reads += 1
    load_snapshot.cache_clear()

    leaked = [obs for obs in observations if flipper.secret in obs]
    assert flipper.flips > 100 and page_reads >= READS, (flipper.flips, page_reads)
    assert not leaked, f"{len(leaked)} of {len(observations)} observations show the outside folder:\n{leaked[0]}"
