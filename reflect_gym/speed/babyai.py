"""BabyAI in words: env steps per second next to raw minigrid, and the BabyAIBot expert's success.

    reflect-rl speed babyai [--steps 5000] [--rounds 3] [--episodes 100] [--levels GoToLocal GoTo] [--seed 0]

Speed: for each level, the raw minigrid level (the bare env, as ``make_babyai_level`` builds it) and
``BabyAITextEnv`` (also bare, no Gymnasium wrappers on either side) are stepped through the same
uniformly random actions, drawn beforehand as Python ints (minigrid compares actions with an
``IntEnum``: ~10 us per comparison for an ``np.int64``, several per step), in the same run,
alternating in ``--rounds`` rounds; the best round of each counts (the machine may be shared). Both
are reset with the same seed and so play the very same episodes. Steps/s times the ``step`` calls
only; episodes reset when they end, and resets are timed apart (ms/reset). The text env renders its
full observation at every step; the expert is not asked during the speed run.

Expert: ``--episodes`` episodes per level on seeds 0..N-1 with the expert's action at every step and
the default horizon; reports successes, episodes where the expert raised (errors), mean episode
length and time per expert step (the text env's step included).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from reflect_gym import BABYAI_LEVELS
from reflect_gym.envs.babyai import BabyAITextEnv, make_babyai_level


def time_env(env: gym.Env, actions: list[int], seed: int) -> tuple[float, float]:
    """Step ``env`` through ``actions``, resetting at episode ends; return (steps/s, ms per reset)."""
    clock = time.perf_counter
    step_time = reset_time = 0.0
    resets = 0
    with contextlib.redirect_stdout(io.StringIO()):  # minigrid prints "Sampling rejected" at reset
        env.reset(seed=seed)
        for action in actions:
            start = clock()
            _, _, terminated, truncated, _ = env.step(action)
            step_time += clock() - start
            if terminated or truncated:
                start = clock()
                env.reset()
                reset_time += clock() - start
                resets += 1
    return len(actions) / step_time, 1000 * reset_time / max(resets, 1)


def expert_success(level: str, episodes: int) -> tuple[int, int, float, float]:
    """``(successes, expert errors, mean steps per episode, ms per expert step)`` over seeds 0..episodes-1.

    An episode in which ``expert_action()`` raises (the bot cannot plan) counts as an error, not a success.
    """
    env = BabyAITextEnv(level)
    successes, errors, steps = 0, 0, 0
    start = time.perf_counter()
    for seed in range(episodes):
        _, info = env.reset(seed=seed)
        done = False
        try:
            while not done:
                _, _, terminated, truncated, info = env.step(env.expert_action())
                steps += 1
                done = terminated or truncated
        except RuntimeError:
            errors += 1
            continue
        successes += info["success"]
    elapsed = time.perf_counter() - start
    return successes, errors, steps / episodes, 1000 * elapsed / max(steps, 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed babyai", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5_000, help="random steps per env and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds; the best counts")
    parser.add_argument("--episodes", type=int, default=100, help="expert episodes per level (0 skips)")
    parser.add_argument("--levels", nargs="+", default=list(BABYAI_LEVELS), choices=BABYAI_LEVELS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    actions = np.random.default_rng(args.seed).integers(6, size=args.steps).tolist()
    print(f"Speed: {args.steps} random steps per env and round, best of {args.rounds} rounds.")
    header = ("raw steps/s", "text steps/s", "cost vs raw", "raw ms/reset", "text ms/reset")
    print(f"{'level':<14} " + " ".join(f"{name:>13}" for name in header))
    for level in args.levels:
        envs = {"raw": make_babyai_level(level), "text": BabyAITextEnv(level)}
        rate, reset_ms = dict.fromkeys(envs, 0.0), dict.fromkeys(envs, float("inf"))
        for _ in range(args.rounds):
            for name, env in envs.items():
                steps_per_second, ms_per_reset = time_env(env, actions, args.seed)
                rate[name] = max(rate[name], steps_per_second)
                reset_ms[name] = min(reset_ms[name], ms_per_reset)
        print(
            f"{level:<14} {rate['raw']:>13,.0f} {rate['text']:>13,.0f} {rate['raw'] / rate['text']:>12.2f}x "
            f"{reset_ms['raw']:>13.2f} {reset_ms['text']:>13.2f}"
        )

    if args.episodes > 0:
        print(f"\nExpert (BabyAIBot): {args.episodes} episodes per level, seeds 0..{args.episodes - 1}.")
        print(f"{'level':<14} {'success':>9} {'rate':>6} {'errors':>7} {'mean steps':>11} {'ms/step':>8}")
        for level in args.levels:
            successes, errors, mean_steps, ms = expert_success(level, args.episodes)
            print(
                f"{level:<14} {successes:>4}/{args.episodes:<4} {successes / args.episodes:>6.0%} {errors:>7} "
                f"{mean_steps:>11.1f} {ms:>8.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
