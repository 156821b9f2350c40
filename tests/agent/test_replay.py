"""The replay buffer of successful episodes."""

from __future__ import annotations

import json

import numpy as np

from reflect_agent.episodes import Episode
from reflect_agent.replay import SuccessReplay


def test_replay_keeps_the_latest_successes():
    replay = SuccessReplay(capacity=3)

    def episode(tag: int, success: bool) -> Episode:
        return Episode([f"s{tag}"], [["a", "b"]], [None], [1], [1.0 if success else 0.0], True, success)

    kept = [replay.add(episode(i, success=i % 2 == 0)) for i in range(8)]
    assert kept == [True, False] * 4 and len(replay) == 3
    assert [e.states[0] for e in replay.sample(3, np.random.default_rng(0))] == ["s2", "s4", "s6"]
    copy = SuccessReplay(capacity=3)
    copy.load_state_dict(json.loads(json.dumps(replay.state_dict())))
    assert copy.state_dict() == replay.state_dict()
    assert SuccessReplay(capacity=0).add(episode(0, True)) is False
