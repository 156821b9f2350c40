"""The Wilson interval and McNemar's exact test."""

from __future__ import annotations

import pytest

from reflect_agent.stats import mcnemar_exact, wilson_interval


def test_wilson_interval():
    low, high = wilson_interval(0, 40)
    assert low == 0 and 0.08 < high < 0.09
    assert wilson_interval(20, 40)[0] < 0.5 < wilson_interval(20, 40)[1]


@pytest.mark.parametrize(
    ("only_first", "only_second", "expected"),
    [
        (6, 2, 0.2890625),  # R: binom.test(2, 8)$p.value, which mcnemar's exact test is
        (2, 6, 0.2890625),
        (10, 0, 0.001953125),  # 2 / 2^10
        (0, 5, 0.0625),
        (3, 3, 1.0),
        (0, 0, 1.0),  # no episode tells the two apart
        (14, 4, 0.030883789),
    ],
)
def test_mcnemar_exact_matches_the_binomial_test_of_the_discordant_episodes(only_first, only_second, expected):
    assert mcnemar_exact(only_first, only_second) == pytest.approx(expected, abs=1e-8)


def test_mcnemar_exact_rejects_negative_counts():
    with pytest.raises(ValueError, match="must be >= 0"):
        mcnemar_exact(-1, 2)
