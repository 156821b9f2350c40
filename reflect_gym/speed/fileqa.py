"""FileQA on the default corpus: speed, and the expert's and a random agent's success rates.

    reflect-rl speed fileqa [--steps 50000] [--resets 5000] [--random-episodes 2000] [--seed 0]

Measures, in one process:

* the snapshot load time of the largest default repository (a fresh scan, not the shared cache);
* ``gym.make("ReflectRL/FileQA-v0")`` once the corpus is cached;
* resets per second, and steps per second with uniformly random admissible actions (episodes reset
  when they end, inside the timed loop), with and without the paper's training leave-out (0.5);
* the expert's success rate on every task of both splits (``reset(options={"task": i})``), and a
  uniformly random agent's success rate per split over ``--random-episodes`` seeded episodes.

Prints the corpus version (record it with the figures) and the task counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_gym.envs.fileqa.__main__ import format_counts
from reflect_gym.envs.fileqa.filesystem import Snapshot


def resets_per_second(env: gym.Env, resets: int, seed: int) -> float:
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(resets):
        env.reset()
    return resets / (time.perf_counter() - start)


def steps_per_second(env: gym.Env, steps: int, seed: int) -> float:
    """Random admissible actions (drawn from pre-drawn uniforms); resets happen inside the timed loop."""
    uniforms = np.random.default_rng(seed).random(steps)
    _, info = env.reset(seed=seed)
    start = time.perf_counter()
    for u in uniforms:
        _, _, terminated, truncated, info = env.step(int(u * len(info["actions"])))
        if terminated or truncated:
            _, info = env.reset()
    return steps / (time.perf_counter() - start)


def expert_success(env: gym.Env) -> float:
    wins = 0
    for index in range(len(env.unwrapped.tasks)):
        env.reset(seed=index, options={"task": index})
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            done = terminated or truncated
        wins += info["success"]
    return wins / len(env.unwrapped.tasks)


def random_success(env: gym.Env, episodes: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    wins = 0
    for episode in range(episodes):
        _, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(int(rng.integers(len(info["actions"]))))
            done = terminated or truncated
        wins += info["success"]
    return wins / episodes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed fileqa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--resets", type=int, default=5_000)
    parser.add_argument("--random-episodes", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    env = gym.make("ReflectRL/FileQA-v0")
    first_make = time.perf_counter() - start
    start = time.perf_counter()
    gym.make("ReflectRL/FileQA-v0").close()
    second_make = time.perf_counter() - start
    unwrapped = env.unwrapped
    everything = gym.make("ReflectRL/FileQA-v0", split="all").unwrapped.tasks
    print(f"corpus {unwrapped.corpus_version}")
    print(format_counts(everything))

    largest = max(
        unwrapped._snapshots + gym.make("ReflectRL/FileQA-v0", split="test").unwrapped._snapshots,
        key=lambda s: len(s.nodes),
    )
    times = []
    for _ in range(5):
        start = time.perf_counter()
        Snapshot(largest.root)
        times.append(time.perf_counter() - start)
    print(
        f"\nsnapshot load, largest repository {largest.name} ({len(largest.nodes):,} entries): {statistics.median(times) * 1e3:.1f} ms (median of 5)"
    )
    print(
        f"gym.make('ReflectRL/FileQA-v0'): {first_make * 1e3:.0f} ms first in this process, {second_make * 1e3:.0f} ms next"
    )

    print(f"\n{'configuration':<34} {'resets/s':>10} {'steps/s':>10}")
    for name, kwargs in (("FileQA-v0", {}), ("FileQA-v0, leaveout_prob=0.5", {"leaveout_prob": 0.5})):
        bench = gym.make("ReflectRL/FileQA-v0", **kwargs)
        resets = resets_per_second(bench, args.resets, args.seed)
        steps = steps_per_second(bench, args.steps, args.seed)
        print(f"{name:<34} {resets:>10,.0f} {steps:>10,.0f}")

    print(f"\n{'split':<6} {'tasks':>6} {'expert success':>15} {'random success':>15}")
    for split in ("train", "test"):
        split_env = gym.make("ReflectRL/FileQA-v0", split=split)
        expert = expert_success(split_env)
        random = random_success(split_env, args.random_episodes, args.seed)
        print(f"{split:<6} {len(split_env.unwrapped.tasks):>6} {expert:>15.1%} {random:>15.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
