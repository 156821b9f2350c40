"""A ReflectRL env as a TRL ``environment_factory`` environment: its tools play the Gymnasium env's episode."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from reflect_gym.core import expert_action
from reflect_gym.interop.trl import INSTRUCTIONS, ReflectToolEnv, environment_factory
from tests.conftest import ROOT
from tests.utils import require_extra


def trl_tools(env: object) -> dict[str, object]:
    """The tools TRL 1.x offers the model for ``env``: the public functions of its class but reset and get_reward
    (as ``GRPOTrainer.__init__`` lists them)."""
    return {
        name: getattr(env, name)
        for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
        if name not in ("reset", "get_reward") and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("env_id", "policy"), [("ReflectRL/DangerousTaxi-v0", "random"), ("ReflectRL/FileQA-Depth0-v0", "expert")]
)
def test_the_tools_play_the_gym_envs_episode(env_id, policy):
    """Turns alternate between ``act`` (the action's text) and ``act_by_index``; each tool shows the step's reward
    and the Gymnasium env's observation, and ``get_reward`` is the episode's return."""
    local = gym.make(env_id)
    observation, info = local.reset(seed=5)
    env = environment_factory(env_id, instructions="")()
    assert env.reset(seed=5, prompt=[{"role": "user", "content": ""}]) == observation
    tools = trl_tools(env)
    rng = np.random.default_rng(1)
    episode_return, done, turn = 0.0, False, 0
    while not done:
        index = expert_action(local) if policy == "expert" else int(rng.integers(len(info["actions"])))
        shown = tools["act"](info["actions"][index]) if turn % 2 == 0 else tools["act_by_index"](index)
        observation, reward, terminated, truncated, info = local.step(index)
        assert shown.startswith(f"Reward: {reward:g}.\n") and shown.endswith("\n\n" + observation)
        assert env.observation == observation
        episode_return += reward
        done, turn = terminated or truncated, turn + 1
        assert env.get_reward() == pytest.approx(episode_return)
    assert (env.done, env.success, env.steps) == (True, info["success"], turn)
    ending = "you won." if info["success"] else ("it is lost." if terminated else "the step limit was reached.")
    assert f"The episode has ended: {ending}" in shown
    if policy == "expert":
        assert env.success
    with pytest.raises(gym.error.ResetNeeded, match="The episode has ended"):
        tools["act"](info["actions"][0])
    assert env.steps == turn  # the refused call took no step


def test_trl_offers_the_two_tools_and_reset_follows_the_prompt():
    env = ReflectToolEnv("ReflectRL/DangerousTaxi-v0")
    assert sorted(trl_tools(env)) == ["act", "act_by_index"]
    first = env.reset(seed=0, prompt=[{"role": "user", "content": ""}])
    observation = env.observation
    assert first == f"{INSTRUCTIONS}\n\n{observation}"
    # TRL appends the text to the last user message, so text after a message of its own starts on a new paragraph.
    assert env.reset(seed=0, prompt=[{"role": "user", "content": "Play."}]) == f"\n\n{first}"
    assert env.reset(seed=0, prompt="Play.") == f"\n\n{first}"
    # The seed column picks the episode: the same seed, the same episode in another instance; none, the env's draw.
    other = ReflectToolEnv("ReflectRL/DangerousTaxi-v0", instructions="")
    assert other.reset(seed=0) == observation
    assert {other.reset() for _ in range(8)} != {observation}
    assert env.get_reward() == 0.0 and not env.done


def test_invalid_actions_cost_the_penalty_and_bad_calls_are_refused():
    env_id = "ReflectRL/FileQA-Depth0-v0"
    env = ReflectToolEnv(env_id)
    env.reset(seed=0)
    local = gym.make(env_id)
    _, info = local.reset(seed=0)
    penalty = local.unwrapped.invalid_action_penalty
    before = env.observation
    masked = len(info["actions"])
    for call in (lambda: env.act("fly to the moon"), lambda: env.act_by_index(masked)):
        shown = call()
        assert shown.startswith(f"Reward: {penalty:g}.\nInvalid action:") and env.observation == before
    assert env.get_reward() == pytest.approx(2 * penalty) and env.steps == 2
    with pytest.raises(ValueError, match=r"outside the action space Discrete\(30\)"):
        env.act_by_index(local.unwrapped.max_actions)
    with pytest.raises(TypeError, match="index must be an integer"):
        env.act_by_index("2")
    assert env.steps == 2
    with pytest.raises(gym.error.ResetNeeded, match="no episode has started"):
        ReflectToolEnv(env_id).act("cd curses")
    with pytest.raises(gym.error.NameNotFound, match="ReflectRL/Taxi-v0"):
        environment_factory("ReflectRL/Taxi-v0")
    with pytest.raises(TypeError, match="horizn"):
        environment_factory(env_id, horizn=3)


def test_a_tool_call_parsed_by_trl_steps_the_env():
    """The tools' schemas come from their signatures and docstrings (transformers' get_json_schema, as TRL builds
    them), and an assistant's tool call, parsed as TRL parses it, runs the tool."""
    require_extra("trl", "trl")
    require_extra("agent", "transformers")
    from transformers.utils import get_json_schema
    from trl.chat_template_utils import add_response_schema, parse_response, qwen2_5_chat_template

    from reflect_agent.models import load_tokenizer

    env = ReflectToolEnv("ReflectRL/DangerousTaxi-v0")
    schemas = {name: get_json_schema(tool)["function"] for name, tool in trl_tools(env).items()}
    assert schemas["act"]["parameters"]["properties"]["action"]["type"] == "string"
    assert schemas["act_by_index"]["parameters"]["properties"]["index"]["type"] == "integer"
    assert all(schema["description"] for schema in schemas.values())

    tokenizer = load_tokenizer("tiny")
    tokenizer.chat_template = qwen2_5_chat_template
    tokenizer = add_response_schema(tokenizer)
    env.reset(seed=0)
    tools = list(trl_tools(env).values())
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": env.observation}], tools=tools, add_generation_prompt=True, tokenize=False
    )
    assert '"name": "act_by_index"' in prompt
    reply = '<tool_call>\n{"name": "act", "arguments": {"action": "move north"}}\n</tool_call><|im_end|>'
    ids = tokenizer(reply, add_special_tokens=False).input_ids
    prefix = tokenizer(prompt, add_special_tokens=False).input_ids
    (call,) = parse_response(tokenizer, ids, prefix=prefix, tools=tools)["tool_calls"]
    shown = trl_tools(env)[call["function"]["name"]](**call["function"]["arguments"])
    local = gym.make("ReflectRL/DangerousTaxi-v0")
    local.reset(seed=0)
    observation, reward, *_ = local.step(1)
    assert shown == f"Reward: {reward:g}.\n\n{observation}"


def teach_to_call_a_tool(folder: os.PathLike) -> None:
    """Save to ``folder`` the tiny model, trained to answer the turns of Taxi's episode of seed 0 with
    ``act_by_index(0)``.

    A random model never writes a tool call, so GRPO would never step the env; this one does from the first step.
    Only the call's tokens are scored, after the prompts TRL renders at the first and the second turn. So tiny a
    model learns those prompts, not tool calling: the run it is for plays that one episode.
    """
    import torch

    from examples.trl_grpo import SYSTEM_PROMPT, load_policy

    model, tokenizer = load_policy("tiny")
    env = ReflectToolEnv("ReflectRL/DangerousTaxi-v0")
    tools = list(trl_tools(env).values())
    call = {"type": "function", "function": {"name": "act_by_index", "arguments": {"index": 0}}}
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": env.reset(seed=0)}]
    contexts = [tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)]
    messages += [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "name": "act_by_index", "content": env.act_by_index(0)},
    ]
    contexts.append(tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False))
    target = tokenizer(
        f"<tool_call>\n{json.dumps(call['function'])}\n</tool_call><|im_end|>", add_special_tokens=False
    ).input_ids
    sequences = [torch.tensor([tokenizer(c, add_special_tokens=False).input_ids + target]) for c in contexts]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(300):
        losses = []
        for ids in sequences:
            # The LM head on the call's positions alone: the whole prompt's logits would cost 20 times more.
            hidden = model.model(input_ids=ids).last_hidden_state[0, -len(target) - 1 : -1]  # (T, H)
            loss = torch.nn.functional.cross_entropy(model.lm_head(hidden), ids[0, -len(target) :])
            loss.backward()
            losses.append(loss.item())
        optimizer.step()
        optimizer.zero_grad()
        if max(losses) < 0.02:
            break
    assert max(losses) < 0.02, f"the tiny model did not learn the tool call (losses {losses})"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.mark.slow
def test_the_example_trains_two_grpo_steps_on_cpu_and_the_model_plays_through_the_tools(tmp_path):
    """``examples/trl_grpo.py`` with the tiny model, taught to call a tool, offline: two GRPO steps, in which TRL
    calls the env's tools and trains on its reward."""
    require_extra("trl", "trl")
    require_extra("agent", "torch", "transformers", "tyro")
    teach_to_call_a_tool(tmp_path / "model")
    output = tmp_path / "run"
    command = [sys.executable, "-m", "examples.trl_grpo", "--model", str(tmp_path / "model"), "--steps", "2"]
    command += ["--episodes", "1", "--max-completion-length", "1024", "--max-tool-calls", "3"]
    command += ["--output-dir", str(output)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRL_EXPERIMENTAL_SILENCE": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    state = json.loads((output / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    steps = [entry for entry in state["log_history"] if "rewards/ReflectToolEnv/mean" in entry]
    assert len(steps) == 2
    for entry in steps:
        assert entry["tools/call_frequency"] > 0
        # Every Taxi step costs something, so an episode the model acted in has a negative return.
        assert entry["rewards/ReflectToolEnv/mean"] < 0
