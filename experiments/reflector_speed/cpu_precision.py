"""SmolLM2's prefill (8 x 200 tokens) and decoding step (batch 8) on this CPU in each precision the reflector can run
in, and with a warmed-up reflector's LoRA adapter kept beside the weights or merged into them.

python -m experiments.reflector_speed.cpu_precision --out experiments/reflector_speed/results/cpu_precision.json

Rows: fp32; bf16 autocast over fp32 weights (what autocast=True ran before `native_bf16` chose); bf16 autocast over
weights kept in bf16 (`autocast_weights`, what a frozen reflector holds under autocast); int8 dynamic quantization of
the linear layers (torch.ao, fbgemm/x86); fp32 with LoRA (r 8) on the last 10 blocks, unmerged and merged.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import platform
import time
import warnings
from pathlib import Path

import torch

from reflect_agent.config import top_layers_lora_targets
from reflect_agent.models import apply_lora, autocast_weights, load_model, native_bf16
from reflect_gym.files import atomic_write


def measure(model: torch.nn.Module, autocast: bool, steps: int = 8, repeats: int = 3) -> dict[str, float]:
    """The fastest of ``repeats`` prefills of 8 x 200 tokens (seconds) and of ``repeats`` runs of ``steps`` decoding
    steps after one (ms per step)."""
    input_ids = torch.randint(0, 1000, (8, 200), generator=torch.Generator().manual_seed(0))
    context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    prefill, decode = float("inf"), float("inf")
    with torch.inference_mode(), context:
        for _ in range(repeats):
            start = time.perf_counter()
            out = model(input_ids=input_ids, use_cache=True)
            prefill = min(prefill, time.perf_counter() - start)
            cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
            start = time.perf_counter()
            for _ in range(steps):
                out = model(input_ids=token, past_key_values=cache, use_cache=True)
                cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
            decode = min(decode, (time.perf_counter() - start) / steps)
    return {"prefill_s": prefill, "decode_ms_per_step": 1000 * decode}


def cpu_name() -> str:
    """The CPU's model name and its bf16-relevant flags, from /proc/cpuinfo where there is one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    wanted = [flag for flag in flags if flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")]
    return f"{name} ({' '.join(wanted)})"


def report(result: dict, out: Path | None) -> None:
    """Print ``result`` with this machine's CPU, torch threads and version, as JSON, and write it to ``out``."""
    result = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__, **result}
    text = json.dumps(result, indent=2) + "\n"
    print(text, end="")
    if out is not None:
        atomic_write(out, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)  # transformers' notices on the cache argument
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.ao.quantization's
    base, _ = load_model("smollm2", device="cpu", dtype=torch.float32)
    base.eval().requires_grad_(False)
    rows = {"fp32": measure(base, autocast=False)}
    rows["bf16 autocast, fp32 weights"] = measure(base, autocast=True)
    rows["bf16 autocast, bf16 weights"] = measure(autocast_weights(copy.deepcopy(base)), autocast=True)
    quantized = torch.ao.quantization.quantize_dynamic(base, {torch.nn.Linear}, dtype=torch.qint8)
    rows["int8 dynamic"] = measure(quantized, autocast=False)
    adapted = apply_lora(copy.deepcopy(base), target_modules=top_layers_lora_targets("smollm2", 10)).eval()
    rows["fp32, LoRA unmerged"] = measure(adapted, autocast=False)
    rows["fp32, LoRA merged"] = measure(adapted.merge_and_unload(), autocast=False)
    report({"native_bf16": native_bf16("cpu"), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
