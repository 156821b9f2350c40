"""What padding costs a batch's prompt pass, and whether one pass per prompt writes the same reflections.

python -m experiments.reflector_speed.prefill_by_row --adapter RUN/reflector_adapter --records RUN/warmup.jsonl \
    --out results/prefill_by_row_fileqa_avx2.json

The warmed-up reflector (``--adapter``, merged, as RL runs it) on its own warm-up states (``--records``): ``--batches``
batches of 8 drawn at random (seeded; with more padding than ``--min-padding``), each prompt fitted to
``--max-prompt-tokens`` as the reflector fits it. For each batch, :func:`reflect_agent.decoding.greedy_decode` with
one padded pass over the prompts and with one pass per prompt (``PREFILL_BY_ROW_ABOVE`` forced either way): the
prompt pass's seconds (the fastest of 2 runs of one token) and the whole reflections' tokens, which must be the same.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from reflect_agent import decoding
from reflect_agent.prompts import fit_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_gym.files import atomic_write


def timed(reflector: Reflector, prompts: list[list[int]], tokens: int) -> tuple[float, list[list[int]]]:
    """Seconds and tokens of one :func:`greedy_decode` call as the reflector makes it."""
    start = time.perf_counter()
    with torch.inference_mode():
        generated, _ = decoding.greedy_decode(
            reflector.model,
            reflector.tokenizer,
            prompts,
            max_new_tokens=tokens,
            stop_strings=reflector.stop_strings,
        )
    return time.perf_counter() - start, generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", required=True)
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--min-padding", type=float, default=0.0, help="draw only batches with more padding than this")
    parser.add_argument("--max-prompt-tokens", type=int, default=1024)
    parser.add_argument("--max-new-tokens", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    reflector = Reflector.from_config(
        ReflectorConfig(model="smollm2", adapter=args.adapter, device="cpu", max_prompt_tokens=args.max_prompt_tokens)
    )
    records = [json.loads(line) for line in args.records.read_text().splitlines()]
    prompts = [
        fit_state(
            reflector.tokenizer,
            lambda cut, r=r: reflector.template.reflector_prompt(cut, list(r["actions"])),
            r["state"],
            args.max_prompt_tokens,
        )[1]
        for r in records
    ]
    rng = random.Random(0)
    rows = []
    with reflector._frozen():
        for _ in range(args.batches):
            batch = rng.sample(prompts, 8)
            while decoding._padding_share(batch) <= args.min_padding:
                batch = rng.sample(prompts, 8)
            row = {"padding_share": decoding._padding_share(batch), "tokens": [len(p) for p in batch]}
            texts = {}
            for name, threshold in (("padded", 1.0), ("by_row", 0.0)):
                decoding.PREFILL_BY_ROW_ABOVE = threshold
                row[f"{name}_prefill_s"] = min(timed(reflector, batch, 1)[0] for _ in range(2))
                row[f"{name}_reflection_s"], texts[name] = timed(reflector, batch, args.max_new_tokens)
            row["same_tokens"] = texts["padded"] == texts["by_row"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    totals = {key: sum(r[key] for r in rows) for key in ("padded_prefill_s", "by_row_prefill_s")}
    totals |= {key: sum(r[key] for r in rows) for key in ("padded_reflection_s", "by_row_reflection_s")}
    summary = {
        **totals,
        "padding_share": sum(r["padding_share"] for r in rows) / len(rows),
        "same_tokens": sum(r["same_tokens"] for r in rows),
        "batches": len(rows),
    }
    print(json.dumps(summary))
    if args.out is not None:
        atomic_write(
            args.out,
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "summary": summary, "rows": rows}, indent=2)
            + "\n",
        )


if __name__ == "__main__":
    main()
