"""``make test`` (``pytest --require-extras``) fails when an optional extra is missing; plain pytest skips."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def pytest_without_minigrid(*args: str) -> subprocess.CompletedProcess:
    """Run pytest on ``args`` in a fresh interpreter where minigrid (the 'babyai' extra) cannot be found."""
    code = "import sys; sys.modules['minigrid'] = None; import pytest; sys.exit(pytest.main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "target",
    [
        "tests/envs/test_babyai.py",  # skipped at import, as a module
        "tests/test_contract.py::test_same_seed_same_episodes[ReflectRL/BabyAI-GoToRedBall-v0]",  # skipped in a test
    ],
)
def test_a_missing_extra_fails_under_require_extras_and_skips_otherwise(target):
    required = pytest_without_minigrid(target, "--require-extras")
    assert required.returncode != 0, required.stdout  # 1: a test failed; 2: a module failed to collect
    assert "missing extra" in required.stdout and "reflect-rl[babyai]" in required.stdout
    assert "failed: --require-extras" in required.stdout

    plain = pytest_without_minigrid(target, "-rs")
    assert plain.returncode in (0, 5), plain.stdout  # 5: the whole module was skipped, so nothing ran
    assert "1 skipped" in plain.stdout and "reflect-rl[babyai]" in plain.stdout
