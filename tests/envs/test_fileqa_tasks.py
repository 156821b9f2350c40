"""FileQA task building on hostile repository text: time linear in a file's length, questions unchanged."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from reflect_gym.envs.fileqa import tasks
from reflect_gym.envs.fileqa.tasks import repository_tasks

PROSE = "The machine presses every button once and then waits for the next request. "

# (file suffix, the hostile part of a file), each found to make a backtracking pattern of the old question
# generator take seconds to minutes: a heading line whose spaces the closing-sequence pattern splits every way,
# and markup openers without their closers, each one scanning to the same far character again.
HOSTILE = {
    "heading, 3,000 spaces": (".md", "# a" + " " * 3000 + "b"),
    "heading, 4,000 spaces": (".md", "# a" + " " * 4000 + "b"),
    "docstring of 64 KB of [": (".py", "[" * 65536),
    "64 KB of role colons": (".md", "x " + ":" * 65536 + " y"),
    "role text of 16 KB of spaces": (".md", "x :a:`" + " " * 16384 + "y"),
    "link text of 64 KB of spaces": (".md", "x `" + " " * 65536 + "y"),
    "256 KB of link targets without an end": (".md", "x " + "`<" * 131072),
    "256 KB of Markdown links without a )": (".md", "x " + "[a](" * 65536),
    "64 KB of emphasis without a closing *": (".md", "x" + " *x" * 21845),
}


def file_text(suffix: str, body: str) -> str:
    """A Markdown document or a Python module holding ``body``, with one ordinary question besides."""
    if suffix == ".py":
        return f'"""{body}"""\n\n\ndef press_all(buttons):\n    """Press every button once."""\n'
    return f"{body}\n\n## Usage\n\nPress every button once to start the machine.\n"


def build_seconds(repo: Path) -> float:
    """Seconds to build the tasks of ``repo`` (which must give at least one task)."""
    start = time.perf_counter()
    found = repository_tasks(repo)
    seconds = time.perf_counter() - start
    assert found, f"no task from {repo}"
    return seconds


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_builds_in_about_the_time_of_an_ordinary_file_of_its_size(case, tmp_path):
    suffix, body = HOSTILE[case]
    ordinary_body = (PROSE * (len(body) // len(PROSE) + 1))[: len(body)]
    for name, text in (("hostile", file_text(suffix, body)), ("ordinary", file_text(suffix, ordinary_body))):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"document{suffix}").write_text(text, encoding="utf-8")
    ordinary = min(build_seconds(tmp_path / "ordinary") for _ in range(3))
    # Generous, for a loaded machine: a backtracking pattern takes seconds to minutes on these files.
    budget = 20 * ordinary + 0.5
    hostile = build_seconds(tmp_path / "hostile")
    if hostile > budget:  # once more, in case the machine was busy
        hostile = min(hostile, build_seconds(tmp_path / "hostile"))
    assert hostile <= budget, (
        f"{case}: {hostile:.2f} s to build, over {budget:.2f} s (20 x {ordinary:.3f} s for an ordinary file + 0.5 s)"
    )


# The regular expressions that the markup scanners replace, with characters that exercise each: the scanners
# must give what these substitutions give, on any text.
SUBSTITUTIONS = {
    "_replace_links": (r"!?\[([^\]]*)\]\([^)]*\)", "[]()!a \n"),
    "_replace_roles": (r":[\w:+-]+:`([^`<]*?)\s*(?:<[^>]*>)?`", ":`<>a+-_ \n\u00a0"),
    "_replace_targets": (r"`([^`<]*?)\s*<[^>]*>`_+", "`<>_a \n\u00a0"),
    "_replace_emphasis": (r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", "*a_ .\n\u00a0"),
}


@pytest.mark.parametrize("scanner", list(SUBSTITUTIONS))
def test_markup_scanners_give_what_the_regular_expressions_they_replace_give(scanner):
    pattern, alphabet = SUBSTITUTIONS[scanner]
    replace = getattr(tasks, scanner)
    rng = random.Random(0)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert replace(text) == re.sub(pattern, r"\1", text), repr(text)


def test_heading_titles_are_what_the_heading_pattern_captured():
    pattern = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
    rng = random.Random(0)
    for _ in range(20000):
        line = "".join(rng.choice(" #a\t\u00a0") for _ in range(rng.randint(0, 12)))
        match = pattern.match(line)
        assert tasks._atx_title(line) == (match.group(2) if match else None), repr(line)
