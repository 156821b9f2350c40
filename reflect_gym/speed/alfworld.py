"""ALFWorld-v0: env steps per second with one env and with async workers, and expert success.

    reflect-rl speed alfworld [--steps 300] [--workers 2] [--seed 0]

Speed: ``ReflectRL/ALFWorld-v0`` (bundled problems, ``pick_and_place_simple``, hand-coded expert
tracking every step) stepped with uniformly random admissible actions; episodes reset when they end and
the resets are timed too. Game processes start before the clock does. First one env built with
``gym.make``, then ``gym.make_vec(..., vectorization_mode="async")`` with ``--workers`` envs, in the same
run. Other processes on the machine slow both down: the load average is printed first, and the game
process's CPU time per step (Linux) gives the rate a free core would reach.

Expert success: each expert (hand-coded and planner) plays every bundled problem once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)

ENV_ID = "ReflectRL/ALFWorld-v0"


def game_cpu_seconds(env: gym.Env) -> float | None:
    """CPU seconds used so far by ``env``'s game process (Linux ``/proc``), ``None`` where unreadable."""
    try:
        fields = Path(f"/proc/{env.unwrapped._game.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def single_env_rate(steps: int, seed: int) -> tuple[float, float | None]:
    """Env steps per second of one env, random admissible actions, and CPU ms per step of its game."""
    env = gym.make(ENV_ID)
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    cpu_start, start = game_cpu_seconds(env), time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        if terminated or truncated:
            _, info = env.reset()
    rate = steps / (time.perf_counter() - start)
    cpu_end = game_cpu_seconds(env)
    env.close()
    cpu_ms = None if cpu_start is None or cpu_end is None else 1000 * (cpu_end - cpu_start) / steps
    return rate, cpu_ms


def async_rate(steps: int, workers: int, seed: int) -> float:
    """Env steps per second, summed over ``workers`` async envs, random admissible actions."""
    # Gymnasium's shared-memory buffer decodes Text observations once, at creation: send them by pipe.
    envs = gym.make_vec(ENV_ID, num_envs=workers, vectorization_mode="async", vector_kwargs={"shared_memory": False})
    rng = np.random.default_rng(seed)
    _, infos = envs.reset(seed=seed)
    rounds = max(1, steps // workers)
    start = time.perf_counter()
    for _ in range(rounds):
        actions = np.array([int(rng.choice(np.flatnonzero(mask))) for mask in infos["action_mask"]])
        _, _, _, _, infos = envs.step(actions)
    rate = rounds * workers / (time.perf_counter() - start)
    envs.close()
    return rate


def expert_results(expert: str, seed: int) -> list[tuple[str, bool, int]]:
    """(problem, success, steps) of ``expert`` on every bundled problem."""
    env = gym.make(ENV_ID, task_types="all", expert=expert)
    results = []
    for game in range(len(env.unwrapped.games)):
        _, info = env.reset(seed=seed, options={"game": game})
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            steps, done = steps + 1, terminated or truncated
        results.append((Path(env.unwrapped.games[game]).name, bool(info["success"]), steps))
    env.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed alfworld", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300, help="env steps timed per configuration")
    parser.add_argument("--workers", type=int, default=2, help="async workers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load:.1f} before the run")
    one, cpu_ms = single_env_rate(args.steps, args.seed)
    many = async_rate(args.steps, args.workers, args.seed)
    print(f"{'configuration':<24} {'steps/s':>8} {'per worker':>11} {'scaling':>8}")
    print(f"{'1 env':<24} {one:>8.1f} {one:>11.1f} {1.0:>7.2f}x")
    print(f"{f'{args.workers} async workers':<24} {many:>8.1f} {many / args.workers:>11.1f} {many / one:>7.2f}x")
    if cpu_ms is not None:
        print(f"game process CPU per step: {cpu_ms:.1f} ms, so one free core runs {1000 / cpu_ms:.1f} steps/s")

    experts = ("handcoded", "planner")
    results = {expert: expert_results(expert, args.seed) for expert in experts}
    print(f"\n{'bundled problem':<62} {'handcoded':>10} {'planner':>10}")
    for row in zip(*(results[expert] for expert in experts), strict=True):
        cells = [f"{'won' if success else 'lost'} {steps:>3}" for _, success, steps in row]
        print(f"{row[0][0]:<62} {cells[0]:>10} {cells[1]:>10}")
    for expert in experts:
        wins = sum(success for _, success, _ in results[expert])
        print(f"{expert} expert: {wins}/{len(results[expert])} solved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
