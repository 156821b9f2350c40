"""``reflect-rl export``: merge a warmed-up reflector adapter into its base model, as a folder a server loads.

    reflect-rl export --model smollm2 --adapter runs/main/reflector_adapter --out runs/main/reflector_merged
    vllm serve runs/main/reflector_merged      # or: transformers serve, llama.cpp's convert_hf_to_gguf.py

Then point the frozen reflector at the server: ``ReflectorConfig(model="runs/main/reflector_merged",
server_url="http://127.0.0.1:8000/v1")`` (see :mod:`reflect_agent.served`). An existing ``--out`` that reflect-rl
did not write is refused (``--overwrite`` replaces it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import tyro

from reflect_agent.models import export_merged


@dataclass
class ExportArgs:
    """Merge a LoRA adapter into its base model and save a model folder with its tokenizer.

    Attributes:
        adapter: Folder of the LoRA adapter (e.g. ``reflect-rl sft --role reflector``'s ``--out``).
        out: The model folder to write.
        model: The base model spec the adapter was trained on (see :func:`reflect_agent.models.load_model`).
        dtype: Dtype of the saved weights (``float32``, ``bfloat16``, ``float16``); ``None``: float32.
        overwrite: Replace an existing ``out`` that reflect-rl did not write.
    """

    adapter: str
    out: str
    model: str = "smollm2"
    dtype: str | None = None
    overwrite: bool = False


def run(args: ExportArgs) -> int:
    """Write the merged folder of ``args`` and print where it went."""
    folder = export_merged(args.model, args.adapter, args.out, dtype=args.dtype, overwrite=args.overwrite)
    print(f"{args.model} + {args.adapter}: merged model saved to {folder}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl export ARGV``."""
    return run(tyro.cli(ExportArgs, args=argv, prog="reflect-rl export", description=__doc__))


if __name__ == "__main__":
    sys.exit(main())
