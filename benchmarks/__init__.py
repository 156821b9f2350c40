"""Benchmarks and the evaluation harness; run the modules from the repository root.

* ``python -m benchmarks.evaluate``: agents x envs, success rate with a Wilson interval, return, steps,
  invalid-action rate and decisions per second, as JSON and a Markdown table.
* :mod:`benchmarks.baselines`: stable-baselines3 agents trained on an env's structured state.
* :mod:`benchmarks.stats`: the statistics the tables report.
"""
