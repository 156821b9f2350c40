"""The ``reflect-rl`` command: its subcommands, and the harness through it and through ``benchmarks.evaluate``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reflect_agent.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_subcommand_with_one_line(capsys):
    assert main(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in ("train", "evaluate", "data", "sft", "speed"):
        assert name in SUBCOMMANDS
        assert sum(line.split()[:1] == [name] for line in lines) == 1, name


def test_an_unknown_subcommand_is_refused(capsys):
    assert main(["evaluat"]) == 2
    assert "unknown subcommand 'evaluat'" in capsys.readouterr().err
    assert main([]) == 2


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name, capsys):
    try:
        status = main([name, "--help"])
    except SystemExit as exit:  # tyro's and argparse's help exit
        status = exit.code
    assert status == 0
    assert f"reflect-rl {name}" in capsys.readouterr().out


def test_speed_runs_a_benchmark_by_name(capsys):
    assert main(["speed", "taxi", "--steps", "200"]) == 0
    assert "ReflectRL/DangerousTaxi-v0" in capsys.readouterr().out
    assert main(["speed", "warp"]) == 2


def test_benchmarks_evaluate_is_the_same_harness(tmp_path):
    out = tmp_path / "r.json"
    command = [sys.executable, "-m", "benchmarks.evaluate", "--env", "DangerousTaxi-v0", "--agent", "expert"]
    result = subprocess.run(
        [*command, "--episodes", "3", "--out", str(out), "--no-progress"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    (cell,) = json.loads(out.read_text())["results"]
    assert cell["agent"] == "expert" and cell["success_rate"] == 1.0 and cell["episodes"] == 3
    assert "| DangerousTaxi-v0 | `expert` | 3 | 1.00 [" in result.stdout
