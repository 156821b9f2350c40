"""LMPolicy: label checks, encoding, the masked softmax over labels, the value head, checkpoints."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm, check_single_token_labels
from reflect_agent.prompts import LABEL_PRESETS, TRUNCATION_MARK, PromptTemplate
from reflect_agent.tensors import sample_actions
from reflect_gym.files import ForeignPathError
from tests.agent.conftest import perturb_lora

STATES = ["You are in the kitchen. A fridge is here.", "A long corridor. " * 12 + "You see a door."]
ACTIONS = [["go north", "open fridge"], ["go east", "go west", "open door", "look"]]


def reference_logprobs(policy: LMPolicy, state: str, actions: list[str]) -> list[float]:
    """Action log-probabilities computed one action at a time from the full LM, unpadded, no batching."""
    prompt = policy.prompts([state], [actions])[0]
    input_ids = torch.tensor([policy.tokenizer(prompt).input_ids])
    with torch.no_grad():
        next_token_logits = causal_lm(policy.model)(input_ids=input_ids).logits[0, -1]  # (V,)
    scores = [float(next_token_logits[policy.label_token_ids[i]]) for i in range(len(actions))]
    normaliser = torch.logsumexp(torch.tensor(scores, dtype=torch.float64), dim=0)
    return [s - float(normaliser) for s in scores]


def test_letter_labels_are_single_tokens_after_the_cue(tiny, gpt2_tokenizer):
    _, smollm2_tokenizer = tiny
    probe = PromptTemplate().render("state", ["action"], [" A"])
    for tokenizer in (smollm2_tokenizer, gpt2_tokenizer):
        ids = check_single_token_labels(tokenizer, probe, list(LABEL_PRESETS["letters"]))
        assert len(set(ids)) == 52
        assert tokenizer.decode([ids[0]]) == " A"


def test_labels_that_are_not_one_token_in_place_are_rejected(tiny, gpt2_tokenizer):
    _, smollm2_tokenizer = tiny
    probe = PromptTemplate().render("state", ["action"], [" A"])
    # SmolLM2 splits digits, so " 7" is a space then "7".
    with pytest.raises(ValueError, match="' 7' is not a single token"):
        check_single_token_labels(smollm2_tokenizer, probe, [" A", " 7"])
    # ":" is one token alone but merges with the cue's final ":" into "::".
    with pytest.raises(ValueError, match="':' is not a single token"):
        check_single_token_labels(gpt2_tokenizer, probe, [":"])
    # GPT-2 has " 0" .. " 99" as single tokens.
    assert len(check_single_token_labels(gpt2_tokenizer, probe, list(LABEL_PRESETS["numbers"]))) == 100


def test_policy_build_checks_labels():
    with pytest.raises(ValueError, match="not a single token"):
        LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", labels="numbers"))
    with pytest.raises(ValueError, match="distinct"):
        PolicyConfig(model="tiny", labels=[" A", " A"])
    with pytest.raises(ValueError, match="not a preset"):
        PolicyConfig(model="tiny", labels="greek")


def test_prompt_has_the_paper_shape(tiny_policy):
    prompt = tiny_policy.prompts(STATES[:1], ACTIONS[:1], ["The fridge may hold food."])[0]
    assert prompt == (
        "You are in the kitchen. A fridge is here.\n\nAnalysis: The fridge may hold food."
        "\n\nAvailable actions:\nA. go north\nB. open fridge\n\nAction:"
    )
    assert "Analysis" not in tiny_policy.prompts(STATES[:1], ACTIONS[:1], [""])[0]


def test_masked_softmax_matches_per_action_reference(tiny_policy):
    batch = tiny_policy.encode(STATES, ACTIONS)
    assert batch.input_ids.shape[0] == 2 and batch.label_ids.shape == (2, 4)
    assert batch.attention_mask[0, 0] == 0 and batch.attention_mask[:, -1].all()  # left padding
    with torch.no_grad():
        logprobs, _ = tiny_policy(batch)
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        expected = torch.tensor(reference_logprobs(tiny_policy, state, actions))
        torch.testing.assert_close(logprobs[row, : len(actions)], expected.float(), atol=1e-4, rtol=1e-4)
        assert (logprobs[row, len(actions) :] < -1e30).all()  # masked labels get no mass


def test_get_action_and_value_scores_given_actions_with_gradients(tiny_policy):
    batch = tiny_policy.encode(STATES, ACTIONS)
    action = torch.tensor([1, 3])
    out_action, logprob, entropy, value = tiny_policy.get_action_and_value(batch, action)
    assert torch.equal(out_action, action)
    assert logprob.shape == entropy.shape == value.shape == (2,)
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        reference = torch.tensor(reference_logprobs(tiny_policy, state, actions))
        assert logprob[row].item() == pytest.approx(reference[action[row]].item(), abs=1e-4)
        assert entropy[row].item() == pytest.approx(-(reference.exp() * reference).sum().item(), abs=1e-4)
    (logprob.sum() + entropy.sum() + value.sum()).backward()
    trainable = dict(tiny_policy.named_parameters())
    assert all(p.requires_grad for n, p in trainable.items() if "lora_" in n or n.startswith("value_head"))
    assert not any(p.requires_grad for n, p in trainable.items() if "lora_" not in n and "value_head" not in n)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny_policy.trainable_parameters())


def test_inadmissible_actions_are_rejected(tiny_policy):
    batch = tiny_policy.encode(STATES, ACTIONS)
    with pytest.raises(ValueError, match="not admissible"):
        tiny_policy.get_action_and_value(batch, torch.tensor([2, 0]))  # state 0 has 2 actions
    with pytest.raises(ValueError, match="actions"):
        tiny_policy.encode(["s"], [[f"action {i}" for i in range(53)]])


def test_greedy_takes_the_argmax_and_sampling_follows_the_distribution(tiny_policy):
    batch = tiny_policy.encode(STATES, ACTIONS)
    with torch.no_grad():
        logprobs, _ = tiny_policy(batch)
        action, _, _, _ = tiny_policy.get_action_and_value(batch, greedy=True)
    assert torch.equal(action, logprobs.argmax(-1))
    assert tiny_policy.act(STATES, ACTIONS, greedy=True) == action.tolist()

    probs = torch.tensor([[0.5, 0.3, 0.2, 0.0]])
    draws = sample_actions(probs.log().expand(20_000, 4), greedy=False)
    frequencies = torch.bincount(draws, minlength=4) / draws.numel()
    torch.testing.assert_close(frequencies, probs[0], atol=0.02, rtol=0)


def test_temperature_scales_the_label_logits(tiny):
    policy_t1 = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora=False))
    policy_t2 = LMPolicy(policy_t1.model, policy_t1.tokenizer, PolicyConfig(model="tiny", temperature=2.0))
    batch = policy_t1.encode(STATES, ACTIONS)
    with torch.no_grad():
        logprobs_t1, _ = policy_t1(batch)
        logprobs_t2, _ = policy_t2(batch)
    for row, actions in enumerate(ACTIONS):
        n = len(actions)
        torch.testing.assert_close(logprobs_t2[row, :n], (logprobs_t1[row, :n] / 2).log_softmax(-1))


def test_the_repeat_penalty_lowers_each_actions_logit_once_per_past_use(tiny):
    plain = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora=False, temperature=2.0))
    penalised = LMPolicy(plain.model, plain.tokenizer, dataclasses.replace(plain.config, repeat_penalty=1.5))
    taken = [["open fridge", "go north", "open fridge"], ["look"]]
    batch = plain.encode(STATES, ACTIONS, taken=taken)
    assert batch.repeats.tolist() == [[1, 2, 0, 0], [0, 0, 0, 1]]
    with torch.no_grad():
        before, value_before = plain(batch)
        after, value_after = penalised(batch)
        untouched, _ = penalised(plain.encode(STATES, ACTIONS))  # no past actions given: nothing to penalise
    torch.testing.assert_close(untouched, before)
    torch.testing.assert_close(value_after, value_before)
    for row, actions in enumerate(ACTIONS):
        n = len(actions)
        logits = before[row, :n] * 2.0  # the untempered scores, up to a constant
        expected = ((logits - 1.5 * batch.repeats[row, :n]) / 2.0).log_softmax(-1)
        torch.testing.assert_close(after[row, :n], expected, atol=1e-5, rtol=1e-5)
    assert penalised.act(STATES[:1], ACTIONS[:1], greedy=True, taken=[["go north"] * 50]) == [1]
    with pytest.raises(ValueError, match="repeat_penalty"):
        PolicyConfig(model="tiny", repeat_penalty=-1.0)


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_value_head_shapes(head):
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", value_head=head, value_hidden_size=16))
    batch = policy.encode(STATES, ACTIONS)
    _, value = policy(batch)
    assert value.shape == (2,) and value.dtype == torch.float32
    assert torch.all(value == 0)  # the last layer starts at zero
    with torch.no_grad():
        for param in policy.value_head.parameters():
            param.normal_()
    _, value = policy(batch)
    assert value.shape == (2,) and value[0] != value[1]


def test_long_states_without_paragraphs_are_cut_from_the_left(tiny):
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", max_prompt_tokens=48))
    state = " ".join(f"room{i}" for i in range(200)) + " THE END"
    prompt = policy.prompts([state], ACTIONS[1:])[0]
    batch = policy.encode([state], ACTIONS[1:])
    assert batch.input_ids.shape[1] <= 48
    assert prompt.startswith(TRUNCATION_MARK) and "THE END" in prompt
    assert prompt.endswith("A. go east\nB. go west\nC. open door\nD. look\n\nAction:")
    with pytest.raises(ValueError, match="max_prompt_tokens"):
        policy.encode(["short"], [[f"a very long action name number {i}" for i in range(20)]])


def test_long_states_keep_their_first_paragraph(tiny):
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", max_prompt_tokens=64))
    goal = "Goal: find the red key."
    state = goal + "\n\n" + " ".join(f"room{i}" for i in range(200)) + " THE END"
    prompt = policy.prompts([state], ACTIONS[1:])[0]
    assert policy.encode([state], ACTIONS[1:]).input_ids.shape[1] <= 64
    assert prompt.startswith(goal + "\n\n" + TRUNCATION_MARK) and "room0 " not in prompt and "THE END" in prompt
    # A first paragraph too long to keep is cut like any other text.
    long_goal = " ".join(f"goal{i}" for i in range(200))
    prompt = policy.prompts([long_goal + "\n\nTHE END"], ACTIONS[1:])[0]
    assert prompt.startswith(TRUNCATION_MARK) and "THE END" in prompt


def test_save_and_load_round_trip(tiny_policy, tmp_path):
    with torch.no_grad():
        tiny_policy.value_head.weight.normal_()
    batch = tiny_policy.encode(STATES, ACTIONS)
    with torch.no_grad():
        logprobs, values = tiny_policy(batch)
    tiny_policy.save(tmp_path / "ckpt")
    perturb_lora(tiny_policy, seed=2)
    tiny_policy.save(tmp_path / "ckpt")  # overwriting works, and the folder holds the latest weights
    perturb_lora(tiny_policy, seed=1)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        ".reflect-rl",
        "adapter",
        "policy_config.json",
        "value_head.safetensors",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temp folders left behind
    tiny_policy.save(tmp_path / "ckpt")
    loaded = LMPolicy.load(tmp_path / "ckpt")
    with torch.no_grad():
        loaded_logprobs, loaded_values = loaded(batch)
    torch.testing.assert_close(loaded_logprobs, logprobs)
    torch.testing.assert_close(loaded_values, values)
    assert len(loaded.trainable_parameters()) == len(tiny_policy.trainable_parameters())


def test_bf16_autocast_stays_close_to_fp32(tiny_policy):
    batch = tiny_policy.encode(STATES, ACTIONS)
    autocast_policy = LMPolicy(tiny_policy.model, tiny_policy.tokenizer, PolicyConfig(model="tiny", autocast=True))
    with torch.no_grad():
        logprobs, _ = tiny_policy(batch)
        autocast_logprobs, _ = autocast_policy(batch)
    mask = batch.action_mask
    assert autocast_logprobs.dtype == torch.float32
    torch.testing.assert_close(autocast_logprobs[mask], logprobs[mask], atol=0.05, rtol=0.05)


def test_save_replaces_an_earlier_policy_and_refuses_a_users_folder_or_file(tmp_path, tiny_policy):
    folder = tmp_path / "policy"
    tiny_policy.save(folder)
    tiny_policy.save(folder)  # its own earlier save
    assert LMPolicy.load(folder).config == tiny_policy.config
    users = tmp_path / "results"
    users.mkdir()
    (users / "notes.txt").write_text("keep me")
    file = tmp_path / "thesis.tex"
    file.write_text("keep me too")
    for target in (users, file):
        with pytest.raises(ForeignPathError, match="--overwrite"):
            tiny_policy.save(target)
    assert (users / "notes.txt").read_text() == "keep me" and file.read_text() == "keep me too"
