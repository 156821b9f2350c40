"""Keep the output of an LM's frozen leading blocks, and start later forward passes after them.

With LoRA on the last blocks only (the CPU presets adapt the last 10 of SmolLM2's 30), the blocks before the first
adapter compute the same function before and after every update: a decision's hidden states entering the first
trainable block are fixed once the prompt is. The rollout's forward pass computes them anyway, so RL keeps them
(:func:`recording`) and its update, and the KL to the start policy, run only the trainable blocks from there
(:func:`resuming`): the same outputs up to float rounding, for a fraction of the forward pass. SFT keeps them from
each example's first pass for its later ones (:class:`reflect_agent.sft.FrozenActivations`).

Both work on the LM's body (``lm.base_model``: Llama, Qwen, GPT-2 and the other decoder-only models of transformers
whose blocks are one ``nn.ModuleList``), through the body's own forward pass: it still embeds the tokens and builds
the attention mask and the position embeddings, then runs only the blocks from the first trainable one, whose
input is replaced by the kept hidden states.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from transformers import PreTrainedModel

#: Where decoder-only models of transformers keep their blocks (Llama, Qwen, Mistral: ``layers``; GPT-2: ``h``).
_BLOCK_ATTRIBUTES = ("layers", "h", "blocks")


def decoder_blocks(body: nn.Module) -> tuple[str, nn.ModuleList] | None:
    """The attribute name and the ``nn.ModuleList`` of ``body``'s transformer blocks, or ``None`` if it has none."""
    for name in _BLOCK_ATTRIBUTES:
        blocks = getattr(body, name, None)
        if isinstance(blocks, nn.ModuleList) and len(blocks):
            return name, blocks
    return None


def frozen_block_count(lm: PreTrainedModel) -> int:
    """How many leading blocks of ``lm`` nothing trains, when every trainable weight lies in the blocks after them.

    0 when the output of the leading blocks cannot be reused: nothing is frozen (full fine-tuning, LoRA on the first
    block), a weight outside the blocks trains (embeddings, the output layer), or the body's blocks are not found.
    """
    found = decoder_blocks(lm.base_model)
    if found is None:
        return 0
    _, blocks = found
    in_blocks = {id(p): index for index, block in enumerate(blocks) for p in block.parameters()}
    trainable = [p for p in lm.parameters() if p.requires_grad]
    if not trainable or any(id(p) not in in_blocks for p in trainable):
        return 0
    return min(in_blocks[id(p)] for p in trainable)


@contextlib.contextmanager
def recording(lm: PreTrainedModel, count: int) -> Iterator[list[torch.Tensor]]:
    """Within this context, each forward pass of ``lm`` appends the hidden states ``(B, T, H)`` entering block
    ``count`` (the output of the first ``count`` blocks) to the yielded list, detached."""
    _, blocks = _blocks(lm, count)
    kept: list[torch.Tensor] = []

    def keep(_module: nn.Module, args: tuple, kwargs: dict) -> None:
        kept.append((args[0] if args else kwargs["hidden_states"]).detach())

    handle = blocks[count].register_forward_pre_hook(keep, with_kwargs=True)
    try:
        yield kept
    finally:
        handle.remove()


@contextlib.contextmanager
def resuming(lm: PreTrainedModel, count: int, hidden: torch.Tensor) -> Iterator[None]:
    """Within this context, a forward pass of ``lm`` skips its first ``count`` blocks and feeds ``hidden``
    ``(B, T, H)`` (kept by :func:`recording` for the same tokens) to block ``count``; everything else (embedding,
    attention mask, positions, the later blocks, the final norm) runs as usual. One forward pass per context."""
    name, blocks = _blocks(lm, count)
    body = lm.base_model

    def replace(_module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if args:
            return (hidden.to(args[0].dtype), *args[1:]), kwargs
        return args, kwargs | {"hidden_states": hidden.to(kwargs["hidden_states"].dtype)}

    handle = blocks[count].register_forward_pre_hook(replace, with_kwargs=True)
    # The body loops over its block list: hand it the later blocks (the same modules, so their weights, adapters
    # and any parameters swapped in by torch.func.functional_call are the ones that run).
    setattr(body, name, nn.ModuleList(blocks[count:]))
    try:
        yield
    finally:
        setattr(body, name, blocks)
        handle.remove()


def dropout_free(lm: PreTrainedModel, count: int) -> bool:
    """Whether ``lm``'s embedding and first ``count`` blocks compute the same in training mode as in eval mode: no
    dropout module and no attention dropout rate above zero there, and no dropout rate above zero in its
    configuration, which some models apply as a function (GPT-2's defaults have all three; SmolLM2's none).

    Hidden states kept from a pass in training mode stand for later passes only when this holds.
    """
    rates = {key: value for key, value in lm.config.to_dict().items() if "drop" in key and isinstance(value, float)}
    if any(rate > 0 for rate in rates.values()):
        return False
    _, blocks = _blocks(lm, count)
    later = {id(m) for block in blocks[count:] for m in block.modules()}
    for module in lm.base_model.modules():
        if id(module) in later:
            continue
        if isinstance(module, nn.Dropout) and module.p > 0:
            return False
        rate = getattr(module, "attention_dropout", 0.0)  # Llama's, Qwen's, Mistral's attention: a float
        if isinstance(rate, float) and rate > 0:
            return False
    return True


def _blocks(lm: PreTrainedModel, count: int) -> tuple[str, nn.ModuleList]:
    found = decoder_blocks(lm.base_model)
    if found is None:
        raise ValueError(f"{type(lm.base_model).__name__} keeps its blocks in none of {_BLOCK_ATTRIBUTES}.")
    if not 0 < count < len(found[1]):
        raise ValueError(f"count must be between 1 and {len(found[1]) - 1} (the blocks before the last), got {count}.")
    return found
