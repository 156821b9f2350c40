"""ms per greedy decoding step at batch 8: eager (the reflector's fast path) against torch.compile with a static KV
cache and frozen weights (inductor's CPU path), and whether both write the same tokens.

python -m experiments.reflector_speed.compile_decode [--model smollm2] [--steps 24] [--out results/compile_decode.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from transformers import StaticCache

from reflect_agent.models import autocast_weights, load_model
from reflect_agent.prompts import PromptTemplate
from reflect_agent.tensors import left_pad, position_ids_from
from reflect_agent.warmup import expert_records


def prompts_of(tokenizer, batch: int, tokens: int) -> list[list[int]]:
    """Reflector prompts of DangerousTaxi dropoff states, cut to their last ``tokens`` tokens."""
    records = expert_records("ReflectRL/DangerousTaxi-Dropoff-v0", range(batch), perturb_prob=0.0)[:batch]
    template = PromptTemplate()
    return [tokenizer(template.reflector_prompt(r.state, r.actions)).input_ids[-tokens:] for r in records]


@torch.inference_mode()
def decode(model, tokenizer, prompts, steps: int, forward) -> tuple[list[list[int]], float, float]:
    """Greedy tokens of every row for ``steps`` steps through a static cache; (tokens, prefill s, ms per step)."""
    input_ids, attention_mask = left_pad([list(p) for p in prompts], tokenizer.pad_token_id)
    batch, length = input_ids.shape
    cache = StaticCache(config=model.config, max_batch_size=batch, max_cache_len=length + steps)
    mask = torch.zeros(batch, length + steps, dtype=attention_mask.dtype)
    mask[:, :length] = attention_mask
    positions = position_ids_from(attention_mask)
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(
            input_ids=input_ids,
            attention_mask=mask[:, :length],
            position_ids=positions,
            cache=cache,
            cache_position=torch.arange(length),
            use_cache=True,
        ).logits[:, -1]
    prefill = time.perf_counter() - start
    tokens = [logits.argmax(-1)]
    position = positions[:, -1:] + 1
    start = time.perf_counter()
    for step in range(steps - 1):
        mask[:, length + step] = 1
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = forward(
                input_ids=tokens[-1][:, None],
                attention_mask=mask,
                position_ids=position,
                cache=cache,
                cache_position=torch.tensor([length + step]),
                use_cache=True,
            ).logits[:, -1]
        tokens.append(logits.argmax(-1))
        position = position + 1
    per_step = 1000 * (time.perf_counter() - start) / (steps - 1)
    return torch.stack(tokens, 1).tolist(), prefill, per_step


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=192)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--freeze", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model, device="cpu")
    autocast_weights(model.eval())
    prompts = prompts_of(tokenizer, args.batch, args.prompt_tokens)
    results = {}
    eager = [decode(model, tokenizer, prompts, args.steps, model) for _ in range(2)][-1]
    results["eager"] = {"prefill_s": eager[1], "ms_per_step": eager[2]}
    torch._inductor.config.freezing = args.freeze  # weights become constants: prepacked once for the CPU kernels
    started = time.perf_counter()
    compiled = torch.compile(model, dynamic=False)
    first = decode(model, tokenizer, prompts, args.steps, compiled)
    results["compile_s"] = time.perf_counter() - started
    again = [decode(model, tokenizer, prompts, args.steps, compiled) for _ in range(2)][-1]
    results["compiled"] = {"prefill_s": again[1], "ms_per_step": again[2]}
    results["same_tokens"] = eager[0] == first[0] == again[0]
    results["rows_equal"] = sum(a == b for a, b in zip(eager[0], again[0], strict=True))
    results["setup"] = vars(args) | {"out": str(args.out), "torch": torch.__version__}
    print(json.dumps(results, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
