"""The ReflectRL env contract, checked on every registered id (see reflect_gym/core.py)."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env, data_equivalence

from reflect_gym import InvalidActionError, TextActions
from reflect_gym.core import CHARSET, PromptText, TextEnv, expert_action, state_facts
from tests.utils import ENV_IDS, make_or_skip, random_admissible

INFO_KEYS = {"actions", "action_mask", "state", "invalid_action", "success"}
# Actions that never end an ALFWorld episode; its game state cannot be deep-copied to look ahead.
HARMLESS_ACTIONS = ("look", "inventory")


def run_episode(env: gym.Env, rng: np.random.Generator, seed: int | None) -> list[tuple]:
    """Every (obs, reward, terminated, truncated, info) of one episode with random admissible actions."""
    obs, info = env.reset(seed=seed)
    transitions: list[tuple] = [(obs, info)]
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(random_admissible(rng, info))
        transitions.append((obs, reward, terminated, truncated, info))
        done = terminated or truncated
    return transitions


def non_terminating_action(env: gym.Env, info: dict) -> int:
    """An admissible action that does not end the episode, found by looking ahead on a copy."""
    for index, action in enumerate(info["actions"]):
        if action in HARMLESS_ACTIONS:
            return index
    for index in range(len(info["actions"])):
        _, _, terminated, _, _ = copy.deepcopy(env).step(index)
        if not terminated:
            return index
    raise AssertionError(f"every action ends the episode in state:\n{info['state']}")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id):
    env = make_or_skip(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    messages = [str(w.message) for w in caught if "gymnasium" in w.filename or "reflect_gym" in w.filename]
    assert not messages, messages
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observation_and_info_follow_the_contract(env_id):
    env = make_or_skip(env_id)
    obs, info = env.reset(seed=0)
    for _ in range(3):
        assert env.observation_space.contains(obs)
        assert set(info) >= INFO_KEYS
        n = len(info["actions"])
        assert info["action_mask"].dtype == np.int8 and info["action_mask"].shape == (env.action_space.n,)
        assert info["action_mask"].tolist() == [1] * n + [0] * (env.action_space.n - n)
        assert obs.startswith(info["state"])
        assert obs.endswith("\n".join(f"{i}. {a}" for i, a in enumerate(info["actions"])))
        obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_state_facts_are_json_and_both_capabilities_reach_through_the_wrappers(env_id):
    env = make_or_skip(env_id)
    env.reset(seed=0)
    for _ in range(3):
        facts = state_facts(env)
        assert isinstance(facts, dict)
        assert json.loads(json.dumps(facts)) == facts, "state_facts() must survive a JSON round trip"
        assert facts == env.unwrapped.state_facts()
        action = expert_action(env)
        assert type(action) is int and action == env.unwrapped.expert_action()
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    env.close()


def test_capability_helpers_name_the_env_and_the_fix():
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match=r"CartPoleEnv \(CartPole-v1\) has no expert_action\(\).*TextEnv"):
        expert_action(env)
    with pytest.raises(TypeError, match=r"has no state_facts\(\)"):
        state_facts(env)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_episodes(env_id):
    first, second = make_or_skip(env_id), make_or_skip(env_id)
    for episode in range(3):
        seed = 123 if episode == 0 else None  # later episodes follow the env's own RNG
        a = run_episode(first, np.random.default_rng(episode), seed)
        b = run_episode(second, np.random.default_rng(episode), seed)
        assert len(a) == len(b)
        for step_a, step_b in zip(a, b, strict=True):
            assert data_equivalence(step_a, step_b), f"episode {episode} diverged"
    first.close()
    second.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_expert_succeeds(env_id):
    env = make_or_skip(env_id)
    for seed in range(5):
        _, info = env.reset(seed=seed)
        done = False
        while not done:
            action = env.unwrapped.expert_action()
            assert info["action_mask"][action] == 1, "the expert chose a masked-out action"
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        assert info["success"] and terminated, f"the expert failed on seed {seed}"
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_truncates_at_exactly_the_horizon(env_id):
    horizon = 6
    env = make_or_skip(env_id, horizon=horizon)
    assert env.spec.max_episode_steps is None, "the env owns truncation; no TimeLimit"
    _, info = env.reset(seed=0)
    for step in range(1, horizon + 1):
        _, _, terminated, truncated, info = env.step(non_terminating_action(env.unwrapped, info))
        assert not terminated
        assert truncated == (step == horizon), f"truncated={truncated} at step {step} of {horizon}"
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickled_env_replays_the_same_episode(env_id):
    env = make_or_skip(env_id)
    _, info = env.reset(seed=7)
    env.step(random_admissible(np.random.default_rng(0), info))
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    a = run_episode(env.unwrapped, np.random.default_rng(1), 11)
    b = run_episode(clone, np.random.default_rng(1), 11)
    assert data_equivalence(a, b)
    env.close()
    clone.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_env_plays_what_a_single_env_plays(env_id, mode):
    horizon = 6  # short episodes, so the vector env's autoreset (NEXT_STEP, the default) is crossed twice
    single = make_or_skip(env_id, horizon=horizon)  # skips early when the extra is missing
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, horizon=horizon)
    try:
        expected, _ = single.reset(seed=0)
        obs, infos = envs.reset(seed=0)  # env 0 takes seed 0
        rng = np.random.default_rng(0)
        ended, ends = False, 0
        for _ in range(2 * horizon + 2):
            # Gymnasium batches Text observations as a tuple of strings; env 0's must be the single env's, step by
            # step (an async env that lost its live text would repeat its first observation).
            assert len(obs) == 2 and all(isinstance(o, str) for o in obs)
            assert obs[0] == expected
            actions = np.array([int(rng.choice(np.flatnonzero(mask))) for mask in infos["action_mask"]])
            obs, rewards, terminated, truncated, infos = envs.step(actions)
            if ended:  # the vector env resets the ended env instead of stepping it (which would raise)
                expected, _ = single.reset()
                assert rewards[0] == 0 and not terminated[0] and not truncated[0]
                ended = False
                continue
            expected, reward, done, cut, _ = single.step(int(actions[0]))
            assert rewards.shape == (2,) and rewards[0] == pytest.approx(reward)
            assert terminated[0] == done and truncated[0] == cut
            ended = done or cut
            ends += ended
        assert obs[0] == expected and ends >= 2
    finally:
        envs.close()
        single.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stepping_an_ended_episode_raises_until_reset(env_id):
    env = make_or_skip(env_id)
    with pytest.raises(ResetNeeded, match=r"no episode has started; call reset\(\)"):
        env.unwrapped.step(0)  # gym.make's OrderEnforcing says the same one layer up
    _, info = env.reset(seed=0)
    terminated = False
    while not terminated:
        _, _, terminated, truncated, info = env.step(expert_action(env))
        assert not truncated
    assert info["success"]
    message = rf"{env_id}: cannot step, the episode ended \(terminated\) at step \d+; call reset\(\)"
    with pytest.raises(ResetNeeded, match=message):
        env.step(0)
    with pytest.raises(ResetNeeded, match=message):
        TextActions(env).step("fly to the moon")  # an invalid action is a step too
    with pytest.raises(ResetNeeded, match=message):
        env.step(env.action_space.n)  # before the action is even read
    _, info = env.reset(seed=0)
    env.step(non_terminating_action(env.unwrapped, info))  # a new episode steps again
    short = make_or_skip(env_id, horizon=6)
    _, info = short.reset(seed=0)
    truncated = False
    while not truncated:
        *_, truncated, info = short.step(non_terminating_action(short.unwrapped, info))
    with pytest.raises(ResetNeeded, match=rf"{env_id}: cannot step, the episode ended \(truncated\) at step 6"):
        short.step(0)
    env.close()
    short.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_invalid_actions(env_id):
    env = make_or_skip(env_id)
    obs, info = env.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step(env.action_space.n)
    masked = len(info["actions"])
    if masked < env.action_space.n:
        after, reward, terminated, _, after_info = env.step(masked)
        assert after == obs and after_info["invalid_action"] and not terminated
        assert reward == env.unwrapped.invalid_action_penalty
        strict = make_or_skip(env_id, invalid_action="raise")
        strict.reset(seed=0)
        with pytest.raises(InvalidActionError):
            strict.step(masked)
        strict.close()
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_text_actions_accept_labels_indices_and_action_strings(env_id):
    env, reference = TextActions(make_or_skip(env_id)), make_or_skip(env_id)
    obs, info = env.reset(seed=3)
    reference.reset(seed=3)
    rng = np.random.default_rng(0)
    forms = ["{i}", " {i}. ", "({i})", "[{i}]", "Action: {i}", "{action_upper}", "  {action}  "]
    for step in range(6):
        index = random_admissible(rng, info)
        action = info["actions"][index]
        text = forms[step % len(forms)].format(i=index, action=action, action_upper=action.upper())
        obs, reward, terminated, truncated, info = env.step(text)
        expected = reference.step(index)
        assert info["parsed_action"] == index
        assert data_equivalence((obs, reward, terminated, truncated), expected[:4])
        if terminated or truncated:
            break
    env.close()
    reference.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_text_actions_treat_other_text_as_invalid_and_count_it_as_a_step(env_id):
    texts = ["fly to the moon", "", "99", "north-ish", "?", "take a nap"]  # as many as the horizon
    env = TextActions(make_or_skip(env_id, horizon=len(texts)))
    obs, info = env.reset(seed=0)
    for step, text in enumerate(texts, start=1):
        after, reward, terminated, truncated, after_info = env.step(text)
        assert after_info["parsed_action"] == -1 and after_info["invalid_action"]
        assert after == obs and not terminated
        assert truncated == (step == len(texts)), f"an invalid action is a step: truncated={truncated} at {step}"
        if not truncated:  # some envs add a penalty for running out of time
            assert reward == env.unwrapped.invalid_action_penalty
    env.close()


class LongState(TextEnv):
    """A state far longer than the observation limit."""

    def __init__(self, render_mode: str | None = None):
        super().__init__(max_actions=3, max_length=300, horizon=2, render_mode=render_mode)

    def _reset_state(self, options):
        pass

    def _admissible_actions(self):
        return ["open the door", "read the note", "wait"]

    def _state_text(self):
        return "A very long note. " * 200

    def _apply(self, index):
        return 0.0, index == 0, index == 0

    def expert_action(self):
        return 0


def test_a_long_state_is_cut_and_the_actions_stay_in_the_observation():
    env = LongState()
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and len(obs) <= 300
    assert obs.endswith("0. open the door\n1. read the note\n2. wait")
    assert info["state"].startswith("A very long note.") and info["state"].endswith("cut to fit the observation limit]")
    assert obs == f"{info['state']}\n\n0. open the door\n1. read the note\n2. wait"


def test_the_observation_space_holds_the_scripts_of_real_repositories_and_stays_cheap():
    space = PromptText(256, seed=0)
    text = "数据 ファイル 한국어 العربية עברית हिन्दी ไทย Tiếng Việt café e\u0301 👨\u200d👩\u200d👧 ❤\ufe0f 🇫🇷（注）"
    assert space.contains(text) and all(c in CHARSET for c in text)
    assert not space.contains("\u1230") and not space.contains("tab\t")  # Ethiopic, a control: outside
    assert space == spaces.Text(256, charset=CHARSET) and space.characters == "".join(sorted(CHARSET))
    assert all(space.contains(space.sample()) for _ in range(5))
    flat = spaces.flatten(space, text)  # the codes an async vector env writes to shared memory
    assert spaces.unflatten(space, flat) == text and flat[len(text)] == len(CHARSET)  # then padding
    # The charset's tables are shared, not held by each space: a space pickles and copies as a short one.
    assert len(pickle.dumps(space)) < 2_000 and len(pickle.dumps(copy.deepcopy(space))) < 2_000
    assert pickle.loads(pickle.dumps(space)) == space and repr(space) == "PromptText(min_length=1, max_length=256)"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_ansi_returns_text(env_id):
    env = make_or_skip(env_id, render_mode="ansi")
    env.reset(seed=0)
    assert isinstance(env.render(), str) and env.render()
    env.close()


def test_import_registers_without_heavy_dependencies():
    code = (
        "import sys, gymnasium as gym\n"
        "env = gym.make('reflect_gym:ReflectRL/DangerousTaxi-v0')\n"
        "env.reset(seed=0)\n"
        "heavy = [m for m in ('torch', 'minigrid', 'alfworld', 'textworld', 'reflect_agent') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
