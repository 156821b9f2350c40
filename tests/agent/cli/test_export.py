"""``reflect-rl export``: a LoRA adapter merged into its base, saved as a model folder that loads on its own."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.cli import main
from reflect_agent.models import apply_lora, export_merged, load_lora, load_model
from reflect_gym.files import MARKER, ForeignPathError


@pytest.fixture
def adapter(tmp_path):
    """A LoRA adapter on the tiny model whose B matrices are random, so that it changes the logits."""
    peft_model = apply_lora(load_model("tiny", device="cpu")[0], r=4)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator))
    peft_model.save_pretrained(tmp_path / "adapter")
    return tmp_path / "adapter"


def test_the_merged_folder_loads_alone_and_gives_the_adapters_logits(adapter, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["export", "--model", "tiny", "--adapter", str(adapter), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert not (out / "adapter_config.json").exists() and (out / "config.json").is_file() and (out / MARKER).is_file()
    merged, tokenizer = load_model(str(out), device="cpu")
    assert not any("lora_" in name for name, _ in merged.named_parameters())
    input_ids = torch.tensor([tokenizer("You are in the kitchen.\n\nAnalysis:").input_ids])
    with torch.no_grad():
        base = load_model("tiny", device="cpu")[0]
        expected = load_lora(load_model("tiny", device="cpu")[0], adapter)(input_ids=input_ids).logits
        assert not torch.allclose(base(input_ids=input_ids).logits, expected, atol=1e-3)  # the adapter matters
        torch.testing.assert_close(merged(input_ids=input_ids).logits, expected, atol=1e-4, rtol=1e-4)


def test_export_replaces_its_own_folder_only(adapter, tmp_path):
    out = tmp_path / "merged"
    export_merged("tiny", adapter, out)
    export_merged("tiny", adapter, out)  # the project's folder: replaced
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ForeignPathError, match="--overwrite"):
        export_merged("tiny", adapter, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        export_merged("tiny", tmp_path, tmp_path / "other")
