"""Benchmark entry points; run the modules from the repository root. Their code lives in the packages.

* ``python -m benchmarks.evaluate`` (= ``reflect-rl evaluate``): agents x envs on seeded episodes
  (:mod:`reflect_agent.harness`).
* ``python -m benchmarks.speed_taxi`` / ``speed_fileqa`` / ``speed_babyai`` / ``speed_alfworld`` / ``speed_decide``
  (= ``reflect-rl speed ...``): env steps and LM decisions per second (:mod:`reflect_gym.speed`,
  :mod:`reflect_agent.speed`).
* ``python -m benchmarks.speed_train``: the RL loop's decisions per second, time split and peak memory.
"""
