"""experiments.classical_baselines: the first budget that solves a stage, and a fixed-budget cell."""

from __future__ import annotations

from experiments.classical_baselines.budgets import first_budget
from experiments.classical_baselines.cells import markdown, run_cell


def runs(*cells: tuple[int, float]) -> list[dict]:
    return [{"timesteps": timesteps, "success_rate": rate} for timesteps, rate in cells]


def test_the_first_budget_is_the_first_at_which_every_seed_reaches_the_target():
    sweep = runs((10, 0.99), (10, 0.90), (20, 0.96), (20, 0.95), (40, 1.0), (40, 1.0))
    assert first_budget(sweep, 0.95) == (20, True)
    assert first_budget(sweep + runs((80, 0.5)), 0.95) == (20, False)
    assert first_budget(runs((10, 0.5), (20, 0.94)), 0.95) == (None, False)


def test_a_cell_trains_from_scratch_and_counts_held_out_successes():
    cell = run_cell("ReflectRL/DangerousTaxi-Pickup-v0", "tabular:qlearning", 20_000, 0, 50)
    assert cell["episodes"] == 50 and cell["successes"] == round(50 * cell["success_rate"]) >= 45
    assert cell["ci_low"] <= cell["success_rate"] <= cell["ci_high"]
    assert "| DangerousTaxi-Pickup-v0 | `tabular:qlearning` | 20,000 | 50 |" in markdown([cell])
