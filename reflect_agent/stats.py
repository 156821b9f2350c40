"""Statistics of reported results: the one Wilson interval of every success rate the project reports, and the exact
McNemar test of two evaluations on the same episodes."""

from __future__ import annotations

import math

#: The standard normal quantile of a two-sided 95% interval.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is informative at 0 or ``trials``
    successes, which small evaluations often hit.

    Args:
        successes: Number of successes, ``0 <= successes <= trials``.
        trials: Number of trials, at least 1.
        z: Standard normal quantile of the interval's confidence level.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: If ``trials < 1`` or ``successes`` is outside ``[0, trials]``.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}.")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials={trials}], got {successes}.")
    p = successes / trials
    z2 = z * z
    center = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # Clamp the rounding error at the ends (e.g. 1.0000000000000002).
    return max(0.0, center - half), min(1.0, center + half)


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """The two-sided p-value of McNemar's exact test for two evaluations of the same episodes.

    Only the discordant episodes count: ``only_first`` solved by the first evaluation alone, ``only_second`` by the
    second alone. Under the hypothesis that both solve episodes at the same rate, each discordant episode is equally
    likely to be either kind, so the p-value is twice the binomial(n, 1/2) tail at the smaller count (at most 1).
    Paired this way, two evaluations on 32 shared episodes can differ significantly where their separate Wilson
    intervals overlap.

    Raises:
        ValueError: A count is negative.
    """
    if min(only_first, only_second) < 0:
        raise ValueError(f"The counts must be >= 0, got {only_first} and {only_second}.")
    discordant = only_first + only_second
    tail = sum(math.comb(discordant, k) for k in range(min(only_first, only_second) + 1)) / 2**discordant
    return min(1.0, 2 * tail)
