"""The reflect-rl train command."""

from __future__ import annotations

from reflect_agent.cli import main as reflect_rl

TINY = ["--agent.model", "tiny", "--agent.max-new-tokens", "4", "--warmup.episodes", "2", "--rl.iterations", "0",
        "--rl.num-envs", "4", "--eval.episodes", "2", "--eval.no-zero-shot", "--no-progress", "--threads", "1"]  # fmt: skip


def test_a_rerun_with_other_settings_is_refused_with_the_reason_and_no_traceback(tmp_path, capsys):
    argv = ["train", *TINY, "--output-dir", str(tmp_path), "--name", "run"]
    assert reflect_rl(argv) == 0
    capsys.readouterr()
    assert reflect_rl([*argv, "--warmup.episodes", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reflect-rl train: ") and "warmup.jsonl was made with other settings: episodes: 2 -> 3" in err
    assert "Traceback" not in err  # what --overwrite then rebuilds: test_pipeline.py
