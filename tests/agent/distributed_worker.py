"""What the data-parallel tests launch in each process (``accelerate launch ... -m tests.agent.distributed_worker``).

    ... -m tests.agent.distributed_worker rl RECORD [TrainConfig arguments]
    ... -m tests.agent.distributed_worker sft ROLES DATA RECORD

``rl`` runs :func:`reflect_agent.ppo.main` on the toy envs (registered here) with the config the arguments give, and
records in folder RECORD what each process did: ``rollouts_<rank>.json`` (the reset seeds and decisions of every
rollout it played) and, at its first update, ``update_<rank>.pt`` (the batch, the settings, the shuffling
generator's state, the start policy's log-probabilities, the trainable weights before and after, and the returned
metrics). It patches only names that the one-process trainer has too, so it runs on any version of it.

``sft`` warms up tiny ``ROLES`` (``policy``: the policy objective; ``reflector``: the completion objective; ``both``)
on the records in DATA, from adapters without dropout, with :data:`SFT_SETTINGS`, and saves each process's trainable
weights to ``RECORD/sft_<role>_<rank>.pt``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import tyro

import reflect_agent.ppo as ppo
from reflect_agent.config import TrainConfig
from reflect_agent.models import apply_lora, load_model
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.prompts import PromptTemplate
from reflect_agent.sft import SFTConfig, sft_policy, train_completions
from reflect_agent.sft_examples import reflector_examples
from reflect_agent.warmup import read_jsonl
from tests.agent import toy_envs  # noqa: F401  (registers the toy envs)
from tests.agent.toy_envs import trainable_state

#: The warm-up of the ``sft`` command: 3 steps of 8 examples.
SFT_SETTINGS = SFTConfig(max_steps=3, batch_size=8, learning_rate=1e-2, logging_steps=1)


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def record_rl(record: Path) -> None:
    """Wrap the trainer's rollout and update so that they record what this process saw and did."""
    collect, update = ppo.collect_rollout, ppo.update_policy
    rollouts: list[dict] = []

    def recorded_collect(envs, policy, reflector, seeds, **kwargs):
        rollout = collect(envs, policy, reflector, seeds, **kwargs)
        rollouts.append({"seeds": list(map(int, seeds)), "decisions": len(rollout)})
        (record / f"rollouts_{rank()}.json").write_text(json.dumps(rollouts))
        return rollout

    def recorded_update(policy, optimizer, rollout, config, generator, **kwargs):
        path = record / f"update_{rank()}.pt"
        if path.exists():
            return update(policy, optimizer, rollout, config, generator, **kwargs)
        before = {"weights": trainable_state(policy), "generator": generator.get_state()}
        metrics = update(policy, optimizer, rollout, config, generator, **kwargs)
        torch.save(
            {
                **before,
                "rollout": rollout,
                "config": config,
                "start_logprobs": kwargs.get("start_logprobs"),
                "after": trainable_state(policy),
                "metrics": metrics,
            },
            path,
        )
        return metrics

    ppo.collect_rollout, ppo.update_policy = recorded_collect, recorded_update


def sft(roles: str, data: str, record: Path) -> None:
    """Warm up each of ``roles`` (``policy``, ``reflector`` or ``both``) and save this process's trainable weights."""
    record.mkdir(parents=True, exist_ok=True)
    records = read_jsonl(data)
    for role in ("policy", "reflector") if roles == "both" else (roles,):
        if role == "policy":
            policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora_dropout=0.0))
            sft_policy(policy, records, SFT_SETTINGS, progress=False)
            weights = trainable_state(policy)
        else:
            model, tokenizer = load_model("tiny", device="cpu")
            model = apply_lora(model, dropout=0.0)
            examples = reflector_examples(tokenizer, PromptTemplate(), records, max_prompt_tokens=256)
            train_completions(model, tokenizer, examples, SFT_SETTINGS, progress=False)
            weights = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
        torch.save(weights, record / f"sft_{role}_{rank()}.pt")


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "rl":
        record = Path(args[0])
        record.mkdir(parents=True, exist_ok=True)
        record_rl(record)
        ppo.main(tyro.cli(TrainConfig, args=args[1:]))
    else:
        roles, data, record = args
        sft(roles, data, Path(record))


if __name__ == "__main__":
    main()
