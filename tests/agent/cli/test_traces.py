"""``reflect-rl traces``: the episode traces page of a traces file, with a results file's numbers when given."""

from __future__ import annotations

import json

from reflect_agent.cli import main
from reflect_agent.harness import save_results

TAXI = "ReflectRL/DangerousTaxi-v0"


def traces_file(path, outcomes=(True, False, True)):
    """A traces file of the expert on Taxi, one episode per outcome, seeds from 0, with a hostile observation."""
    lines = []
    for seed, success in enumerate(outcomes):
        turns = [
            {
                "state": f"seed {seed} <b>taxi</b> & 'passenger'",
                "actions": ["south", "north"],
                "reflection": None,
                "reply": None,
                "action": 0,
                "action_text": "south",
                "reward": 20.0 if success else -1.0,
                "invalid": False,
            }
        ]
        episode = {"env_id": TAXI, "agent": "expert", "seed": seed, "success": success, "return": turns[0]["reward"]}
        lines.append({**episode, "steps": 1, "terminated": success, "truncated": not success, "turns": turns})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_traces_writes_the_page_next_to_the_traces_file(tmp_path, capsys):
    traces = traces_file(tmp_path / "r.traces.jsonl")
    assert main(["traces", str(traces)]) == 0
    page = (tmp_path / "r.traces.html").read_text()
    assert f"3 episodes: page written to {tmp_path / 'r.traces.html'}" in capsys.readouterr().out
    assert page.count("<details class='episode'") == 3 and "<title>Episode traces: r.traces.jsonl</title>" in page
    assert "<b>" not in page and "&lt;b&gt;taxi&lt;/b&gt;" not in page  # escaped in the data: \u003cb\u003e
    assert "\\u003cb\\u003etaxi" in page
    assert "<td>3</td><td>0.67 [0.21, 0.94]</td><td>13.000</td>" in page


def test_traces_shows_the_results_numbers_and_flags_traces_that_disagree(tmp_path):
    traces = traces_file(tmp_path / "r.traces.jsonl")
    cell = {"env": TAXI, "agent": "expert", "episodes": 4, "seed": 0, "env_kwargs": {}, "success_rate": 0.75}
    cell |= {"success_ci95": [0.3, 0.95], "mean_return": 14.75, "mean_steps": 1.0, "invalid_action_rate": 0.0}
    cell |= {"decisions_per_second": 1000.0, "successes": 3, "steps": 4, "decisions": 4, "wall_seconds": 0.1}
    save_results(tmp_path / "r.json", [cell])
    out = tmp_path / "page.html"
    assert main(["traces", str(traces), "--results", str(tmp_path / "r.json"), "--out", str(out)]) == 0
    page = out.read_text()
    assert "<td>4</td><td>0.75 [0.30, 0.95]</td><td>14.750</td>" in page
    assert "the traces hold 3 episodes with 2 successes" in page


def test_traces_refuses_missing_or_foreign_files_and_keeps_a_foreign_page(tmp_path, capsys):
    traces = traces_file(tmp_path / "r.traces.jsonl")
    assert main(["traces", str(tmp_path / "absent.jsonl")]) == 2
    assert "No traces file at" in capsys.readouterr().err
    assert main(["traces", str(traces), "--results", str(tmp_path / "absent.json")]) == 2
    assert "No results file at" in capsys.readouterr().err
    (tmp_path / "other.json").write_text('{"format": 99}')
    assert main(["traces", str(traces), "--results", str(tmp_path / "other.json")]) == 2
    assert "not a results file of format 1" in capsys.readouterr().err
    foreign = tmp_path / "mine.html"
    foreign.write_text("<!DOCTYPE html>\n<p>my notes</p>\n")
    assert main(["traces", str(traces), "--out", str(foreign)]) == 2
    assert "--overwrite" in capsys.readouterr().err and "my notes" in foreign.read_text()
    assert main(["traces", str(traces), "--out", str(foreign), "--overwrite"]) == 0
    assert foreign.read_text().count("<details class='episode'") == 3
