"""Whether drafted tokens can pay for a warmed-up reflector: what a pass over more positions costs, and how many
tokens per pass n-gram drafts from its own earlier reflections would keep.

python -m experiments.reflector_speed.draft_probe --adapter RUN/reflector_adapter

1. SmolLM2 with the adapter merged, fp32 on the CPU: one pass of 8 rows x 1, 2, 4, 6, 8 positions after a
   110-token prompt (random tokens; the fastest of 3).
2. The reflector's reflections on 64 BabyAI GoToRedBall states (those of ``int8_quality``), replayed in order: from
   the 17th on, each is "decoded" with drafts of up to ``K`` tokens looked up by the last ``n`` tokens in a table
   of what followed them in the reflections before (the prompt's last 3 tokens lead each one); a pass keeps the
   right guesses plus one token. Prints the mean tokens per pass for n in 1, 2, 3 and K in 4, 8.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from transformers import DynamicCache

from experiments.reflector_speed.int8_quality import babyai_states, reflections
from reflect_agent.reflector import Reflector, ReflectorConfig


def pass_ms(model: torch.nn.Module, positions: int, rows: int = 8, prompt: int = 110) -> float:
    """The fastest of 3 passes of ``rows`` x ``positions`` tokens after a ``prompt``-token prefill, in ms."""
    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):
            cache = DynamicCache()
            model(input_ids=torch.randint(0, 1000, (rows, prompt)), cache=cache, use_cache=True)
            block = torch.randint(0, 1000, (rows, positions))
            start = time.perf_counter()
            model(input_ids=block, cache=cache, use_cache=True)
            best = min(best, time.perf_counter() - start)
    return 1000 * best


def tokens_per_pass(sequences: list[tuple[list[int], list[int]]], n: int, k: int, history: int = 16) -> float:
    """Replay ``(prompt tail, reflection)`` token sequences in order; after the first ``history``, the mean tokens
    per pass that drafts of up to ``k`` tokens, looked up by ``n`` tokens in the sequences before, would keep."""
    table: dict[tuple[int, ...], list[int]] = {}
    passes = tokens = 0
    for index, (tail, generated) in enumerate(sequences):
        if index >= history:
            context, done = list(tail), 0
            while done < len(generated):
                guess = table.get(tuple(context[-n:]), [])[:k]
                right = 0
                while right < len(guess) and done + right < len(generated) and guess[right] == generated[done + right]:
                    right += 1
                kept = min(right + 1, len(generated) - done)
                context += generated[done : done + kept]
                done += kept
                passes += 1
            tokens += len(generated)
        sequence = [*tail, *generated]
        for start in range(len(sequence) - n):
            table[tuple(sequence[start : start + n])] = sequence[start + n : start + n + k]
    return tokens / passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", required=True, help="the warmed-up reflector's LoRA adapter folder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    config = ReflectorConfig(
        model="smollm2", adapter=args.adapter, device="cpu", max_prompt_tokens=192, cache_entries=0, draft_tokens=0
    )
    reflector = Reflector.from_config(config)
    for positions in (1, 2, 4, 6, 8):
        print(f"8 rows x {positions} positions: {pass_ms(reflector.model, positions):.1f} ms", flush=True)
    states, actions = babyai_states(64)
    texts = reflections(reflector, states, actions)
    tokenizer = reflector.tokenizer
    prompts = [
        tokenizer(reflector.template.reflector_prompt(s, a)).input_ids for s, a in zip(states, actions, strict=True)
    ]
    sequences = [
        (prompt[-3:], tokenizer(f" {text.lstrip()}", add_special_tokens=False).input_ids)
        for prompt, text in zip(prompts, texts, strict=True)
    ]
    for n in (1, 2, 3):
        for k in (4, 8):
            print(f"n {n}, K {k}: {tokens_per_pass(sequences, n, k):.2f} tokens per pass", flush=True)


if __name__ == "__main__":
    main()
