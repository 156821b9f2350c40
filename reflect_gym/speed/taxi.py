"""Env steps per second: DangerousTaxi next to raw Taxi-v4, random admissible actions, same run.

    reflect-rl speed taxi [--steps 100000] [--seed 0]

Both envs are built with ``gym.make`` (so both carry Gymnasium's default wrappers) and stepped with
uniformly random admissible actions drawn beforehand; episodes reset when they end.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)


def steps_per_second(env: gym.Env, actions: np.ndarray, seed: int) -> float:
    """Step ``env`` through ``actions``, resetting at episode ends; return steps per second."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed taxi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    actions = np.random.default_rng(args.seed).integers(6, size=args.steps)
    raw = steps_per_second(gym.make("Taxi-v4"), actions, args.seed)
    rows = [("Taxi-v4 (raw)", raw)]
    for env_id in ("ReflectRL/DangerousTaxi-v0", "ReflectRL/DangerousTaxi-Dropoff-v0"):
        rows.append((env_id, steps_per_second(gym.make(env_id), actions, args.seed)))
    print(f"{'env':<36} {'steps/s':>10} {'cost vs raw':>12}")
    for name, rate in rows:
        print(f"{name:<36} {rate:>10,.0f} {raw / rate:>11.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
