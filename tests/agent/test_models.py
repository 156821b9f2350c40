"""Model loading, device and dtype choice, the conversion cache, and LoRA adapters."""

from __future__ import annotations

import shutil

import pytest
import torch

from reflect_agent import models
from reflect_agent.models import (
    apply_lora,
    default_dtype,
    load_lora,
    load_model,
    load_tokenizer,
    lora_target_modules,
    resolve_dtype,
)


def test_device_and_dtype_defaults():
    assert default_dtype("cpu") == torch.float32
    assert resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert resolve_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(ValueError, match="'float33'"):
        resolve_dtype("float33", torch.device("cpu"))
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        assert default_dtype("cuda") == torch.bfloat16


def test_tiny_model_is_seeded_and_padded_on_the_left(tiny):
    model, tokenizer = tiny
    again, _ = load_model("tiny", device="cpu")
    assert model.config.model_type == "llama" and model.config.hidden_size == 64
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True))
    assert tokenizer.padding_side == "left" and tokenizer.pad_token_id is not None
    assert not model.training
    torch.manual_seed(123)
    expected = torch.randn(3)
    torch.manual_seed(123)
    load_model("tiny", device="cpu")  # seeding its weights must leave the caller's global generator alone
    assert torch.equal(torch.randn(3), expected)


def test_gpt2_random_uses_gpt2s_real_tokenizer(gpt2_tokenizer):
    assert gpt2_tokenizer("Hello world").input_ids == [15496, 995]  # GPT-2's ids
    assert len(gpt2_tokenizer) == 50257
    assert gpt2_tokenizer.pad_token == gpt2_tokenizer.eos_token == "<|endoftext|>"


def test_lora_targets_per_architecture(tiny):
    model, _ = tiny
    assert lora_target_modules(model) == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    config = type("Config", (), {"model_type": "gpt2"})()
    assert lora_target_modules(type("M", (), {"config": config})()) == ["c_attn", "c_proj", "c_fc"]
    config.model_type = "mamba"
    with pytest.raises(ValueError, match="'mamba'"):
        lora_target_modules(type("M", (), {"config": config})())


def test_lora_adapters_save_and_load_on_their_own(tmp_path):
    base, _ = load_model("tiny", device="cpu")
    peft_model = apply_lora(base, r=4)
    trainable = {n for n, p in peft_model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable} == set(lora_target_modules(base))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_()
    peft_model.save_pretrained(tmp_path)
    saved = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert saved < 0.2 * sum(p.numel() * 4 for p in base.parameters())  # adapters only, not the base
    input_ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        expected = peft_model(input_ids=input_ids).logits
        reloaded = load_lora(load_model("tiny", device="cpu")[0], tmp_path)(input_ids=input_ids).logits
    torch.testing.assert_close(reloaded, expected)


def test_a_cached_folder_is_built_once_and_a_failed_build_leaves_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("REFLECT_RL_CACHE", str(cache))
    copy, copied = shutil.copyfile, []

    def disk_full_on_the_second_file(source, target):
        copied.append(target)
        if len(copied) == 2:
            raise OSError("disk full")
        return copy(source, target)

    monkeypatch.setattr(shutil, "copyfile", disk_full_on_the_second_file)
    with pytest.raises(OSError, match="disk full"):
        models.gpt2_tokenizer_folder()
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-built is left
    monkeypatch.setattr(shutil, "copyfile", copy)

    folder = models.gpt2_tokenizer_folder()
    assert folder.parent == cache and load_tokenizer(str(folder))("hello world").input_ids == [31373, 995]
    built = {path: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert models.gpt2_tokenizer_folder() == folder
    assert {path: path.stat().st_mtime_ns for path in folder.iterdir()} == built  # found, not built again


def test_unknown_specs_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.gguf"):
        load_model(str(tmp_path / "missing.gguf"), device="cpu")
    with pytest.raises(OSError, match="Cannot load"):
        load_model(str(tmp_path / "no-such-folder"), device="cpu")


@pytest.mark.slow
def test_smollm2_loads_fast_from_the_cache_and_speaks():
    load_model("smollm2", device="cpu")  # converts once if the cache is empty
    converted = {path: path.stat().st_mtime_ns for path in models.smollm2_folder().iterdir()}
    model, tokenizer = load_model("smollm2", device="cpu")
    assert {
        path: path.stat().st_mtime_ns for path in models.smollm2_folder().iterdir()
    } == converted  # not converted again
    input_ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        output = model.generate(input_ids, max_new_tokens=5, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert "Paris" in tokenizer.decode(output[0, input_ids.shape[1] :])


def test_weights_kept_in_bf16_give_the_same_outputs_under_autocast():
    from reflect_agent.models import autocast_weights

    model, tokenizer = load_model("tiny", device="cpu")
    ids = torch.tensor([tokenizer("Taxi: row 2, column 3. Where next?").input_ids])
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        before = model(input_ids=ids).logits
        autocast_weights(model)
        after = model(input_ids=ids).logits
    assert torch.equal(before, after)
    head, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    assert head.weight.dtype == torch.bfloat16 and embeddings.weight.dtype == torch.float32  # untied, cast copy


packing = pytest.mark.skipif(not models._packing_supported(), reason="this CPU or torch build has no oneDNN bf16")


@packing
def test_packed_linear_layers_give_the_same_outputs_and_greedy_tokens():
    from reflect_agent.decoding import greedy_decode
    from reflect_agent.models import PackedLinear, autocast_weights, pack_linears

    model, tokenizer = load_model("tiny", device="cpu")
    autocast_weights(model.eval())
    prompts = [tokenizer(text).input_ids for text in ("Taxi: row 2, column 3.", "Where next?", "Go north")]
    ids = torch.tensor([prompts[0]])

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16)

    with torch.no_grad(), autocast():
        before = model(input_ids=ids).logits
    tokens, _ = greedy_decode(model, tokenizer, prompts, max_new_tokens=12, autocast=autocast)
    layers = sum(type(m) is torch.nn.Linear for m in model.modules())
    assert pack_linears(model) == layers > 0
    assert all(type(m) is not torch.nn.Linear for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert isinstance(model.lm_head, PackedLinear)
    with torch.no_grad(), autocast():
        assert torch.equal(model(input_ids=ids).logits, before)
    assert greedy_decode(model, tokenizer, prompts, max_new_tokens=12, autocast=autocast)[0] == tokens


@packing
def test_packing_leaves_fp32_layers_and_undoes_itself_when_a_probe_differs(monkeypatch):
    from reflect_agent.models import autocast_weights, pack_linears

    model, _ = load_model("tiny", device="cpu")
    assert pack_linears(model) == 0  # fp32 weights: nothing to pack
    autocast_weights(model)
    monkeypatch.setattr(models, "_same_outputs", lambda module: False)
    assert pack_linears(model) == 0
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert all(type(m) is torch.nn.Linear and not hasattr(m, "packed") for m in linears)
    monkeypatch.undo()
    monkeypatch.setattr(models, "_packing_supported", lambda: False)  # no oneDNN bf16 here: nothing changes
    assert pack_linears(model) == 0 and all(type(m) is torch.nn.Linear for m in linears)


@packing
def test_packed_layers_give_f_linears_outputs_for_prefill_sized_inputs_too():
    from reflect_agent.models import PACKED_ROWS, pack_linears

    generator = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(576, 576, bias=False, dtype=torch.bfloat16)
    layer.weight.data = (0.05 * torch.randn(576, 576, generator=generator)).to(torch.bfloat16)
    weight = layer.weight.detach().clone()
    model = torch.nn.Sequential(layer)
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # oneDNN's kernels for the two layouts round apart from a few hundred rows on 2 threads
    try:
        assert pack_linears(model) == 1
        for rows in (1, 8, PACKED_ROWS, 300, 1024):
            for _ in range(3):
                x = torch.randn(rows, 576, generator=generator).to(torch.bfloat16)
                with torch.no_grad():
                    assert torch.equal(model(x), torch.nn.functional.linear(x, weight)), rows
    finally:
        torch.set_num_threads(before)
