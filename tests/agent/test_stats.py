"""The Wilson interval."""

from __future__ import annotations

from reflect_agent.stats import wilson_interval


def test_wilson_interval():
    low, high = wilson_interval(0, 40)
    assert low == 0 and 0.08 < high < 0.09
    assert wilson_interval(20, 40)[0] < 0.5 < wilson_interval(20, 40)[1]
