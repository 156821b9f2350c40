"""The one episode runner and the LM decision step, tested once for every caller (rollouts, evaluation, the
harness, agents)."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.config import top_layers_lora_targets
from reflect_agent.episodes import Decision, Episode, ScoredPrompts, Turn, decide, make_envs, play_episodes
from reflect_agent.frozen_blocks import decoder_blocks
from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm
from reflect_gym.wrappers import NO_ACTION
from tests.agent.conftest import perturb_lora
from tests.agent.toy_envs import BANDIT, WALK


class Script:
    """Decides by a fixed rule of (seed, step) and records every turn it was shown."""

    def __init__(self, rule):
        self.rule = rule
        self.turns: list[Turn] = []

    def __call__(self, turns: list[Turn]) -> Decision:
        self.turns += turns
        return Decision([self.rule(t.seed, t.step) for t in turns], reflections=[f"s{t.seed}" for t in turns])


def test_every_seed_is_played_once_in_order_whatever_the_number_of_envs():
    def rule(seed, step):  # seed 0 waits until truncated, the others walk into the wall at different steps
        return 1 if seed == 0 or step < seed % 2 else 2

    seeds = [0, 1, 2, 3, 4]
    played = {}
    for count in (1, 2, 5, 8):
        envs = make_envs(WALK, count, env_kwargs={"horizon": 3})
        played[count] = play_episodes(envs, seeds, Script(rule), env_id=WALK)
        envs.close()
    assert [e.seed for e in played[2]] == seeds
    assert [len(e) for e in played[2]] == [3, 2, 1, 2, 1]
    for count in (1, 5, 8):
        assert [(e.seed, e.chosen, e.rewards, e.terminated) for e in played[count]] == [
            (e.seed, e.chosen, e.rewards, e.terminated) for e in played[2]
        ]


def test_more_episodes_ending_at_once_than_seeds_left_start_only_the_seeds_left():
    envs = make_envs(BANDIT, 4)
    episodes = play_episodes(envs, range(6), Script(lambda seed, step: 2))  # four end at once, two seeds left
    envs.close()
    assert [e.seed for e in episodes] == list(range(6)) and all(e.success for e in episodes)


def test_the_runner_keeps_each_episodes_history_and_shows_it_to_the_agent():
    envs = make_envs(WALK, 2, env_kwargs={"horizon": 4, "length": 9})
    script = Script(lambda seed, step: [0, NO_ACTION, 1, 0][step])
    episodes = play_episodes(envs, [7, 8], script)
    envs.close()
    seen = [(t.seed, t.step, t.previous_action, t.taken) for t in script.turns if t.seed == 7]
    assert seen == [
        (7, 0, None, []),
        (7, 1, "step right", ["step right"]),
        (7, 2, None, ["step right"]),  # after an invalid step there is no previous action, and nothing is taken
        (7, 3, "wait", ["step right", "wait"]),
    ]
    episode = episodes[0]
    assert episode.chosen == [0, NO_ACTION, 1, 0] and episode.invalid_steps == 1
    assert episode.rewards[1] == pytest.approx(-0.1)  # the env's invalid-action penalty, counted as a step
    assert episode.taken() == ["step right", "wait", "step right"]
    assert episode.reflections == ["s7"] * 4


def test_the_runner_records_each_steps_reply_and_whether_the_env_counted_it_invalid():
    def chat(turns: list[Turn]) -> Decision:
        return Decision([[0, NO_ACTION, 1][t.step] for t in turns], replies=[f"{t.seed}/{t.step}" for t in turns])

    envs = make_envs(WALK, 2, env_kwargs={"horizon": 3, "length": 9})
    episodes = play_episodes(envs, [4, 5, 6], chat)
    assert [(e.replies, e.invalid, e.invalid_steps) for e in episodes] == [
        ([f"{seed}/0", f"{seed}/1", f"{seed}/2"], [False, True, False], 1) for seed in (4, 5, 6)
    ]
    # An agent that writes no replies (an LM policy): none at each step.
    (episode,) = play_episodes(envs, [7], Script(lambda seed, step: 1))
    envs.close()
    assert episode.replies == [None] * 3 and episode.invalid == [False] * 3
    with pytest.raises(ValueError, match="replies hold one entry per step or none; got 1 for 2 steps"):
        Episode(["s", "t"], [["a"], ["a"]], [None, None], [0, 0], [0.0, 0.0], True, False, replies=["0"])


def test_truncation_keeps_the_state_to_bootstrap_from_and_termination_does_not():
    envs = make_envs(WALK, 2, env_kwargs={"horizon": 2})
    episodes = play_episodes(envs, [0, 1], Script(lambda seed, step: 1 if seed == 0 else 2))
    envs.close()
    truncated, terminated = episodes
    assert not truncated.terminated and truncated.final_state == "You are 3 steps from the exit."
    assert truncated.final_actions == ["step right", "wait", "step left"]
    assert terminated.terminated and terminated.final_state is None and not terminated.success


def test_sync_and_async_vector_envs_play_the_same_episodes():
    script = Script(lambda seed, step: (seed + step) % 3)
    played = []
    for mode in ("sync", "async"):
        envs = make_envs(WALK, 2, vectorization=mode, env_kwargs={"horizon": 3})
        played.append([(e.states, e.chosen, e.rewards) for e in play_episodes(envs, range(5), script)])
        envs.close()
    assert played[0] == played[1]


def test_bad_calls_name_the_problem():
    envs = make_envs(BANDIT, 1)
    with pytest.raises(ValueError, match="at least one seed"):
        play_episodes(envs, [], Script(lambda seed, step: 0))
    with pytest.raises(ValueError, match="2 actions for 1 turns"):
        play_episodes(envs, [0], lambda turns: Decision([0, 0]))
    envs.close()
    with pytest.raises(ValueError, match="num_envs must be at least 1, got 0"):
        make_envs(BANDIT, 0)


def test_the_decision_step_reflects_on_the_last_action_and_scores_every_turn_in_one_batch():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", repeat_penalty=50.0))

    class Reflector:
        def __init__(self):
            self.seen = []

        def reflect(self, states, actions):
            self.seen += states
            return ["mind the wall"] * len(states)

    reflector = Reflector()
    info = {"state": "You are 3 steps from the exit.", "actions": ["step right", "wait", "step left"]}
    turns = [Turn(0, "", info, None, [], 0, 0), Turn(1, "", info, "wait", ["wait", "wait"], 1, 2)]
    timings: dict[str, float] = {}
    decision = decide(policy, reflector, turns, greedy=True, timings=timings)
    assert reflector.seen == [info["state"], info["state"] + "\nLast action: wait."]
    assert decision.reflections == ["mind the wall"] * 2 and len(decision.batch) == 2
    assert decision.batch.repeats.tolist() == [[0, 0, 0], [0, 2, 0]]
    assert decision.actions[1] != 1  # 100 nats off "wait", taken twice in its episode
    assert decision.logprobs.shape == decision.values.shape == torch.Size([2])
    assert set(timings) == {"reflect_s", "policy_s"}


@pytest.mark.parametrize("decider", ["labels", "scoring"])
def test_a_prompt_met_again_goes_through_the_policy_once_and_each_decision_keeps_its_own_penalty(decider):
    policy = LMPolicy.from_config(
        PolicyConfig(
            model="tiny",
            device="cpu",
            decider=decider,
            repeat_penalty=0.5,
            lora_target_modules=top_layers_lora_targets("tiny", 1),  # block 0 frozen: its states are kept
        )
    )
    perturb_lora(policy)
    _, blocks = decoder_blocks(causal_lm(policy.model).base_model)
    rows_run: list[int] = []
    blocks[0].register_forward_hook(lambda _module, args, _output: rows_run.append(args[0].shape[0]))
    actions = ["step right", "wait", "step left"]
    here, there = (
        {"state": "You are 3 steps from the exit.", "actions": actions},
        {"state": "A hall.", "actions": actions},
    )
    first = [Turn(0, "", here, None, [], 0, 0), Turn(1, "", there, None, [], 1, 0), Turn(2, "", here, None, [], 2, 0)]
    # Met again with "wait" taken: the penalty is each decision's own, applied to the scores kept from the first.
    later = [Turn(0, "", there, "wait", ["wait", "wait"], 0, 2), Turn(1, "", here, "wait", ["wait"], 1, 1)]
    scored = ScoredPrompts(policy, keep_frozen=True)
    for turns in (first, later):
        rows_run.clear()
        plain = decide(policy, None, turns, greedy=True, keep_frozen=True)
        assert rows_run == [len(turns)]
        rows_run.clear()
        reusing = decide(policy, None, turns, greedy=True, keep_frozen=True, scored=scored)
        assert reusing.actions == plain.actions
        torch.testing.assert_close(reusing.logprobs, plain.logprobs)
        torch.testing.assert_close(reusing.values, plain.values)
        # The kept batch is the plain one, frozen states and repeat counts alike: an update from it agrees.
        assert reusing.batch.repeats.tolist() == plain.batch.repeats.tolist()
        assert reusing.batch.frozen_blocks == plain.batch.frozen_blocks == 1
        with torch.no_grad():
            for got, want in zip(policy(reusing.batch), policy(plain.batch), strict=True):
                torch.testing.assert_close(got, want)
        if turns is first:
            assert rows_run == [2]  # "here" once for turns 0 and 2, "there" once
        else:
            assert rows_run == []  # both prompts were scored in the first batch
    assert (scored.scored, scored.reused) == (2, 3)
    with pytest.raises(ValueError, match="another policy or keep_frozen setting"):
        decide(policy, None, first, scored=scored)  # made with keep_frozen=True
    policy.train()
    with pytest.raises(RuntimeError, match="dropout"):
        decide(policy, None, first, keep_frozen=True, scored=scored)
