"""Agents: random, expert, LM (tiny model) and the OpenAI-compatible chat agent against a loopback stub."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.agents import NO_ACTION, ExpertAgent, LMAgent, OpenAIChatAgent, RandomAgent, env_at, make_agent, play
from reflect_agent.episodes import Turn, make_envs
from tests.agent.chat_stub import StubChatServer, hashed_reply

TAXI = "ReflectRL/DangerousTaxi-v0"
TAXI_ACTIONS = ["move south", "move north", "move east", "move west", "pick up passenger", "drop off passenger"]


@pytest.fixture
def taxi() -> gym.Env:
    return gym.make(TAXI)


def turn(observation: str, info: dict, index: int = 0, previous_action=None, taken=()) -> Turn:
    return Turn(index, observation, info, previous_action, list(taken), seed=0, step=0)


# ------------------------------------------------------------------------------------------------
# Random and expert.


def test_random_agent_picks_only_admissible_actions_reproducibly():
    info = {"action_mask": np.array([1, 1, 1, 0, 0, 0], dtype=np.int8), "actions": ["a", "b", "c"]}
    agent = RandomAgent(seed=3)
    picks = [agent.act("obs", info) for _ in range(300)]
    assert set(picks) == {0, 1, 2}
    agent.reset(seed=3)
    assert [agent.act("obs", info) for _ in range(300)] == picks
    agent.reset(seed=3)
    assert agent.decide([turn("obs", info)] * 300).actions == picks


def test_the_expert_reads_the_sub_env_of_each_turn():
    envs = make_envs(TAXI, 3)
    _, infos = envs.reset(seed=[0, 1, 2])
    agent = make_agent("expert")
    assert isinstance(agent, ExpertAgent)
    turns = [turn("obs", {}, index=i) for i in (2, 0)]
    assert agent.decide(turns, envs).actions == [
        envs.envs[2].unwrapped.expert_action(),
        envs.envs[0].unwrapped.expert_action(),
    ]
    with pytest.raises(TypeError, match="sync vector env"):
        env_at(gym.make_vec(TAXI, 1, vectorization_mode="async"), 0)


def test_play_runs_one_episode_per_seed_reproducibly():
    def successes(spec: str) -> int:
        agent = make_agent(spec)
        envs = make_envs(TAXI, agent.batch_size)
        episodes = play(agent, envs, range(20))
        envs.close()
        assert [e.seed for e in episodes] == list(range(20))
        return sum(e.success for e in episodes)

    assert successes("expert") == 20
    random = successes("random")
    assert random < 20  # a random move often wastes a step, which ends a DangerousTaxi episode
    assert random == successes("random")  # the agent is reset with the first seed


def test_make_agent_rejects_unknown_specs():
    with pytest.raises(ValueError, match="Unknown agent spec 'greedy'"):
        make_agent("greedy")
    with pytest.raises(ValueError, match="reflect_agent.baselines"):
        make_agent("sb3:ppo")
    with pytest.raises(ValueError, match="names no model"):
        make_agent("lm:+reflect")


# ------------------------------------------------------------------------------------------------
# LM agents.


class RecordingPolicy:
    """Stands in for LMPolicy: records what it is asked to encode and picks the last action."""

    def __init__(self):
        self.calls: list[tuple] = []

    def encode(self, states, actions, reflections=None, taken=None):
        self.calls.append((states, actions, reflections, taken))
        return actions

    def get_action_and_value(self, actions, greedy=False):
        self.greedy = greedy
        zeros = torch.zeros(len(actions))
        return torch.tensor([len(a) - 1 for a in actions]), zeros, zeros, zeros


class RecordingReflector:
    def __init__(self):
        self.seen: list[list[str]] = []

    def reflect(self, states, actions):
        self.seen.append(states)
        return [f"analysis {i}" for i in range(len(states))]


def test_lm_agent_decides_by_the_one_decision_step():
    policy, reflector = RecordingPolicy(), RecordingReflector()
    agent = LMAgent(policy, reflector, greedy=True)
    turns = [
        turn("o0", {"state": "s0", "actions": ["a", "b"]}),
        turn("o1", {"state": "s1", "actions": ["a", "b", "c"]}, previous_action="b", taken=["a", "b"]),
    ]
    decision = agent.decide(turns)
    assert decision.actions == [1, 2] and decision.reflections == ["analysis 0", "analysis 1"] and policy.greedy
    assert policy.calls == [
        (["s0", "s1"], [["a", "b"], ["a", "b", "c"]], ["analysis 0", "analysis 1"], [[], ["a", "b"]])
    ]
    # The reflector reads the previous action, as in the trainer's rollouts.
    assert reflector.seen == [["s0", "s1\nLast action: b."]]
    # One observation outside a vector env: the same step, with what info says of the episode.
    assert agent.act("o1", {"state": "s1", "actions": ["a", "b", "c"], "previous_action": "b", "taken": ["b"]}) == 2
    assert policy.calls[-1][-1] == [["b"]] and reflector.seen[-1] == ["s1\nLast action: b."]


def test_an_lm_agents_repeat_penalty_steers_it_off_the_actions_its_episode_took(taxi):
    plain = make_agent("lm:tiny", device="cpu")
    assert plain.policy.config.repeat_penalty == 0.0
    agent = make_agent("lm:tiny", device="cpu", repeat_penalty=100.0)
    assert agent.policy.config.repeat_penalty == 100.0
    _, info = taxi.reset(seed=0)
    first = plain.act("unused", info)
    assert plain.act("unused", {**info, "taken": [TAXI_ACTIONS[first]] * 3}) == first  # no penalty: no change
    assert agent.act("unused", info) == first  # nothing taken yet
    assert agent.act("unused", {**info, "taken": [TAXI_ACTIONS[first]]}) != first


def test_lm_tiny_agent_acts_admissibly(taxi):
    agent = make_agent("lm:tiny", device="cpu", batch_size=4)
    assert isinstance(agent, LMAgent) and agent.reflector is None and agent.batch_size == 4
    infos = [taxi.reset(seed=seed)[1] for seed in range(3)]
    actions = agent.decide([turn("unused", info) for info in infos]).actions
    assert all(0 <= a < len(TAXI_ACTIONS) for a in actions)
    assert actions == [agent.act("unused", info) for info in infos]


def test_lm_agent_can_score_the_action_text(taxi):
    agent = make_agent("lm:tiny", device="cpu", decider="scoring")
    assert agent.policy.config.decider == "scoring"
    _, info = taxi.reset(seed=0)
    assert 0 <= agent.act("unused", info) < len(TAXI_ACTIONS)


def test_lm_tiny_reflect_agent_shares_the_frozen_base(taxi):
    agent = make_agent("lm:tiny+reflect", device="cpu")
    assert agent.reflector is not None and agent.reflector.model is agent.policy.model
    agent.reflector.config.max_new_tokens = 4  # keep the test fast; the spec's wiring is what is tested
    _, info = taxi.reset(seed=0)
    assert 0 <= agent.act("unused", {**info, "previous_action": None}) < len(TAXI_ACTIONS)


def test_lm_checkpoint_spec_loads_the_saved_policy(tiny_policy, taxi, tmp_path):
    path = tiny_policy.save(tmp_path / "ckpt")
    agent = make_agent(f"lm:{path}", device="cpu")
    infos = [taxi.reset(seed=seed)[1] for seed in range(4)]
    states, actions = [i["state"] for i in infos], [i["actions"] for i in infos]
    assert agent.decide([turn("unused", info) for info in infos]).actions == tiny_policy.act(
        states, actions, greedy=True
    )
    assert not any(p.requires_grad for p in agent.policy.parameters())
    # With a reflector, the checkpoint's base model reflects with its LoRA adapters switched off.
    reflecting = make_agent(f"lm:{path}+reflect", device="cpu")
    assert reflecting.reflector.model is reflecting.policy.model
    assert reflecting.reflector.config.model is None  # "share the policy's base, adapters off"


# ------------------------------------------------------------------------------------------------
# The OpenAI-compatible chat agent, against a stub server on loopback.


@pytest.fixture
def taxi_step(taxi) -> tuple[str, dict]:
    return taxi.reset(seed=0)


def test_openai_agent_sends_the_observation_and_reads_the_reply(chat_server, taxi_step):
    obs, info = taxi_step
    chat_server.script = [("reply", "Action: 2")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", "secret", retries=0)
    decision = agent.decide([turn(obs, info)])
    assert decision.actions == [2] and decision.replies == ["Action: 2"] and agent.last_reply == "Action: 2"
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["body"]["model"] == "stub-model"
    assert request["body"]["messages"][-1] == {"role": "user", "content": obs}


def test_openai_agent_reads_a_reply_by_the_one_parser(chat_server, taxi_step):
    obs, info = taxi_step
    chat_server.script = [("reply", "<think>5 looks wrong</think>\nI choose:\n**2. move east**")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=0)
    assert agent.decide([turn(obs, info)]).actions == [2]


def test_openai_agent_returns_no_action_for_an_unreadable_reply(chat_server, taxi_step):
    chat_server.script = [("reply", "I would rather not drive.")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", retries=0)
    assert agent.decide([turn(*taxi_step)]).actions[0] == NO_ACTION
    assert "Authorization" not in chat_server.requests[0]["headers"]


def test_openai_agent_retries_a_timed_out_request(chat_server, taxi_step):
    chat_server.script = [("sleep", 1.0), ("reply", "5")]
    agent = OpenAIChatAgent(chat_server.base_url, "stub-model", timeout=0.2, retries=1, backoff=0)
    assert agent.decide([turn(*taxi_step)]).actions[0] == 5
    assert len(chat_server.requests) == 2


def test_openai_agent_reads_its_settings_from_the_environment(chat_server, taxi_step, taxi, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url + "/")
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    chat_server.script = [("reply", "1")]
    agent = make_agent("openai", backoff=0)
    assert agent.name == "openai:env-model"
    assert agent.decide([turn(*taxi_step)]).actions[0] == 1
    request = chat_server.requests[0]
    assert request["body"]["model"] == "env-model" and request["headers"]["Authorization"] == "Bearer env-key"
    # The spec's model wins over the environment's.
    assert make_agent("openai:other").model == "other"


def test_openai_agent_sends_its_turns_requests_at_once_and_gives_each_turn_its_own_reply(taxi):
    observations = [taxi.reset(seed=seed) for seed in range(4)]
    turns = [turn(obs, info, index=i) for i, (obs, info) in enumerate(observations)]
    slow = turns[0].observation  # answered last, so replies arrive out of turn order

    def respond(body: dict) -> str:
        time.sleep(0.3 if body["messages"][-1]["content"] == slow else 0.0)
        return hashed_reply(body)

    decisions, in_flight = [], []
    for concurrency in (1, 4):
        server = StubChatServer(respond, delay=0.3)
        try:
            agent = OpenAIChatAgent(server.base_url, "stub-model", retries=0, concurrency=concurrency)
            assert agent.batch_size == concurrency  # the harness plays this many envs at once
            decisions.append(agent.decide(turns))
            in_flight.append(server.max_in_flight)
        finally:
            server.close()
    sequential, concurrent = decisions
    assert in_flight == [1, 4]
    expected = [hashed_reply({"messages": [{"content": t.observation}]}) for t in turns]
    assert len(set(expected)) > 1  # else a mix-up of replies could not show
    assert sequential.replies == concurrent.replies == expected
    assert sequential.actions == concurrent.actions
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        OpenAIChatAgent("http://127.0.0.1:1/v1", "stub-model", concurrency=0)


def test_an_lm_agent_runs_its_policy_once_per_distinct_prompt_of_a_play_and_forgets_them_at_a_reset():
    from reflect_agent.frozen_blocks import decoder_blocks
    from reflect_agent.policy import causal_lm
    from tests.agent.toy_envs import WALK

    def played(agent: LMAgent) -> tuple[list[list[int]], int]:
        rows: list[int] = []
        _, blocks = decoder_blocks(causal_lm(agent.policy.model).base_model)
        hook = blocks[0].register_forward_hook(lambda _module, args, _output: rows.append(args[0].shape[0]))
        envs = make_envs(WALK, 4, env_kwargs={"horizon": 6, "length": 4})
        episodes = play(agent, envs, range(8))
        envs.close()
        hook.remove()
        return [e.chosen for e in episodes], sum(rows)

    agent = make_agent("lm:tiny", device="cpu", batch_size=4)
    plain = LMAgent(agent.policy, batch_size=4, reuse_prompts=False)
    chosen, rows = played(agent)
    assert (chosen, rows) == (played(plain)[0], agent.scored.scored) and rows < played(plain)[1]
    assert agent.scored.reused > agent.scored.scored  # the corridor's few states come back in every episode
    # A play resets the agent: the policy runs again (its weights may have changed between plays).
    chosen, rows = played(agent)
    assert rows == agent.scored.scored > 0 and chosen == played(plain)[0]
