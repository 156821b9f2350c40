"""What int8 weights cost a warmed-up reflector's text: its reflections on BabyAI states against fp32's, and its speed.

python -m experiments.reflector_speed.int8_quality --adapter RUN/reflector_adapter \
    --out experiments/reflector_speed/results/int8_quality_avx2.json

The reflector is SmolLM2 with the main job's warmed-up adapter merged (``ReflectorConfig`` defaults, fp32 on the
CPU). It reflects on ``--states`` BabyAI GoToRedBall states (seed ``1000 + i``, after ``i % 4`` steps forward), 8 at
a time, in fp32 and with its linear layers quantized by PyTorch's dynamic quantization (``torch.ao``, the ``x86``
engine: int8 weights, each input quantized on the fly with one scale per tensor) in three ways: one scale per weight
tensor, one per output channel, and one per output channel with the output layer kept in fp32. Each row: the share
of states whose reflection equals fp32's, a few of the reflections, and the prefill / decoding-step times of
:func:`experiments.reflector_speed.cpu_precision.measure`.
"""

from __future__ import annotations

import argparse
import copy
import json
import warnings
from pathlib import Path

import gymnasium as gym
import torch
from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from experiments.reflector_speed.cpu_precision import measure, report
from reflect_agent.reflector import Reflector, ReflectorConfig


def babyai_states(count: int) -> tuple[list[str], list[list[str]]]:
    """``count`` GoToRedBall states and their actions: seed ``1000 + i`` after ``i % 4`` steps forward."""
    states, actions = [], []
    for i in range(count):
        env = gym.make("ReflectRL/BabyAI-GoToRedBall-v0")
        _, info = env.reset(seed=1000 + i)
        for _ in range(i % 4):
            _, _, terminated, truncated, info = env.step(info["actions"].index("go forward"))
            if terminated or truncated:
                break
        states.append(info["state"])
        actions.append(list(info["actions"]))
        env.close()
    return states, actions


def reflections(reflector: Reflector, states: list[str], actions: list[list[str]]) -> list[str]:
    """The reflector's analyses, 8 states at a time."""
    return [text for i in range(0, len(states), 8) for text in reflector.reflect(states[i : i + 8], actions[i : i + 8])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", required=True, help="the warmed-up reflector's LoRA adapter folder")
    parser.add_argument("--states", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)  # transformers' notices on the cache argument
    warnings.filterwarnings("ignore", message=r"torch\.(ao\.quantization|quantize_per_tensor)")  # deprecated in torch
    config = ReflectorConfig(
        model="smollm2", adapter=args.adapter, device="cpu", max_prompt_tokens=192, cache_entries=0, draft_tokens=0
    )
    fp32 = Reflector.from_config(config)
    states, actions = babyai_states(args.states)
    expected = reflections(fp32, states, actions)
    rows = {"fp32": {"same_as_fp32": 1.0, "examples": expected[:4], **measure(fp32.model, autocast=False)}}
    variants = {
        "int8, one scale per weight tensor": ({torch.nn.Linear: default_dynamic_qconfig}, True),
        "int8, one scale per output channel": ({torch.nn.Linear: per_channel_dynamic_qconfig}, True),
        "int8 per output channel, output layer fp32": ({torch.nn.Linear: per_channel_dynamic_qconfig}, False),
    }
    for name, (spec, with_head) in variants.items():
        reflector = copy.copy(fp32)
        reflector.model = copy.deepcopy(fp32.model)
        target = reflector.model if with_head else reflector.model.model
        torch.ao.quantization.quantize_dynamic(target, spec, dtype=torch.qint8, inplace=True)
        written = reflections(reflector, states, actions)
        same = sum(a == b for a, b in zip(written, expected, strict=True)) / len(states)
        rows[name] = {"same_as_fp32": same, "examples": written[:4], **measure(reflector.model, autocast=False)}
        print(name, json.dumps(rows[name]), flush=True)
    report({"rows": rows}, args.out)


if __name__ == "__main__":
    main()
