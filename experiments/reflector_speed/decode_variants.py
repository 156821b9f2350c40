"""ms per greedy decoding step of SmolLM2 at batch 8, for six ways of holding and running its weights.

python -m experiments.reflector_speed.decode_variants
"""

from __future__ import annotations

import contextlib
import json
import time

import torch

from reflect_agent.decoding import greedy_decode
from reflect_agent.models import autocast_weights, load_model, pack_linears
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.warmup import expert_records


def measure(model, tokenizer, records, *, autocast: bool, steps: int = 24) -> dict[str, object]:
    """Prefill seconds, ms per step after it (no EOS, so every row writes ``steps`` tokens), and the tokens."""
    reflector = Reflector(model, tokenizer, ReflectorConfig(max_prompt_tokens=192))
    prompts = [tokenizer(reflector.template.reflector_prompt(r.state, r.actions)).input_ids[-192:] for r in records]

    def context():
        return torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()

    class NoEnd:
        pad_token_id, eos_token_id = tokenizer.pad_token_id, -1
        decode = staticmethod(tokenizer.decode)

    def run(tokens: int) -> tuple[float, int, list[list[int]]]:
        start = time.perf_counter()
        written, passes = greedy_decode(model, NoEnd(), prompts, max_new_tokens=tokens, autocast=context)
        return time.perf_counter() - start, passes, written

    with torch.inference_mode():
        run(2)
        one = min(run(1)[0] for _ in range(2))
        many, passes, written = min(run(steps) for _ in range(2))
    return {"prefill_s": one, "ms_per_step": 1000 * (many - one) / (passes - 1), "tokens": written}


def main() -> dict[str, dict[str, float]]:
    torch.set_num_threads(2)
    records = expert_records("ReflectRL/DangerousTaxi-Dropoff-v0", range(8), perturb_prob=0.0)[:8]
    results = {}
    model, tokenizer = load_model("smollm2", device="cpu")
    results["fp32 model, no autocast"] = measure(model.eval(), tokenizer, records, autocast=False)
    results["fp32 model, bf16 autocast"] = measure(model, tokenizer, records, autocast=True)
    model, tokenizer = load_model("smollm2", device="cpu", dtype="bfloat16")
    results["bf16 model, no autocast"] = measure(model.eval(), tokenizer, records, autocast=False)
    policy = LMPolicy.from_config(PolicyConfig(model="smollm2", device="cpu", autocast=True))
    with policy.model.disable_adapter():
        results["shared LoRA policy (adapters off), bf16 autocast"] = measure(
            policy.model, policy.tokenizer, records, autocast=True
        )
    model, tokenizer = load_model("smollm2", device="cpu")
    autocast_weights(model.eval())
    results["bf16 weights, bf16 autocast"] = measure(model, tokenizer, records, autocast=True)
    pack_linears(model)
    results["bf16 weights packed for oneDNN, bf16 autocast"] = packed = measure(
        model, tokenizer, records, autocast=True
    )
    packed["same_tokens_as_unpacked"] = packed["tokens"] == results["bf16 weights, bf16 autocast"]["tokens"]
    for result in results.values():
        del result["tokens"]
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
