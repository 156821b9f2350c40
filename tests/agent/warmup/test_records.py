"""Warm-up records as JSON lines: a round trip keeps every field, and a bad line names its file and line."""

from __future__ import annotations

import pytest

from reflect_agent.warmup import TEMPLATE_VERSION, StepRecord, expert_records, read_jsonl, write_jsonl

TAXI = "ReflectRL/DangerousTaxi-v0"


def test_jsonl_round_trip_keeps_env_seed_and_template(tmp_path):
    records = expert_records(TAXI, range(4), perturb_prob=0.3)
    path = write_jsonl(records, tmp_path / "data.jsonl")
    loaded = read_jsonl(path)
    assert loaded == records
    assert {r.template_version for r in loaded} == {TEMPLATE_VERSION}
    assert {r.env_id for r in loaded} == {TAXI}
    assert {r.seed for r in loaded} == set(range(4))


def test_blank_lines_are_skipped(tmp_path):
    record = StepRecord(TAXI, 0, 0, "expert", "state", ["move north"], 0, "Go north.")
    path = write_jsonl([record], tmp_path / "data.jsonl")
    path.write_text("\n" + path.read_text() + "\n\n")
    assert read_jsonl(path) == [record]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [("{not json", "not a warm-up record"), ('{"env_id": "x"}', "missing"), ('{"colour": 1}', "unexpected")],
)
def test_a_bad_line_names_the_file_and_its_line_number(tmp_path, bad_line, reason):
    path = write_jsonl(expert_records(TAXI, [0], perturb_prob=0.0)[:2], tmp_path / "data.jsonl")
    path.write_text(path.read_text() + bad_line + "\n")
    with pytest.raises(ValueError, match=rf"data\.jsonl, line 3: .*{reason}"):
        read_jsonl(path)
