"""The harness concurrency measurement: a short run against the loopback stub gives its rows."""

from __future__ import annotations

from tests.utils import require_extra

require_extra("agent", "torch", "tyro")

from experiments.harness_concurrency.measure import decisions_per_step, measure  # noqa: E402


def test_a_short_measurement_sends_concurrent_requests_and_finds_the_same_results(tmp_path):
    rows = measure("DangerousTaxi-v0", episodes=6, concurrencies=[1, 3], delay=0.05, folder=tmp_path)
    sequential, concurrent = rows
    assert [row["max_in_flight"] for row in rows] == [1, 3]
    assert sequential["requests"] == sequential["decisions"] == concurrent["requests"] == concurrent["decisions"]
    assert sequential["same_results"] and concurrent["same_results"]
    assert 1 < decisions_per_step("DangerousTaxi-v0", 6, 3) <= 3
