from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests import `tests.utils` and the `benchmarks` package from the repository root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.utils import MISSING_EXTRA  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-extras",
        action="store_true",
        help="fail, instead of skipping, tests whose optional extra is missing (make test installs them all)",
    )


def _fail_if_extra_missing(config: pytest.Config, report: pytest.CollectReport | pytest.TestReport) -> None:
    """Under --require-extras, a skip for a missing extra (tests.utils.MISSING_EXTRA) becomes a failure."""
    if report.skipped and config.getoption("require_extras"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if MISSING_EXTRA in reason:
            report.outcome = "failed"
            report.longrepr = f"{reason.removeprefix('Skipped: ')} (failed: --require-extras, as make test runs)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` run whenever CUDA is available, and are skipped with the reason otherwise. Under
    mutmut (``make mutation``), the fastest tests run first, so a mutant that some quick test kills costs little."""
    stats = Path("mutmut-stats.json")  # the clean run that checks the order comes after the stats run writes it
    if "MUTANT_UNDER_TEST" in os.environ and stats.is_file():
        seconds = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: seconds.get(item.nodeid, float("inf")))
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch  # the 'agent' extra, which every gpu-marked test needs

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device; torch.cuda.is_available() is False on this machine")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    _fail_if_extra_missing(item.config, outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_if_extra_missing(collector.config, outcome.get_result())
