"""RL rollouts with and without the frozen reflector, and with each of its speed-ups, in one run.

    reflect-rl speed rollout [--envs DangerousTaxi-Dropoff-v0 FileQA-Depth1-v0] [--num-envs 8] [--rollouts 3]
        [--model smollm2] [--policy FOLDER] [--reflector-adapter FOLDER] [--variants NAME ...] [--horizon N]
        [--max-new-tokens 100] [--max-prompt-tokens N] [--threads 2] [--[no-]autocast]
        [--out speed_rollout.json] [--table speed_rollout.md]
        [--server-url http://127.0.0.1:8080/v1 [--server-model NAME] [--server-concurrency 8]]

For every env, each variant plays the same ``--rollouts`` rollouts of ``--num-envs`` episodes (the same seeds, the
policy sampling from the same torch seed), as online RL plays them:

* ``policy only``: no reflector;
* ``reflector (generate)``: the frozen reflector through ``model.generate``, no cache, weights as loaded (the plain
  path);
* ``+ fast decode``: :func:`reflect_agent.decoding.greedy_decode`;
* ``+ drafts``: the fast path checking up to 8 tokens per pass, drafted from the reflector's earlier reflections
  (``ReflectorConfig.draft_tokens``, :class:`reflect_agent.decoding.NgramDrafts`);
* ``+ packed weights``: the linear layers laid out once for oneDNN (:func:`reflect_agent.models.pack_linears`; on a
  CPU with bf16, else the same as the plain path);
* ``+ cache``: the :class:`~reflect_agent.reflection_cache.ReflectionCache`;
* ``+ merged adapter``, with ``--reflector-adapter``: the adapter folded into the weights at load
  (``ReflectorConfig.merge_adapter``; the plain path keeps its LoRA layers);
* ``all``: all of them together;
* ``served``, with ``--server-url``: the reflector behind an OpenAI-compatible server's ``/completions``
  (:class:`reflect_agent.served.ServedModel`; llama.cpp's server, vLLM, ``transformers serve``), the same prompts
  and token limit, ``--server-concurrency`` requests at a time. Its text equals the plain path's only where the
  server runs the same weights with the same arithmetic; serve a warmed-up reflector's ``reflect-rl export``.

Each rollout runs the policy once per distinct prompt, as RL does (:class:`reflect_agent.episodes.ScoredPrompts`):
without a reflector the prompts repeat more often (a state is a prompt whatever its last action), so ``policy only``
spends less policy time per decision than the variants with one.

Each row reports decisions per second (decisions over the rollouts' reflect, policy and env seconds), the time
split, the cache's hit rate, the reflections' mean length in tokens (what a decision pays for), for the fast path
its decoding milliseconds per step of a batch's longest row in the rollouts (prompt passes left out; with drafts a
pass moves several steps) against the weights-read floor below, and the steps per pass, the share of
episodes solved, and whether the text equals the plain path's; where it does not, the share of the plain path's
states on which the variant writes the plain path's reflection (the rollouts themselves diverge after the first
difference). The reflector is a frozen copy of the policy's base model, as the main job loads it:
its own weights, the same prompt limit and, where the device runs bf16 in hardware (else fp32; ``--[no-]autocast``
chooses), bf16 autocast with its linear layers' weights kept in bf16
(:func:`reflect_agent.models.autocast_weights`), with ``--reflector-adapter`` on it (a warmed-up reflector writes
the analyses it learned, usually far shorter than the base model's); ``--policy`` plays a saved policy (its decider
and prompt limit) instead of the base model.

Decode speed: ms per decoding step of the reflector at batch ``--num-envs``, through ``model.generate`` and
through the fast path, next to the floor of reading the weights once per step (the bytes of the weights over
the device's memory bandwidth, measured in the same run by summing a 1 GiB tensor).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.decoding import greedy_decode
from reflect_agent.episodes import Episode, make_envs
from reflect_agent.models import native_bf16
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.prompts import fit_state, reflector_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.rollout import collect_rollout
from reflect_agent.tensors import left_pad
from reflect_gym.files import atomic_write

_PLAIN = {"fast_decode": False, "draft_tokens": 0, "pack_weights": False, "cache_entries": 0, "merge_adapter": False}
#: Variant -> the :class:`ReflectorConfig` fields it sets; ``None``: no reflector.
VARIANTS: dict[str, dict[str, Any] | None] = {
    "policy only": None,
    "reflector (generate)": _PLAIN,
    "+ fast decode": _PLAIN | {"fast_decode": True},
    "+ drafts": _PLAIN | {"fast_decode": True, "draft_tokens": 8},
    "+ packed weights": _PLAIN | {"pack_weights": True},
    "+ cache": _PLAIN | {"cache_entries": 100_000},
    "+ merged adapter": _PLAIN | {"merge_adapter": True},
    "all": {
        "fast_decode": True,
        "draft_tokens": 8,
        "pack_weights": True,
        "cache_entries": 100_000,
        "merge_adapter": True,
    },
}
#: Variants measured only with ``--reflector-adapter`` (without an adapter they are the plain path).
ADAPTER_VARIANTS = frozenset({"+ merged adapter"})


def memory_bandwidth(device: torch.device, gib: float = 1.0, repeats: int = 3) -> float:
    """Bytes per second ``device`` reads from its memory: the fastest sum over a ``gib`` GiB float32 tensor."""
    data = torch.ones(int(gib * 2**30 / 4), device=device)
    best = float("inf")
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        data.sum()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return data.numel() * 4 / best


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def decode_ms_per_step(reflector: Reflector, prompts: list[list[int]], steps: int = 32) -> dict[str, float]:
    """ms per decoding step at ``len(prompts)`` rows, through ``model.generate`` and through the fast path,
    without stop strings: (the time of ``steps`` tokens less the time of one) over the steps after the first."""
    model, tokenizer = reflector.model, reflector.tokenizer
    device = reflector.device

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=reflector.config.autocast)

    def fast(tokens: int) -> tuple[float, int]:
        _synchronize(device)
        start = time.perf_counter()
        _, passes = greedy_decode(model, tokenizer, prompts, max_new_tokens=tokens, autocast=autocast)
        _synchronize(device)
        return time.perf_counter() - start, passes

    def generate(tokens: int) -> tuple[float, int]:
        input_ids, attention_mask = left_pad(prompts, tokenizer.pad_token_id)
        _synchronize(device)
        start = time.perf_counter()
        with torch.inference_mode(), autocast():
            output = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention_mask.to(device),
                max_new_tokens=tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        _synchronize(device)
        return time.perf_counter() - start, output.shape[1] - input_ids.shape[1]

    result = {}
    with reflector._frozen():
        for name, run in (("generate", generate), ("fast", fast)):
            run(2)  # warm-up
            one, _ = min(run(1) for _ in range(2))
            many, made = min(run(steps) for _ in range(2))
            result[f"{name}_ms_per_step"] = 1000 * (many - one) / max(made - 1, 1)
    return result


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``gym.make`` arguments of the benchmark's envs: ``--horizon`` where it is set."""
    return {} if args.horizon is None else {"horizon": args.horizon}


def variants(args: argparse.Namespace) -> dict[str, dict[str, Any] | None]:
    """:data:`VARIANTS` (:data:`ADAPTER_VARIANTS` only with ``--reflector-adapter``; only ``--variants`` and
    ``policy only`` where it is given), and the served reflector where ``--server-url`` names a server."""
    chosen = {name: v for name, v in VARIANTS.items() if name not in ADAPTER_VARIANTS or args.reflector_adapter}
    if args.variants is not None:
        chosen = {name: v for name, v in chosen.items() if name in args.variants or v is None}
    if args.server_url is None:
        return chosen
    served = {"server_url": args.server_url, "server_model": args.server_model, "adapter": None}
    return chosen | {"served": served | {"server_concurrency": args.server_concurrency}}


def measure_env(env_id: str, policy: LMPolicy, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row per variant of :func:`variants` on ``env_id``."""
    rows, reference = [], None
    for name, variant in variants(args).items():
        reflector = None
        if variant is not None:
            reflector = Reflector.from_config(reflector_config(args, **variant))
        envs = make_envs(env_id, args.num_envs, env_kwargs=env_kwargs(args))
        torch.manual_seed(args.seed)
        timings = {"reflect_s": 0.0, "policy_s": 0.0, "env_s": 0.0}
        decisions, reflections, episodes = 0, [], []
        for index in range(args.rollouts):
            seeds = range(args.seed + index * args.num_envs, args.seed + (index + 1) * args.num_envs)
            rollout = collect_rollout(envs, policy, reflector, list(seeds), env_id=env_id)
            for key, seconds in rollout.timings.items():
                timings[key] += seconds
            decisions += len(rollout)
            episodes += rollout.episodes
            reflections += [r for episode in rollout.episodes for r in episode.reflections]
        envs.close()
        if name == "reflector (generate)":
            reference = (reflector_inputs(episodes), reflections)
        seconds = sum(timings.values())
        cache = reflector.cache if reflector is not None else None
        decode = reflector.decode_stats if reflector is not None else None
        same = None if variant is None or reference is None else reflections == reference[1]
        rows.append(
            {
                "env": env_id,
                "variant": name,
                "decisions": decisions,
                "decisions_per_s": decisions / seconds,
                **timings,
                "cache_hit_rate": cache.stats.hit_rate if cache is not None else None,
                "reflect_prefill_s": decode.prefill_s if decode is not None and decode.calls else None,
                "reflect_decode_s": decode.decode_s if decode is not None and decode.calls else None,
                "decode_ms_per_step": decode.ms_per_step if decode is not None else None,
                "steps_per_pass": decode.steps_per_pass if decode is not None else None,
                "reflection_tokens": mean_tokens(reflector.tokenizer, reflections) if reflector is not None else None,
                "success_rate": sum(episode.success for episode in episodes) / len(episodes),
                "same_text": same,
                "same_reflections": None if same is not False else agreement(reflector, *reference, args.num_envs),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["decisions_per_s"]
    for row in rows:
        row["vs_policy_only"] = row["decisions_per_s"] / base
    return rows


def reflector_inputs(episodes: list[Episode]) -> tuple[list[str], list[list[str]]]:
    """The states (with their last action) and action lists the reflector read at every step of ``episodes``, in
    the order of their reflections."""
    states, actions = [], []
    for episode in episodes:
        previous = None
        for state, acts, chosen in zip(episode.states, episode.actions, episode.chosen, strict=True):
            states.append(reflector_state(state, previous))
            actions.append(acts)
            previous = acts[chosen] if 0 <= chosen < len(acts) else None
    return states, actions


def agreement(
    reflector: Reflector, inputs: tuple[list[str], list[list[str]]], expected: list[str | None], batch: int
) -> float:
    """The share of ``inputs`` (the plain path's states) on which ``reflector`` writes ``expected`` (the plain
    path's reflections), asked ``batch`` consecutive states at a time (a rollout's batches hold one step of each
    env instead; where the text depends on its batch-mates, under bf16, that alone can change some of it)."""
    states, actions = inputs
    same = 0
    for start in range(0, len(states), batch):
        end = start + batch
        written = reflector.reflect(states[start:end], actions[start:end])
        same += sum(a == b for a, b in zip(written, expected[start:end], strict=True))
    return same / len(states)


def mean_tokens(tokenizer: Any, texts: list[str]) -> float | None:
    """The texts' mean length in tokens; ``None`` for none."""
    if not texts:
        return None
    return sum(len(tokenizer(text, add_special_tokens=False).input_ids) for text in texts) / len(texts)


def reflector_config(args: argparse.Namespace, **fields: Any) -> ReflectorConfig:
    """The benchmark's frozen reflector, with ``fields`` set."""
    settings = {
        "model": args.model,
        "adapter": args.reflector_adapter,
        "device": args.device,
        "max_new_tokens": args.max_new_tokens,
        "max_prompt_tokens": args.max_prompt_tokens,
        "autocast": args.autocast,
    }
    return ReflectorConfig(**settings | fields)


def decode_rows(env_id: str, args: argparse.Namespace, bandwidth: float) -> dict[str, Any]:
    """The decode-speed measurement on ``--num-envs`` of ``env_id``'s first states (the reflector as the main job
    runs it: packed weights where they apply, a ``--reflector-adapter`` merged)."""
    reflector = Reflector.from_config(reflector_config(args))
    envs = make_envs(env_id, args.num_envs, env_kwargs=env_kwargs(args))
    _, infos = envs.reset(seed=list(range(args.num_envs)))
    envs.close()
    prompts = [
        fit_state(
            reflector.tokenizer,
            lambda cut, i=i: reflector.template.reflector_prompt(cut, list(infos["actions"][i])),
            str(infos["state"][i]),
            args.max_prompt_tokens,
        )[1]
        for i in range(args.num_envs)
    ]
    # A decoding step reads every linear layer's weights (the output layer included); of the embeddings, one row.
    weights = sum(
        sum(p.numel() * p.element_size() for p in module.parameters(recurse=False))
        for module in reflector.model.modules()
        if isinstance(module, torch.nn.Linear)
    )
    floor_ms = 1000 * weights / bandwidth
    steps = decode_ms_per_step(reflector, prompts)
    return {
        "env": env_id,
        "batch": args.num_envs,
        "weights_bytes": weights,
        "bandwidth_gb_s": bandwidth / 1e9,
        "floor_ms_per_step": floor_ms,
        **steps,
        "fast_vs_floor": steps["fast_ms_per_step"] / floor_ms,
    }


def table(rows: list[dict[str, Any]], decode: list[dict[str, Any]]) -> str:
    """The results as Markdown."""
    lines = [
        "| env | variant | decisions/s | x policy-only | reflect s | policy s | env s | cache hit rate | "
        "tokens per reflection | decode ms/step (x floor) | steps per pass | episodes solved | same text |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    floors = {d["env"]: d["floor_ms_per_step"] for d in decode}
    for r in rows:
        hit = "" if r["cache_hit_rate"] is None else f"{100 * r['cache_hit_rate']:.0f}%"
        step = "" if r["decode_ms_per_step"] is None else f"{r['decode_ms_per_step']:.1f}"
        if step and r["env"] in floors:
            step += f" ({r['decode_ms_per_step'] / floors[r['env']]:.1f}x)"
        per_pass = "" if r["steps_per_pass"] is None else f"{r['steps_per_pass']:.2f}"
        tokens = "" if r["reflection_tokens"] is None else f"{r['reflection_tokens']:.1f}"
        same = "" if r["same_text"] is None else ("yes" if r["same_text"] else "no")
        if r["same_reflections"] is not None:
            same += f" ({100 * r['same_reflections']:.0f}% of the plain path's states)"
        lines.append(
            f"| {r['env']} | {r['variant']} | {r['decisions_per_s']:.2f} | {r['vs_policy_only']:.2f} | "
            f"{r['reflect_s']:.1f} | {r['policy_s']:.1f} | {r['env_s']:.2f} | {hit} | {tokens} | {step} | {per_pass} | "
            f"{100 * r['success_rate']:.0f}% | {same} |"
        )
    lines += [
        "",
        "| env | batch | generate ms/step | fast ms/step | weights-read floor ms/step | fast / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for d in decode:
        lines.append(
            f"| {d['env']} | {d['batch']} | {d['generate_ms_per_step']:.1f} | {d['fast_ms_per_step']:.1f} | "
            f"{d['floor_ms_per_step']:.1f} ({d['weights_bytes'] / 2**20:.0f} MiB at {d['bandwidth_gb_s']:.1f} GB/s) | "
            f"{d['fast_vs_floor']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reflect-rl speed rollout", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--envs", nargs="+", default=["DangerousTaxi-Dropoff-v0", "FileQA-Depth1-v0"])
    parser.add_argument("--num-envs", type=int, default=8, help="episodes per rollout (the batch)")
    parser.add_argument("--rollouts", type=int, default=3, help="rollouts per variant")
    parser.add_argument("--model", default="smollm2", help="base model of policy and reflector")
    parser.add_argument("--policy", default=None, help="a saved policy's folder to play (default: the base model)")
    parser.add_argument("--reflector-adapter", default=None, help="a warmed-up reflector's LoRA adapter folder")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=[name for name, variant in VARIANTS.items() if variant is not None],
        default=None,
        help="measure only these reflector variants (and policy only; default: all)",
    )
    parser.add_argument("--horizon", type=int, default=None, help="the envs' horizon (default: the registered one)")
    parser.add_argument("--max-new-tokens", type=int, default=100)
    parser.add_argument(
        "--max-prompt-tokens",
        type=int,
        default=None,
        help="prompt limit of policy and reflector (default: 1024 on FileQA, whose action lists are long, else 192, "
        "as the main job's presets)",
    )
    parser.add_argument(
        "--autocast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: where the device runs bf16 in hardware; fp32 elsewhere)",
    )
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--server-url", default=None, help="also measure a served reflector: an OpenAI-compatible server's API root"
    )
    parser.add_argument("--server-model", default=None, help="the model name sent to the server (default: --model)")
    parser.add_argument("--server-concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    parser.add_argument("--table", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    if min(args.num_envs, args.rollouts, args.max_new_tokens) < 1:
        parser.error("--num-envs, --rollouts and --max-new-tokens must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.autocast is None:
        args.autocast = native_bf16(args.device)
    rows, decode, bandwidth = [], [], None
    for name in args.envs:
        env_id = name if "/" in name else f"ReflectRL/{name}"
        limit = args.max_prompt_tokens or (1024 if "FileQA" in env_id else 192)
        env_args = argparse.Namespace(**{**vars(args), "max_prompt_tokens": limit})
        if args.policy is not None:
            policy = LMPolicy.load(args.policy, device=args.device)
        else:
            policy = LMPolicy.from_config(
                PolicyConfig(model=args.model, autocast=args.autocast, max_prompt_tokens=limit, device=args.device)
            )
        bandwidth = bandwidth or memory_bandwidth(policy.device)
        rows += measure_env(env_id, policy, env_args)
        decode.append(decode_rows(env_id, env_args, bandwidth))
        print(json.dumps(decode[-1]), flush=True)
    markdown = table(rows, decode)
    print(markdown, end="")
    result = {"args": vars(args) | {"out": str(args.out), "table": str(args.table)}, "rows": rows, "decode": decode}
    result["torch_threads"] = torch.get_num_threads()
    if args.out is not None:
        atomic_write(args.out, json.dumps(result, indent=2) + "\n")
    if args.table is not None:
        atomic_write(args.table, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
