"""The warmed-up reflector's analyses of a main-job warm-up's states, as the pipeline asks for them (one call) or in
chunks, with and without drafted tokens: seconds (prompt passes / decoding), decoding passes, and whether each
variant writes the first variant's texts.

    python -m experiments.reflector_speed.warmup_analyses --art RUN --out experiments/reflector_speed/results/warmup_analyses.json

``RUN`` holds a `make main` run's ``warmup.jsonl`` and ``reflector_adapter``. A variant is ``CHUNK:DRAFTS``: ``all:8``
is the pipeline's call (every state at once, 8 drafted tokens per pass), ``32:0`` chunks of 32 without drafts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from reflect_agent.pipeline import in_hardware_precision
from reflect_agent.presets import cpu
from reflect_agent.prompts import reflector_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.warmup import read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--art", required=True, help="a make main run's folder (warmup.jsonl, reflector_adapter)")
    parser.add_argument("--variants", nargs="+", default=["all:8", "all:0", "32:8", "32:0", "8:8"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    agent = in_hardware_precision(cpu()).agent
    records = read_jsonl(Path(args.art) / "warmup.jsonl")
    states = [reflector_state(r.state, r.previous_action) for r in records]
    actions = [r.actions for r in records]
    rows: list[dict] = []
    reference: list[str] | None = None
    for variant in args.variants:
        chunk, drafts = variant.split(":")
        config = ReflectorConfig(
            model=agent.model,
            adapter=str(Path(args.art) / "reflector_adapter"),
            max_new_tokens=agent.max_new_tokens,
            max_prompt_tokens=agent.reflector_tokens,
            template=agent.template,
            autocast=agent.autocast,
            draft_tokens=int(drafts),
        )
        reflector = Reflector.from_config(config)  # a fresh one: empty cache, no drafts learnt
        size = len(states) if chunk == "all" else int(chunk)
        start = time.perf_counter()
        texts: list[str] = []
        for i in range(0, len(states), size):
            texts += reflector.reflect(states[i : i + size], actions[i : i + size])
        seconds = time.perf_counter() - start
        stats = reflector.decode_stats
        reference = reference or texts
        rows.append(
            {
                "variant": variant,
                "seconds": seconds,
                "prefill_s": stats.prefill_s,
                "decode_s": stats.decode_s,
                "passes": stats.passes,
                "steps": stats.steps,
                "same_texts": sum(a == b for a, b in zip(texts, reference, strict=True)),
                "states": len(states),
            }
        )
        print(rows[-1], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
