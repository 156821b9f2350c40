"""Agents: random, expert, LM (tiny model) and the OpenAI-compatible chat agent against a loopback stub."""

from __future__ import annotations

from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.agents import (
    NO_ACTION,
    ExpertAgent,
    LMAgent,
    OpenAIChatAgent,
    OpenAIChatError,
    RandomAgent,
    count_successes,
    make_agent,
    parse_reply,
)
from tests.agent.chat_stub import StubChatServer

TAXI = "ReflectRL/DangerousTaxi-v0"
TAXI_ACTIONS = ["move south", "move north", "move east", "move west", "pick up passenger", "drop off passenger"]


@pytest.fixture
def taxi() -> gym.Env:
    return gym.make(TAXI)


# ------------------------------------------------------------------------------------------------
# Random and expert.


def test_random_agent_picks_only_admissible_actions_reproducibly():
    info = {"action_mask": np.array([1, 1, 1, 0, 0, 0], dtype=np.int8), "actions": ["a", "b", "c"]}
    agent = RandomAgent(seed=3)
    picks = [agent.act("obs", info) for _ in range(300)]
    assert set(picks) == {0, 1, 2}
    agent.reset(seed=3)
    assert [agent.act("obs", info) for _ in range(300)] == picks
    assert set(agent.act_batch(["obs"] * 50, [info] * 50)) == {0, 1, 2}


def test_expert_agent_solves_dangerous_taxi(taxi):
    agent = make_agent("expert", taxi)
    assert isinstance(agent, ExpertAgent)
    for seed in range(5):
        obs, info = taxi.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, info = taxi.step(agent.act(obs, info))
            done = terminated or truncated
        assert info["success"], f"expert failed on seed {seed}"


def test_count_successes_plays_one_episode_per_seed(taxi):
    assert count_successes(taxi, make_agent("expert", taxi), range(5)) == 5
    random = count_successes(taxi, make_agent("random", taxi), range(20))
    assert random < 20  # a random move often wastes a step, which ends a DangerousTaxi episode
    assert random == count_successes(taxi, make_agent("random", taxi), range(20))  # reset with each seed


def test_make_agent_rejects_unknown_specs(taxi):
    with pytest.raises(ValueError, match="Unknown agent spec 'greedy'"):
        make_agent("greedy", taxi)
    with pytest.raises(ValueError, match="benchmarks.baselines"):
        make_agent("sb3:ppo", taxi)
    with pytest.raises(ValueError, match="names no model"):
        make_agent("lm:+reflect", taxi)


# ------------------------------------------------------------------------------------------------
# LM agents.


class RecordingPolicy:
    """Stands in for LMPolicy: records what it is asked and picks the last action."""

    def __init__(self):
        self.calls: list[tuple] = []

    def act(self, states, actions, reflections=None, *, greedy=False, taken=None):
        self.calls.append((states, actions, reflections, greedy, taken))
        return [len(a) - 1 for a in actions]


class RecordingReflector:
    def __init__(self):
        self.seen: list[list[str]] = []

    def reflect(self, states, actions):
        self.seen.append(states)
        return [f"analysis {i}" for i in range(len(states))]


def test_lm_agent_gives_the_policy_states_actions_and_reflections():
    policy, reflector = RecordingPolicy(), RecordingReflector()
    agent = LMAgent(policy, reflector, greedy=True)
    infos = [
        {"state": "s0", "actions": ["a", "b"], "previous_action": None},
        {"state": "s1", "actions": ["a", "b", "c"], "previous_action": "b"},
    ]
    assert agent.act_batch(["o0", "o1"], infos) == [1, 2]
    assert policy.calls == [(["s0", "s1"], [["a", "b"], ["a", "b", "c"]], ["analysis 0", "analysis 1"], True, None)]
    # The reflector reads the previous action, as in the trainer's rollouts.
    assert reflector.seen == [["s0", "s1\nLast action: b."]]
    # The episodes' past actions, when the harness gives them, reach the policy for its repeat penalty.
    agent.act_batch(["o0", "o1"], [{**infos[0], "taken": []}, {**infos[1], "taken": ["a", "b"]}])
    assert policy.calls[-1][-1] == [[], ["a", "b"]]


def test_an_lm_agents_repeat_penalty_steers_it_off_the_actions_its_episode_took(taxi):
    plain = make_agent("lm:tiny", taxi, device="cpu")
    assert plain.policy.config.repeat_penalty == 0.0
    agent = make_agent("lm:tiny", taxi, device="cpu", repeat_penalty=100.0)
    assert agent.policy.config.repeat_penalty == 100.0
    _, info = taxi.reset(seed=0)
    first = plain.act("unused", info)
    assert plain.act("unused", {**info, "taken": [TAXI_ACTIONS[first]] * 3}) == first  # no penalty: no change
    assert agent.act("unused", info) == first  # nothing taken yet
    assert agent.act("unused", {**info, "taken": [TAXI_ACTIONS[first]]}) != first


def test_lm_tiny_agent_acts_admissibly(taxi):
    agent = make_agent("lm:tiny", taxi, device="cpu", batch_size=4)
    assert isinstance(agent, LMAgent) and agent.reflector is None and agent.batch_size == 4
    infos = [taxi.reset(seed=seed)[1] for seed in range(3)]
    actions = agent.act_batch(["unused"] * 3, infos)
    assert all(0 <= a < len(TAXI_ACTIONS) for a in actions)
    assert actions == [agent.act("unused", info) for info in infos]


def test_lm_agent_can_score_the_action_text(taxi):
    agent = make_agent("lm:tiny", taxi, device="cpu", decider="scoring")
    assert agent.policy.config.decider == "scoring"
    _, info = taxi.reset(seed=0)
    assert 0 <= agent.act("unused", info) < len(TAXI_ACTIONS)


def test_lm_tiny_reflect_agent_shares_the_frozen_base(taxi):
    agent = make_agent("lm:tiny+reflect", taxi, device="cpu")
    assert agent.reflector is not None and agent.reflector.model is agent.policy.model
    agent.reflector.config.max_new_tokens = 4  # keep the test fast; the spec's wiring is what is tested
    _, info = taxi.reset(seed=0)
    assert 0 <= agent.act("unused", {**info, "previous_action": None}) < len(TAXI_ACTIONS)


def test_lm_checkpoint_spec_loads_the_saved_policy(tiny_policy, taxi, tmp_path):
    path = tiny_policy.save(tmp_path / "ckpt")
    agent = make_agent(f"lm:{path}", taxi, device="cpu")
    infos = [taxi.reset(seed=seed)[1] for seed in range(4)]
    states, actions = [i["state"] for i in infos], [i["actions"] for i in infos]
    assert agent.act_batch(["unused"] * 4, infos) == tiny_policy.act(states, actions, greedy=True)
    assert not any(p.requires_grad for p in agent.policy.parameters())
    # With a reflector, the checkpoint's base model reflects with its LoRA adapters switched off.
    reflecting = make_agent(f"lm:{path}+reflect", taxi, device="cpu")
    assert reflecting.reflector.model is reflecting.policy.model
    assert reflecting.reflector.config.model is None  # "share the policy's base, adapters off"


# ------------------------------------------------------------------------------------------------
# The OpenAI-compatible chat agent, against a stub server on loopback.


@pytest.fixture
def chat_server() -> Iterator[StubChatServer]:
    server = StubChatServer()
    yield server
    server.close()


@pytest.fixture
def taxi_step(taxi) -> tuple[str, dict]:
    return taxi.reset(seed=0)


def test_openai_agent_sends_the_observation_and_reads_the_reply(chat_server, taxi_step):
    obs, info = taxi_step
    chat_server.script = [("reply", "Action: 2")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", "secret", retries=0)
    assert agent.act(obs, info) == 2
    assert agent.last_reply == "Action: 2"
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["body"]["model"] == "stub-model"
    assert request["body"]["messages"][-1] == {"role": "user", "content": obs}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("2", 2),
        (" (1) ", 1),
        ("Move West", 3),
        ("I choose:\n**2. move east**", 2),
        ("<think>5 looks wrong</think>\n1", 1),
        ("`4`", 4),
        ("9", NO_ACTION),  # a number that names no admissible action
        ("fly away", NO_ACTION),
        ("", NO_ACTION),
    ],
)
def test_parse_reply(reply, expected):
    assert parse_reply(reply, TAXI_ACTIONS) == expected


def test_openai_agent_returns_no_action_for_an_unreadable_reply(chat_server, taxi_step):
    chat_server.script = [("reply", "I would rather not drive.")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=0)
    assert agent.act(*taxi_step) == NO_ACTION
    assert "Authorization" not in chat_server.requests[0]["headers"]


def test_openai_agent_retries_server_errors_and_rate_limits(chat_server, taxi_step):
    chat_server.script = [("status", 500), ("status", 429), ("reply", "3")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=2, backoff=0)
    assert agent.act(*taxi_step) == 3
    assert len(chat_server.requests) == 3


def test_openai_agent_gives_up_after_its_retries(chat_server, taxi_step):
    chat_server.script = [("status", 503)] * 3
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=2, backoff=0)
    with pytest.raises(OpenAIChatError, match="failed 3 times, last with HTTP 503"):
        agent.act(*taxi_step)
    assert len(chat_server.requests) == 3


def test_openai_agent_does_not_retry_client_errors(chat_server, taxi_step):
    chat_server.script = [("status", 401)]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=3, backoff=0)
    with pytest.raises(OpenAIChatError, match="HTTP 401"):
        agent.act(*taxi_step)
    assert len(chat_server.requests) == 1


def test_openai_agent_retries_a_timed_out_request(chat_server, taxi_step):
    chat_server.script = [("sleep", 1.0), ("reply", "5")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", timeout=0.2, retries=1, backoff=0)
    assert agent.act(*taxi_step) == 5
    assert len(chat_server.requests) == 2


def test_openai_agent_reads_its_settings_from_the_environment(chat_server, taxi_step, taxi, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url + "/")
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    chat_server.script = [("reply", "1")]
    agent = make_agent("openai", taxi, backoff=0)
    assert agent.name == "openai:env-model"
    assert agent.act(*taxi_step) == 1
    request = chat_server.requests[0]
    assert request["body"]["model"] == "env-model" and request["headers"]["Authorization"] == "Bearer env-key"
    # The spec's model wins over the environment's.
    assert make_agent("openai:other", taxi).model == "other"


def test_openai_agent_needs_an_endpoint_and_a_model(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        OpenAIChatAgent(model="model")
    with pytest.raises(ValueError, match="OPENAI_MODEL"):
        OpenAIChatAgent("http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="http"):
        OpenAIChatAgent("ftp://127.0.0.1/v1", "model")
