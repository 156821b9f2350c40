"""Where a greedy decoding step of SmolLM2 at batch 8 spends its time: torch's profiler over decoding steps of the
reflector's fast path (bf16 weights under autocast), grouped by operator.

python -m experiments.reflector_speed.profile_decode [--steps 16] [--threads 2] [--out results/profile_decode.txt]
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from experiments.reflector_speed.compile_decode import prompts_of
from reflect_agent.decoding import greedy_decode
from reflect_agent.models import autocast_weights, load_model


def main() -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model("smollm2", device="cpu")
    autocast_weights(model.eval())
    prompts = prompts_of(tokenizer, 8, 192)

    class NoEnd:  # every row writes all its tokens
        pad_token_id, eos_token_id = tokenizer.pad_token_id, -1
        decode = staticmethod(tokenizer.decode)

    def autocast() -> contextlib.AbstractContextManager:
        return torch.autocast("cpu", dtype=torch.bfloat16)

    greedy_decode(model, NoEnd(), prompts, max_new_tokens=4, autocast=autocast)  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        greedy_decode(model, NoEnd(), prompts, max_new_tokens=args.steps, autocast=autocast)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)
    text = f"steps {args.steps} (the first is the prompt's), threads {args.threads}, torch {torch.__version__}\n{table}"
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
