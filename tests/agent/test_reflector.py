"""Reflector: batched generation that stops at EOS, at stop strings or at the token limit; reflect_prob; sharing."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from reflect_agent import reflector as reflector_module
from reflect_agent.models import load_model
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.prompts import TRUNCATION_MARK, cut_at_stops
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.sft_examples import reflector_examples
from reflect_agent.warmup import StepRecord

STATES = ["You are in the kitchen.", "You are in a long corridor with a door."]
ACTIONS = [["go north", "open fridge"], ["go east", "open door", "look"]]


def parrot(tokenizer, token: str) -> GPT2LMHeadModel:
    """A GPT-2 whose greedy continuation is always ``token``: its final layer norm outputs a constant vector."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=1024))
    with torch.no_grad():
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.fill_(1.0)
        model.transformer.wte.weight[token_id] = 1.0  # tied head: logit 32 for this token, ~N(0, 0.1) for others
    return model.eval()


def test_stops_at_eos(gpt2_tokenizer):
    reflector = Reflector(parrot(gpt2_tokenizer, "<|endoftext|>"), gpt2_tokenizer, ReflectorConfig(max_new_tokens=20))
    assert reflector.continue_prompts(["Hello", "A longer prompt here"]) == ["", ""]


def test_stops_at_stop_strings_and_cuts_them(gpt2_tokenizer):
    config = ReflectorConfig(max_new_tokens=20, stop_strings=["!!!"])
    reflector = Reflector(parrot(gpt2_tokenizer, "!"), gpt2_tokenizer, config)
    assert reflector.continue_prompts(["Hello", "A longer prompt"]) == ["!!!", "!!!"]  # 3 tokens, not 20
    assert reflector.reflect(STATES, ACTIONS) == ["", ""]


def test_stops_at_the_token_limit(gpt2_tokenizer):
    reflector = Reflector(parrot(gpt2_tokenizer, "Ġthe"), gpt2_tokenizer, ReflectorConfig(max_new_tokens=7))
    assert reflector.continue_prompts(["Hello"]) == [" the" * 7]
    assert reflector.reflect(STATES[:1], ACTIONS[:1]) == ["the" + " the" * 6]


def test_default_stops_are_the_templates_cue_and_headers(gpt2_tokenizer):
    reflector = Reflector(parrot(gpt2_tokenizer, "!"), gpt2_tokenizer, ReflectorConfig())
    assert reflector.stop_strings == ["Action:", "Available actions:", "Analysis:"]
    assert cut_at_stops(" Go north first.\n\nAction: A", reflector.stop_strings) == "Go north first."
    assert cut_at_stops("Available actions: none", reflector.stop_strings) == ""
    assert cut_at_stops(" no stop here ", reflector.stop_strings) == "no stop here"


def test_reflector_prompt_lists_state_and_actions():
    prompt = ReflectorConfig().template.reflector_prompt(STATES[0], ACTIONS[0])
    assert prompt == "You are in the kitchen.\n\nAvailable actions:\n- go north\n- open fridge\n\nAnalysis:"


def test_long_states_keep_their_first_paragraph_in_generation_and_in_sft(gpt2_tokenizer, monkeypatch):
    goal = "Goal: find the red key."
    state = goal + "\n\n" + " ".join(f"room{i}" for i in range(300))
    reflector = Reflector(
        parrot(gpt2_tokenizer, "Ġthe"), gpt2_tokenizer, ReflectorConfig(max_new_tokens=2, max_prompt_tokens=64)
    )
    seen: list[str] = []
    generate = reflector.continue_prompts
    monkeypatch.setattr(reflector, "continue_prompts", lambda prompts: seen.extend(prompts) or generate(prompts))
    assert reflector.reflect([state], [["go north"]]) == ["the the"]
    assert seen[0].startswith(goal + "\n\n" + TRUNCATION_MARK) and seen[0].endswith("- go north\n\nAnalysis:")
    assert len(gpt2_tokenizer(seen[0]).input_ids) <= 64

    record = StepRecord("env", 0, 0, "expert", state, ["go north"], 0, "North is closer.", None, "v", {})
    example = reflector_examples(gpt2_tokenizer, reflector.template, [record], max_prompt_tokens=64)[0]
    prompt_length = example["labels"].count(-100)
    assert example["input_ids"][:prompt_length] == gpt2_tokenizer(seen[0]).input_ids


def test_reflect_prob_skips_states_reproducibly(gpt2_tokenizer):
    model = parrot(gpt2_tokenizer, "Ġthe")
    never = Reflector(model, gpt2_tokenizer, ReflectorConfig(max_new_tokens=2, reflect_prob=0.0))
    assert never.reflect(STATES * 4, ACTIONS * 4) == [""] * 8
    runs = [
        Reflector(model, gpt2_tokenizer, ReflectorConfig(max_new_tokens=2, reflect_prob=0.5, seed=3)).reflect(
            STATES * 10, ACTIONS * 10
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert 0 < runs[0].count("") < 20 and set(runs[0]) == {"", "the the"}
    with pytest.raises(ValueError, match="reflect_prob"):
        ReflectorConfig(reflect_prob=1.5)


def test_shared_reflector_uses_the_frozen_base_and_leaves_the_policy_alone():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    with torch.no_grad():
        for name, param in policy.model.named_parameters():
            if "lora_B" in name:
                param.normal_()
    batch = policy.encode(STATES, ACTIONS)
    with torch.no_grad():
        before, _ = policy(batch)
    config = ReflectorConfig(max_new_tokens=6, stop_strings=["\n\n\n\n"])
    shared = Reflector.from_config(config, policy=policy)
    base, tokenizer = load_model("tiny", device="cpu")
    own = Reflector(base, tokenizer, config)
    policy.train()  # the reflector generates in eval mode, then gives the policy its mode back
    shared_text = shared.continue_prompts(["You are in the kitchen."])
    assert policy.training and policy.model.training  # the policy's mode is restored
    policy.eval()
    assert shared_text == own.continue_prompts(["You are in the kitchen."])  # adapters were off
    with torch.no_grad():
        after, _ = policy(batch)
    torch.testing.assert_close(after, before)  # ...and are on again
    assert all(p.grad is None for p in policy.parameters())
    with pytest.raises(ValueError, match="pass policy"):
        Reflector.from_config(ReflectorConfig())
    full = LMPolicy(base, tokenizer, PolicyConfig(model="tiny", lora=False))
    with pytest.raises(ValueError, match="lora=False"):
        Reflector.from_config(ReflectorConfig(), policy=full)


def test_the_cache_answers_repeated_prompts_with_the_same_text(gpt2_tokenizer, monkeypatch):
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(gpt2_tokenizer), n_embd=32, n_layer=1, n_head=2)).eval()
    cached = Reflector(model, gpt2_tokenizer, ReflectorConfig(max_new_tokens=6))
    plain = Reflector(model, gpt2_tokenizer, ReflectorConfig(max_new_tokens=6, cache_entries=0, fast_decode=False))
    assert plain.cache is None
    calls = []
    generate = Reflector._generate
    monkeypatch.setattr(
        Reflector, "_generate", lambda self, prompts: calls.append(len(prompts)) or generate(self, prompts)
    )
    states, actions = [STATES[0], STATES[1], STATES[0]], [ACTIONS[0], ACTIONS[1], ACTIONS[0]]
    first = cached.reflect(states, actions)
    again = cached.reflect(states[::-1], actions[::-1])
    assert calls == [2]  # two distinct prompts generated once each, then nothing for the repeat
    assert first == plain.reflect(states, actions) and again == first[::-1]
    assert (cached.cache.stats.hits, cached.cache.stats.misses) == (4, 2)  # of 6 rows, 2 generated


def test_the_cache_belongs_to_the_reflectors_identity(gpt2_tokenizer, tmp_path):
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(gpt2_tokenizer), n_embd=32, n_layer=1, n_head=2)).eval()
    identity = Reflector(model, gpt2_tokenizer, ReflectorConfig()).identity()
    assert Reflector(model, gpt2_tokenizer, ReflectorConfig()).identity() == identity
    for changed in (
        ReflectorConfig(max_new_tokens=50),
        ReflectorConfig(stop_strings=["."]),
        ReflectorConfig(autocast=True),
    ):
        assert Reflector(model, gpt2_tokenizer, changed).identity() != identity
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"one")
    config = ReflectorConfig(model="gpt2-random", adapter=str(adapter))
    before = Reflector(model, gpt2_tokenizer, config).identity()
    (adapter / "adapter_model.safetensors").write_bytes(b"two")  # retrained weights: another reflector
    assert Reflector(model, gpt2_tokenizer, config).identity() != before
    assert Reflector(model, gpt2_tokenizer, ReflectorConfig(greedy=False)).cache is None  # sampling is not cached


def test_a_frozen_reflector_of_its_own_packs_its_layers_on_the_cpu_and_writes_the_same_text():
    from reflect_agent import models

    if not models._packing_supported():
        pytest.skip("this CPU or torch build has no oneDNN bf16")
    states = ["Taxi at (2, 3), passenger at R.", "Taxi at (0, 0), passenger in the taxi."]
    actions = [["go north", "go south"], ["drop off", "go east"]]
    config = ReflectorConfig(model="tiny", device="cpu", autocast=True, max_new_tokens=16, cache_entries=0)
    packed = Reflector.from_config(config)
    assert isinstance(packed.model.get_output_embeddings(), models.PackedLinear)
    plain = Reflector.from_config(dataclasses.replace(config, pack_weights=False))
    assert type(plain.model.get_output_embeddings()) is torch.nn.Linear
    assert packed.reflect(states, actions) == plain.reflect(states, actions)


def test_a_merged_adapter_writes_what_the_exported_model_writes_and_is_another_reflector(tiny_policy, tmp_path):
    from peft import PeftModel

    from reflect_agent.models import export_merged

    tiny_policy.save(tmp_path / "policy")
    adapter = tmp_path / "policy" / "adapter"
    export_merged("tiny", adapter, tmp_path / "merged")
    config = ReflectorConfig(model="tiny", adapter=str(adapter), device="cpu", max_new_tokens=12, cache_entries=0)
    merged = Reflector.from_config(config)
    assert not isinstance(merged.model, PeftModel) and not any("lora_" in n for n, _ in merged.model.named_parameters())
    exported = Reflector.from_config(dataclasses.replace(config, model=str(tmp_path / "merged"), adapter=None))
    base = Reflector.from_config(dataclasses.replace(config, adapter=None))
    text = merged.reflect(STATES, ACTIONS)
    assert text == exported.reflect(STATES, ACTIONS) and text != base.reflect(STATES, ACTIONS)
    unmerged = Reflector.from_config(dataclasses.replace(config, merge_adapter=False))
    assert isinstance(unmerged.model, PeftModel) and unmerged.identity() != merged.identity()


def test_drafts_learned_from_earlier_reflections_leave_the_text_as_it_was_in_fewer_passes():
    config = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=12, cache_entries=0, draft_tokens=0)
    plain = Reflector.from_config(config)
    drafted = Reflector.from_config(dataclasses.replace(config, draft_tokens=4))
    assert plain.drafts is None and not drafted.drafts.table
    assert drafted.reflect(STATES, ACTIONS) == plain.reflect(STATES, ACTIONS) and drafted.drafts.table

    def passes(reflector: Reflector) -> tuple[list[str], int]:
        calls = []
        handle = reflector.model.register_forward_hook(lambda *_: calls.append(1))
        try:
            return reflector.reflect(STATES[::-1], ACTIONS[::-1]), len(calls)
        finally:
            handle.remove()

    (text, drafted_passes), (expected, plain_passes) = passes(drafted), passes(plain)
    assert text == expected and drafted_passes < plain_passes  # taught by its first reflections
    assert plain.decode_stats.steps_per_pass == 1 and drafted.decode_stats.steps_per_pass > 1  # what RL logs
    for other in (
        dataclasses.replace(config, draft_tokens=4, greedy=False),
        dataclasses.replace(config, draft_tokens=4, fast_decode=False),
    ):
        assert Reflector.from_config(other).drafts is None  # sampling, or model.generate: one token per pass
    with pytest.raises(ValueError, match="draft_tokens"):
        ReflectorConfig(draft_tokens=-1)


def test_a_request_larger_than_the_batch_runs_in_chunks_with_the_same_text(monkeypatch):
    config = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=12, cache_entries=0, draft_tokens=4)
    whole = Reflector.from_config(config)
    chunked = Reflector.from_config(dataclasses.replace(config, batch_size=2))
    rows: list[int] = []
    decode = reflector_module.greedy_decode

    def counting(model, tokenizer, prompts, **options):
        rows.append(len(prompts))
        return decode(model, tokenizer, prompts, **options)

    monkeypatch.setattr(reflector_module, "greedy_decode", counting)
    states = [f"{STATES[1]} You have walked {i} steps." for i in range(5)]
    actions = [ACTIONS[1]] * 5
    assert chunked.reflect(states, actions) == whole.reflect(states, actions)
    assert rows == [2, 2, 1, 5]
    with pytest.raises(ValueError, match="batch_size"):
        ReflectorConfig(batch_size=0)
