"""Both players' SFT of the main job with and without the frozen blocks' activations kept between passes.

Trains the reflector (completion loss) and the policy (policy objective) on the records of a main-job warm-up, each
twice from the same seed: ``frozen_activations_gib=0`` (every pass runs every block) and the default (passes after
the first start at the first adapted block). Prints and saves the seconds, the logged losses and the largest
difference between the two runs' trained LoRA weights.

    python -m experiments.sft_frozen_blocks.ab --records RUN/warmup.jsonl --out experiments/sft_frozen_blocks/results/ab
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import torch

from reflect_agent.pipeline import in_hardware_precision, lora_targets, policy_config
from reflect_agent.policy import LMPolicy
from reflect_agent.presets import cpu
from reflect_agent.sft import sft_policy, sft_reflector
from reflect_agent.warmup import read_jsonl


def trained_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", required=True, help="warmup.jsonl of a main-job run (the cpu preset's)")
    parser.add_argument("--out", required=True, help="where <out>.json goes")
    parser.add_argument("--roles", nargs="+", default=["reflector", "policy"], choices=["reflector", "policy"])
    parser.add_argument(
        "--kept-first", action="store_true", help="train with the kept activations first, then without (order check)"
    )
    args = parser.parse_args()

    config = in_hardware_precision(cpu())
    agent, records = config.agent, read_jsonl(args.records)
    rows = []
    for role in args.roles:
        sft = config.warmup.reflector_sft if role == "reflector" else config.warmup.policy_sft
        budgets = (0.0, sft.frozen_activations_gib)
        for gib in reversed(budgets) if args.kept_first else budgets:
            run = dataclasses.replace(sft, frozen_activations_gib=gib)
            start = time.perf_counter()
            if role == "reflector":
                with tempfile.TemporaryDirectory() as folder:
                    # sft_reflector loads its own model; the weights are read back from the saved adapter.
                    _, result = sft_reflector(
                        agent.model,
                        records,
                        run,
                        Path(folder) / "adapter",
                        lora_target_modules=lora_targets(agent),
                        max_prompt_tokens=agent.reflector_tokens,
                        template=agent.template,
                        progress=False,
                    )
                    from safetensors.torch import load_file

                    weights = load_file(str(Path(folder) / "adapter" / "adapter_model.safetensors"))
            else:
                policy = LMPolicy.from_config(policy_config(agent))
                result = sft_policy(policy, records, run, progress=False)
                weights = trained_weights(policy.model)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "role": role,
                    "frozen_activations_gib": gib,
                    "seconds": seconds,
                    "steps": result.steps,
                    "losses": result.losses,
                    "weights": weights,
                }
            )
            print(
                f"{role} frozen_activations_gib={gib}: {seconds:.1f} s, {result.steps} steps, "
                f"losses {[round(x, 4) for x in result.losses]}",
                flush=True,
            )
    summary = []
    for role in args.roles:
        off, on = sorted((r for r in rows if r["role"] == role), key=lambda r: r["frozen_activations_gib"])
        diff = max((off["weights"][k] - on["weights"][k]).abs().max().item() for k in off["weights"])
        scale = max(off["weights"][k].abs().max().item() for k in off["weights"])
        loss_diff = max((abs(a - b) for a, b in zip(off["losses"], on["losses"], strict=True)), default=0.0)
        summary.append(
            {
                "role": role,
                "seconds_off": off["seconds"],
                "seconds_on": on["seconds"],
                "steps": on["steps"],
                "losses_off": off["losses"],
                "losses_on": on["losses"],
                "max_loss_diff": loss_diff,
                "max_weight_diff": diff,
                "max_weight": scale,
            }
        )
        print(
            f"{role}: {off['seconds']:.1f} -> {on['seconds']:.1f} s; largest loss difference {loss_diff:.2e}, "
            f"largest weight difference {diff:.2e} (largest weight {scale:.2e})",
            flush=True,
        )
    out = Path(args.out).with_suffix(".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "records": len(records),
                "threads": torch.get_num_threads(),
                "kept_first": args.kept_first,
                "roles": summary,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
