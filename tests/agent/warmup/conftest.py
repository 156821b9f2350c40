"""Shared warm-up data of the warm-up tests."""

from __future__ import annotations

import pytest

from reflect_agent.warmup import StepRecord, expert_records

FULL_TAXI = "ReflectRL/DangerousTaxi-v0"


@pytest.fixture(scope="package")
def taxi_records() -> list[StepRecord]:
    """The expert's records of twelve full DangerousTaxi episodes, with wrong steps."""
    return expert_records(FULL_TAXI, range(12), perturb_prob=0.3, rng_seed=0)
