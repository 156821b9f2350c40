"""Train a language model on a ReflectRL env with TRL's ``GRPOTrainer``, through :mod:`reflect_gym.interop.trl`.

    python -m examples.trl_grpo                  # the tiny random model, 2 GRPO steps on CPU: a smoke run
    python -m examples.trl_grpo --model path/to/Qwen2.5-0.5B-Instruct --env-id ReflectRL/FileQA-Depth0-v0 \\
        --steps 200 --num-generations 8 --learning-rate 1e-6

The model plays each episode by calling the tools ``act`` (an action's text or number) and ``act_by_index``;
TRL runs the tool calls, shows the model what they return, and trains on the episode's return
(``get_reward``). Every dataset row carries a ``seed``, and TRL repeats a row for the ``--num-generations``
rollouts of a GRPO group, so the rollouts of a group play the same episode.

``--model`` is a spec of :func:`reflect_agent.models.load_model`: ``tiny`` (a random 2-layer Llama with SmolLM2's
tokenizer, which never calls a tool but runs every part of the trainer on a CPU in about a minute), ``smollm2``, or
a local model folder. Nothing is downloaded. The chat template must render tool calls; a ChatML tokenizer without
tool support (SmolLM2's) is given TRL's Qwen2.5 template, which is ChatML with tool calls. The trainer's state, with
its logged metrics, is saved to ``<output-dir>/trainer_state.json``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

import torch
import tyro
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import GRPOConfig, GRPOTrainer
from trl.chat_template_utils import qwen2_5_chat_template, supports_tool_calling

from reflect_agent.models import load_model
from reflect_gym.interop.trl import environment_factory

SYSTEM_PROMPT = "You are an agent that plays text games by calling tools."


@dataclasses.dataclass
class TRLGRPOArgs:
    """GRPO on a ReflectRL env with TRL."""

    env_id: str = "ReflectRL/DangerousTaxi-v0"
    """The ReflectRL env to train on."""
    model: str = "tiny"
    """The policy: a spec of reflect_agent.models.load_model (tiny, smollm2, a local model folder)."""
    steps: int = 2
    """GRPO optimizer steps."""
    episodes: int = 16
    """Distinct episodes (seeds 0..episodes-1) in the dataset; rows cycle when steps need more."""
    num_generations: int = 2
    """Rollouts per episode (the GRPO group); also the batch size of a step."""
    max_completion_length: int = 64
    """Tokens the model generates per rollout, tool results included."""
    max_tool_calls: int = 8
    """Most tool-calling rounds per rollout."""
    learning_rate: float = 1e-5
    """AdamW learning rate."""
    output_dir: str = "runs/trl_grpo"
    """Where the trainer writes (trainer_state.json)."""
    seed: int = 0
    """The trainer's seed."""

    def __post_init__(self) -> None:
        if self.num_generations < 2:
            raise ValueError(
                f"num_generations must be at least 2 (GRPO compares rollouts within a group), got "
                f"{self.num_generations}; pass --num-generations 2 or more."
            )
        if self.steps < 1 or self.episodes < 1:
            raise ValueError(
                f"steps and episodes must be at least 1, got steps={self.steps}, episodes={self.episodes}."
            )


def load_policy(spec: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and tokenizer of ``spec``, with a chat template that renders tool calls (see the docstring).

    Raises:
        ValueError: The tokenizer's chat template renders no tool calls and is not ChatML.
    """
    model, tokenizer = load_model(spec)
    if not supports_tool_calling(tokenizer):
        if "<|im_start|>" not in (tokenizer.chat_template or ""):
            raise ValueError(
                f"The chat template of {spec!r} renders no tool calls, and it is not ChatML, so TRL's ChatML tool "
                "template cannot stand in for it; use a model whose template supports tools (Qwen2.5, Qwen3, "
                "Llama 3.1, ...) or set tokenizer.chat_template to one that does."
            )
        tokenizer.chat_template = qwen2_5_chat_template
    return model, tokenizer


def episode_dataset(episodes: int) -> Dataset:
    """One row per episode: the system prompt (the env's reset adds the instructions and the observation) and
    the seed that picks the episode."""
    prompt = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": ""}]
    return Dataset.from_dict({"prompt": [prompt] * episodes, "seed": list(range(episodes))})


def build_trainer(args: TRLGRPOArgs) -> GRPOTrainer:
    """The ``GRPOTrainer`` of ``args``: the policy, the episode dataset and the env as ``environment_factory``."""
    model, tokenizer = load_policy(args.model)
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.steps,
        per_device_train_batch_size=args.num_generations,
        num_generations=args.num_generations,
        max_completion_length=args.max_completion_length,
        max_tool_calling_iterations=args.max_tool_calls,
        learning_rate=args.learning_rate,
        # GRPOConfig turns on bf16 and activation checkpointing by default; follow the weights instead, so that a
        # CPU run trains in fp32.
        bf16=model.dtype == torch.bfloat16,
        activation_checkpointing=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
    )
    return GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=config,
        train_dataset=episode_dataset(args.episodes),
        environment_factory=environment_factory(args.env_id),
    )


def run(args: TRLGRPOArgs) -> GRPOTrainer:
    """Train for ``args.steps`` steps and save the trainer's state; returns the trainer."""
    trainer = build_trainer(args)
    trainer.train()
    trainer.save_state()
    return trainer


def main(argv: Sequence[str] | None = None) -> int:
    args = tyro.cli(TRLGRPOArgs, args=argv, prog="python -m examples.trl_grpo", description=__doc__)
    trainer = run(args)
    last = trainer.state.log_history[-1]
    print(f"{trainer.state.global_step} steps; the last logged metrics: {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
