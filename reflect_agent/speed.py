"""Decisions per second of label enumeration, per-candidate scoring and generate-then-parse, same run.

    reflect-rl speed decide [--model smollm2] [--envs FileQA-v0 DangerousTaxi-v0] [--states 16]
        [--batch-sizes 8] [--device cpu] [--dtype float32] [--threads N] [--repeats 1] [--autocast-compare]
        [--reflector-states 8] [--reflector-tokens 100] [--out speed_decide.json]

    # SmolLM2 on a small shared CPU (experiments/decider_speed/ holds the figures):
    reflect-rl speed decide --states 8 --batch-sizes 4 --threads 1 --repeats 2 --autocast-compare \
        --reflector-states 4 --out speed_decide.json

    # on a GPU:
    reflect-rl speed decide --device cuda --dtype bfloat16 --model gpt2-xl-random --batch-sizes 1 8 32 \
        --states 64 --repeats 3 --reflector-states 32

For every env, ``--states`` states are collected (seeded episodes, uniformly random admissible actions, every
visited state kept until there are enough). All deciders use the same model, the same policy prompts (the
:class:`reflect_agent.prompts.PromptTemplate` shape) and the same states, in the same process:

* ``enumeration``: :class:`reflect_agent.policy.LMPolicy`, one sequence per state;
* ``scoring``: :class:`reflect_agent.deciders.CandidateScoringDecider`, every action's text scored as a
  continuation of the prompt; prompt and candidates run as one sequence per state, the candidates masked apart;
* ``generate``: :class:`reflect_agent.deciders.GenerateParseDecider` (first reply line, up to 8 new tokens);
* ``enumeration+bf16`` (``--autocast-compare``): enumeration under bf16 autocast, with its greedy-action
  agreement and largest log-probability difference against fp32 enumeration;
* ``reflect+enumeration`` (``--reflector-states`` > 0): a shared-base reflector writes up to
  ``--reflector-tokens`` tokens per state, then enumeration decides with the analysis in its prompt.

Each decider makes one untimed warm-up decision first; then the timed passes go round-robin over the deciders
(``--repeats`` rounds) and each decider's fastest pass counts; decisions per second = states / seconds (greedy
decisions, no gradients). On a busy CPU, ``--threads 1`` avoids thread oversubscription. Scoring costs about
one prompt pass plus the candidates' tokens; scoring each ``prompt + candidate`` as a sequence of its own would
cost about N prompt passes (N: mean admissible actions), as it did before scoring shared its prompt
(``experiments/decider_speed/``). Peak memory: CUDA's max
allocated (reset per measurement), or on CPU the process's peak resident set (monotone over the run, so read it
as an upper bound).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.deciders import CandidateScoringDecider, GenerateParseDecider
from reflect_agent.metrics import peak_memory_mb
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_gym.files import atomic_write

State = tuple[str, list[str]]


def collect_states(env_id: str, count: int, seed: int) -> list[State]:
    """``count`` (state, actions) pairs visited by a uniformly random admissible agent over seeded episodes."""
    env = gym.make(f"ReflectRL/{env_id}")
    rng = np.random.default_rng(seed)
    states: list[State] = []
    episode = 0
    while len(states) < count:
        _, info = env.reset(seed=seed + episode)
        episode += 1
        done = False
        while not done and len(states) < count:
            states.append((info["state"], list(info["actions"])))
            _, _, terminated, truncated, info = env.step(int(rng.integers(len(info["actions"]))))
            done = terminated or truncated
    env.close()
    return states


def one_pass(
    decide: Callable[[list[str], list[list[str]]], list[int]],
    states: list[State],
    batch_size: int,
    device: torch.device,
) -> tuple[float, float, list[int]]:
    """(seconds, peak memory MB, the decisions) of one pass of ``decide`` over ``states`` in batches."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    decisions: list[int] = []
    start = time.perf_counter()
    for i in range(0, len(states), batch_size):
        batch = states[i : i + batch_size]
        decisions += decide([s for s, _ in batch], [a for _, a in batch])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, peak_memory_mb(device), decisions


def measure_deciders(
    env_id: str,
    states: list[State],
    deciders: dict[str, Callable],
    batch_size: int,
    device: torch.device,
    repeats: int = 1,
    *,
    warm_up: bool = True,
) -> tuple[list[dict], dict[str, float], dict[str, list[int]]]:
    """Time every decider on ``states``; print a row each; return the rows, the rates and the decisions.

    The passes go round-robin over the deciders, ``repeats`` times, and each decider's fastest pass counts: on a
    shared machine whose load drifts, this keeps the drift from favouring whichever decider ran first.
    """
    if warm_up:  # one state is enough to warm up kernels and allocators
        for decide in deciders.values():
            decide([states[0][0]], [states[0][1]])
    seconds = dict.fromkeys(deciders, float("inf"))
    memory = dict.fromkeys(deciders, 0.0)
    decisions: dict[str, list[int]] = {}
    for _ in range(repeats):
        for name, decide in deciders.items():
            elapsed, peak, decisions[name] = one_pass(decide, states, batch_size, device)
            seconds[name] = min(seconds[name], elapsed)
            memory[name] = max(memory[name], peak)
    rates = {name: len(states) / seconds[name] for name in deciders}
    rows = []
    for name, rate in rates.items():
        rows.append(
            {
                "env": env_id,
                "decider": name,
                "batch_size": batch_size,
                "decisions_per_s": rate,
                "peak_memory_mb": memory[name],
            }
        )
        ratio = f"{rate / rates['scoring']:.1f}x" if "scoring" in rates else ""
        print(f"{env_id:<18} {name:<20} {batch_size:>5} {rate:>8.3f} {memory[name]:>8.0f} {ratio:>10}")
    return rows, rates, decisions


def compare_autocast(policy: LMPolicy, autocast_policy: LMPolicy, states: list[State]) -> tuple[float, float]:
    """(greedy-action agreement, largest |log-probability difference|) of bf16 autocast against fp32."""
    batch = policy.encode([s for s, _ in states], [a for _, a in states])
    with torch.no_grad():
        fp32, _ = policy(batch)
        bf16, _ = autocast_policy(batch)
    mask = batch.action_mask.to(policy.device)
    agreement = (fp32.argmax(-1) == bf16.argmax(-1)).float().mean().item()
    return agreement, (fp32 - bf16)[mask].abs().max().item()


def measure_reflector(
    env_id: str, policy: LMPolicy, states: list[State], batch_size: int, max_new_tokens: int
) -> list[dict]:
    """Decisions per second of enumeration alone and of reflect-then-enumerate on ``states``; print and return rows."""
    reflector = Reflector.from_config(ReflectorConfig(max_new_tokens=max_new_tokens), policy=policy)
    lengths: list[int] = []

    def reflect_then_decide(s: list[str], a: list[list[str]]) -> list[int]:
        reflections = reflector.reflect(s, a)
        lengths.extend(len(policy.tokenizer(r).input_ids) for r in reflections)
        return policy.act(s, a, reflections, greedy=True)

    deciders = {"enumeration": lambda s, a: policy.act(s, a, greedy=True), "reflect+enumeration": reflect_then_decide}
    # No warm-up: the model is warm, and one reflection batch costs as much as the measurement.
    rows, _, _ = measure_deciders(env_id, states, deciders, batch_size, policy.device, warm_up=False)
    mean_length = float(np.mean(lengths))
    rows[-1]["mean_reflection_tokens"] = mean_length
    print(
        f"  {len(states)} states; reflections up to {max_new_tokens} tokens, {mean_length:.0f} on average (cut at stops)"
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed decide", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--envs", nargs="+", default=["FileQA-v0", "DangerousTaxi-v0"])
    parser.add_argument("--states", type=int, default=16, help="states per env")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8])
    parser.add_argument(
        "--deciders",
        nargs="+",
        default=["enumeration", "scoring", "generate"],
        choices=["enumeration", "scoring", "generate"],
    )
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--max-prompt-tokens", type=int, default=1024)
    parser.add_argument("--autocast-compare", action="store_true", help="also time enumeration under bf16 autocast")
    parser.add_argument("--reflector-states", type=int, default=0, help="states per env for reflect+enumeration")
    parser.add_argument("--reflector-tokens", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--repeats", type=int, default=1, help="timed passes per measurement; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    config = PolicyConfig(
        model=args.model, device=args.device, dtype=args.dtype, max_prompt_tokens=args.max_prompt_tokens
    )
    start = time.perf_counter()
    policy = LMPolicy.from_config(config)
    load_seconds = time.perf_counter() - start
    device = policy.device
    scoring = CandidateScoringDecider(policy)
    generate = GenerateParseDecider(policy)
    autocast_policy = LMPolicy(policy.model, policy.tokenizer, dataclasses.replace(config, autocast=True))
    available = {
        "enumeration": lambda s, a: policy.act(s, a, greedy=True),
        "scoring": lambda s, a: scoring.act(s, a, greedy=True),
        "generate": lambda s, a: generate.act(s, a, greedy=True),
    }
    deciders = {name: decide for name, decide in available.items() if name in args.deciders}
    if args.autocast_compare:
        deciders["enumeration+bf16"] = lambda s, a: autocast_policy.act(s, a, greedy=True)

    dtype = next(policy.model.parameters()).dtype
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU available; CPU only"
    params = sum(p.numel() for p in policy.model.parameters()) / 1e6
    print(
        f"model {args.model} ({params:.0f}M params, loaded in {load_seconds:.1f} s), device {device} ({gpu}), "
        f"dtype {dtype}, torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for env_id in args.envs:
        states = collect_states(env_id, args.states, args.seed)
        mean_actions = float(np.mean([len(a) for _, a in states]))
        prompts = policy.prompts([s for s, _ in states], [a for _, a in states])
        mean_tokens = float(np.mean([len(policy.tokenizer(p).input_ids) for p in prompts]))
        print(
            f"\n{env_id}: {len(states)} states, mean admissible actions N = {mean_actions:.1f}, "
            f"mean prompt tokens {mean_tokens:.0f}"
        )
        print(f"{'env':<18} {'decider':<20} {'batch':>5} {'dec/s':>8} {'peak MB':>8} {'vs scoring':>10}")
        for batch_size in args.batch_sizes:
            new_rows, rates, decisions = measure_deciders(env_id, states, deciders, batch_size, device, args.repeats)
            for row in new_rows:
                row.update(mean_actions=mean_actions, mean_prompt_tokens=mean_tokens)
            rows += new_rows
            if "enumeration" in rates and "scoring" in rates:
                print(f"  enumeration / scoring = {rates['enumeration'] / rates['scoring']:.1f}x")
            if "enumeration" in rates and "generate" in rates:
                parsed = np.mean([d >= 0 for d in decisions["generate"]])
                print(
                    f"  enumeration / generate = {rates['enumeration'] / rates['generate']:.1f}x; generate parsed {parsed:.0%} of replies"
                )
            if "enumeration+bf16" in rates and "enumeration" in rates:
                agreement, gap = compare_autocast(policy, autocast_policy, states)
                print(
                    f"  bf16 autocast: {rates['enumeration+bf16'] / rates['enumeration']:.2f}x the fp32 speed, "
                    f"greedy action agreement {agreement:.0%}, max |logprob difference| {gap:.3f}"
                )
                rows.append(
                    {
                        "env": env_id,
                        "decider": "enumeration+bf16 vs fp32",
                        "batch_size": batch_size,
                        "greedy_agreement": agreement,
                        "max_logprob_difference": gap,
                    }
                )
        if args.reflector_states > 0:
            subset = states[: args.reflector_states]
            rows += measure_reflector(env_id, policy, subset, args.batch_sizes[0], args.reflector_tokens)
    if args.out:
        result = {
            "model": args.model,
            "device": str(device),
            "gpu": gpu,
            "dtype": str(dtype),
            "threads": torch.get_num_threads(),
            "rows": rows,
        }
        atomic_write(args.out, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
