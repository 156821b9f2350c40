"""The evaluation harness (``reflect-rl evaluate``): metrics, batching, invalid actions, results, resume, skips."""

from __future__ import annotations

import itertools
import json
import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

import reflect_agent.harness as harness
from reflect_agent.agents import NO_ACTION, ExpertAgent
from reflect_agent.cli import main as reflect_rl
from reflect_agent.episodes import Decision
from reflect_agent.stats import wilson_interval
from tests.agent.chat_stub import StubChatServer, hashed_reply

TAXI = "ReflectRL/DangerousTaxi-v0"
PICKUP = "ReflectRL/DangerousTaxi-Pickup-v0"
CELL_KEYS = {
    "env",
    "agent",
    "episodes",
    "seed",
    "success_rate",
    "success_ci95",
    "mean_return",
    "mean_steps",
    "invalid_action_rate",
    "decisions_per_second",
    "metadata",
}


#: The keys of an episode's trace and of each of its turns, in order: the format a trace viewer reads.
TRACE_KEYS = ("env_id", "agent", "seed", "success", "return", "steps", "terminated", "truncated", "turns")
TURN_KEYS = ("state", "actions", "reflection", "reply", "action", "action_text", "reward", "invalid")


def evaluate(argv: list[str]) -> int:
    """``reflect-rl evaluate ARGV``."""
    return reflect_rl(["evaluate", *argv])


def args(**overrides) -> harness.EvaluateArgs:
    return harness.EvaluateArgs(**{"agent": ("expert",), "out": "unused.json", "progress": False, **overrides})


def run_cell(agent, episodes: int, seed: int, env_id: str = TAXI, **kwargs) -> dict:
    """The metrics of ``agent`` (an object, not a spec) over one cell."""
    harness_args = args(episodes=episodes, seed=seed, **kwargs)
    original = harness.build_agent
    harness.build_agent = lambda spec, env_id, a: agent
    try:
        return harness.evaluate_cell(env_id, "object", harness_args)[0]
    finally:
        harness.build_agent = original


def read_traces(path) -> dict[tuple[str, str], list[dict]]:
    """The episode traces in ``path`` by cell."""
    traces: dict[tuple[str, str], list[dict]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        traces.setdefault((record["env_id"], record["agent"]), []).append(record)
    return traces


class ObservationAgent:
    """A deterministic function of the observation, so batched and one-at-a-time runs must agree."""

    name = "hash"

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.turns: list = []

    def reset(self, seed=None):
        pass

    def decide(self, turns, envs):
        self.turns += turns
        return Decision([sum(map(ord, t.observation)) % len(t.actions) for t in turns])


# ------------------------------------------------------------------------------------------------
# Statistics.


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [(0, 10, (0.0, 0.2775)), (5, 10, (0.2366, 0.7634)), (10, 10, (0.7225, 1.0)), (81, 100, (0.7222, 0.8749))],
)
def test_wilson_interval_matches_reference_values(successes, trials, expected):
    assert wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-4)


def test_wilson_interval_rejects_impossible_counts():
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(4, 3)


# ------------------------------------------------------------------------------------------------
# Running episodes.


def test_expert_cell_matches_a_plain_loop_over_seeds():
    metrics = run_cell(ExpertAgent(), episodes=6, seed=10)
    env = gym.make(TAXI)
    returns, steps = [], []
    for seed in range(10, 16):
        _, info = env.reset(seed=seed)
        total, count, done = 0.0, 0, False
        while not done:
            _, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
            total, count, done = total + reward, count + 1, terminated or truncated
        returns.append(total)
        steps.append(count)
    assert metrics["success_rate"] == 1.0 and metrics["invalid_action_rate"] == 0.0
    assert metrics["mean_return"] == pytest.approx(np.mean(returns))
    assert metrics["mean_steps"] == pytest.approx(np.mean(steps))
    assert metrics["decisions"] == sum(steps) and metrics["decisions_per_second"] > 0
    assert metrics["success_ci95"] == pytest.approx(list(wilson_interval(6, 6)))
    assert metrics["metadata"]["batch_size"] == 1


def test_batched_episodes_give_the_same_results_as_one_at_a_time():
    one = run_cell(ObservationAgent(1), episodes=7, seed=3)
    batched = run_cell(ObservationAgent(3), episodes=7, seed=3)
    assert batched["metadata"]["batch_size"] == 3
    for key in ("success_rate", "mean_return", "mean_steps", "invalid_action_rate", "steps", "decisions"):
        assert batched[key] == pytest.approx(one[key]), key


def test_the_agent_sees_the_previous_action_and_all_the_episodes_actions():
    class RecordingExpert(ExpertAgent):
        def decide(self, turns, envs):
            decision = super().decide(turns, envs)
            seen.extend(zip(turns, decision.actions, strict=True))
            return decision

    seen: list = []
    run_cell(RecordingExpert(), episodes=1, seed=0)
    assert len(seen) > 2 and seen[0][0].previous_action is None and seen[0][0].taken == []
    for (before, action), (after, _) in zip(seen, seen[1:], strict=False):
        assert after.previous_action == before.actions[action]
        assert after.taken == [*before.taken, before.actions[action]]


def test_an_agent_that_names_no_action_steps_an_invalid_action():
    class Mute(ObservationAgent):
        def decide(self, turns, envs):
            self.turns += turns
            return Decision([NO_ACTION] * len(turns))

    agent = Mute(1)
    metrics = run_cell(agent, episodes=2, seed=0, env_id=PICKUP, env_kwargs=("*:horizon=5",))
    # Every step is invalid: the penalty, the state unchanged, until the horizon truncates.
    penalty = gym.make(PICKUP).unwrapped.invalid_action_penalty
    assert metrics["invalid_action_rate"] == 1.0 and metrics["mean_steps"] == 5
    assert metrics["mean_return"] == pytest.approx(5 * penalty)
    assert all(t.previous_action is None for t in agent.turns)


# ------------------------------------------------------------------------------------------------
# The command line: results, table, resume, skips.


def test_cli_writes_results_and_table(tmp_path, capsys):
    out, table = tmp_path / "results.json", tmp_path / "results.md"
    argv = ["--env", "DangerousTaxi-v0", "--agent", "random", "expert", "--episodes", "5", "--seed", "2"]
    assert evaluate([*argv, "--out", str(out), "--table", str(table), "--no-progress"]) == 0
    cells = json.loads(out.read_text())["results"]
    assert [(c["env"], c["agent"]) for c in cells] == [(TAXI, "random"), (TAXI, "expert")]
    for cell in cells:
        assert cell.keys() >= CELL_KEYS
        assert cell["episodes"] == 5 and cell["seed"] == 2
        assert {"python", "reflect_gym", "timestamp"} <= cell["metadata"].keys()
    assert cells[1]["success_rate"] == 1.0
    text = table.read_text()
    assert "| DangerousTaxi-v0 | `expert` | 5 | 1.00 [" in text
    assert text in capsys.readouterr().out
    page = (tmp_path / "results.traces.html").read_text()  # the episodes, to read in a browser
    assert page.count("<details class='episode'") == 10 and "expert" in page and "random" in page
    assert not list(tmp_path.glob(".*")), "a temporary file was left behind"


def test_cli_runs_an_openai_compatible_agent_and_counts_unreadable_replies(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = StubChatServer()
    # With horizon 2, episode 1 gets an unreadable reply (an invalid action) then "4" (admissible), and
    # episode 2 two unreadable replies: 3 invalid steps of 4. (One request at a time: the script answers requests
    # in the order they arrive.)
    server.script = [("reply", "no idea"), ("reply", "4"), ("reply", "?"), ("reply", "??")]
    out = tmp_path / "results.json"
    try:
        evaluate(
            ["--env", PICKUP, "--agent", "openai:stub-model", "--openai-base-url", server.base_url]
            + ["--openai-retries", "0", "--episodes", "2", "--out", str(out), "--no-progress", "--concurrency", "1"]
            + ["--env-kwargs", "*:horizon=2"]
        )
    finally:
        server.close()
    (cell,) = json.loads(out.read_text())["results"]
    assert len(server.requests) == 4 and server.requests[0]["body"]["model"] == "stub-model"
    assert cell["agent"] == "openai:stub-model" and cell["steps"] == 4
    assert cell["invalid_action_rate"] == 0.75


def test_an_interrupted_matrix_resumes_where_it_stopped(tmp_path, monkeypatch):
    out = tmp_path / "results.json"
    argv = ["--env", TAXI, PICKUP, "--agent", "expert", "random", "--episodes", "3", "--out", str(out), "--no-progress"]
    real_build = harness.build_agent

    def build_until_third(spec, env_id, a):
        if out.exists() and len(harness.load_results(out)) == 2:
            raise KeyboardInterrupt
        return real_build(spec, env_id, a)

    monkeypatch.setattr(harness, "build_agent", build_until_third)
    with pytest.raises(KeyboardInterrupt):
        evaluate(argv)
    assert len(json.loads(out.read_text())["results"]) == 2
    traces = tmp_path / "results.traces.jsonl"
    assert list(read_traces(traces)) == [(TAXI, "expert"), (TAXI, "random")]

    monkeypatch.setattr(harness, "build_agent", real_build)
    ran = []
    real_cell = harness.evaluate_cell
    monkeypatch.setattr(harness, "evaluate_cell", lambda *a, **kw: ran.append(a[:2]) or real_cell(*a, **kw))
    evaluate(argv)
    assert ran == [(PICKUP, "expert"), (PICKUP, "random")]
    assert len(json.loads(out.read_text())["results"]) == 4
    before = read_traces(traces)  # the first run's traces are kept, the resumed run's added
    assert list(before) == [(TAXI, "expert"), (TAXI, "random"), (PICKUP, "expert"), (PICKUP, "random")]
    assert all([t["seed"] for t in cell] == [0, 1, 2] for cell in before.values())

    # A finished matrix runs nothing; other settings rerun and replace a stored cell.
    ran.clear()
    evaluate(argv)
    assert ran == []
    evaluate(["--env", TAXI, "--agent", "expert", "--episodes", "4", "--out", str(out), "--no-progress"])
    assert ran == [(TAXI, "expert")]
    cells = json.loads(out.read_text())["results"]
    assert len(cells) == 4 and cells[0]["episodes"] == 4
    after = read_traces(traces)  # the rerun cell's traces replace its old ones
    assert [t["seed"] for t in after[TAXI, "expert"]] == [0, 1, 2, 3]
    assert {key: cell for key, cell in after.items() if key != (TAXI, "expert")} == {
        key: cell for key, cell in before.items() if key != (TAXI, "expert")
    }


def test_concurrent_requests_play_the_same_episodes_as_one_at_a_time(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = StubChatServer(hashed_reply, delay=0.05)
    argv = ["--env", TAXI, "--agent", "openai:stub-model", "--openai-base-url", server.base_url]
    argv += ["--episodes", "8", "--seed", "5", "--no-progress"]
    cells, traces, in_flight = {}, {}, {}
    try:
        for concurrency in (1, 4):
            server.max_in_flight = 0
            out = tmp_path / f"concurrency{concurrency}.json"
            assert evaluate([*argv, "--concurrency", str(concurrency), "--out", str(out)]) == 0
            (cells[concurrency],) = harness.load_results(out)
            traces[concurrency] = (tmp_path / f"concurrency{concurrency}.traces.jsonl").read_text()
            in_flight[concurrency] = server.max_in_flight
    finally:
        server.close()
    assert in_flight == {1: 1, 4: 4}  # the requests overlapped
    assert cells[4]["metadata"]["batch_size"] == 4
    assert 0 < cells[1]["invalid_action_rate"] < 1  # some replies were read, some not
    for key in ("success_rate", "mean_return", "mean_steps", "invalid_action_rate", "steps"):
        assert cells[4][key] == cells[1][key], key
    assert traces[4] == traces[1]  # the same episodes, step by step, with the same replies


def test_traces_hold_every_episode_of_every_cell_as_its_results_say(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    sent: list[str] = []
    counter = itertools.count()

    def respond(body: dict) -> str:  # every other reply names no action
        sent.append("I cannot tell." if next(counter) % 2 == 0 else "Action: 1")
        return sent[-1]

    server = StubChatServer(respond)
    out = tmp_path / "results.json"
    try:
        status = evaluate(
            ["--env", PICKUP, "--agent", "expert", "random", "openai:stub-model", "--episodes", "4", "--out", str(out)]
            + ["--openai-base-url", server.base_url, "--env-kwargs", "*:horizon=3", "--no-progress"]
        )
    finally:
        server.close()
    assert status == 0
    traces = read_traces(tmp_path / "results.traces.jsonl")
    cells = harness.load_results(out)
    assert list(traces) == [(c["env"], c["agent"]) for c in cells]
    for cell in cells:
        episodes = traces[cell["env"], cell["agent"]]
        turns = [turn for episode in episodes for turn in episode["turns"]]
        assert [e["seed"] for e in episodes] == [0, 1, 2, 3]
        assert all(tuple(e) == TRACE_KEYS for e in episodes) and all(tuple(t) == TURN_KEYS for t in turns)
        assert np.mean([e["success"] for e in episodes]) == cell["success_rate"]
        assert np.mean([e["return"] for e in episodes]) == pytest.approx(cell["mean_return"])
        assert np.mean([e["steps"] for e in episodes]) == cell["mean_steps"]
        assert sum(t["invalid"] for t in turns) / len(turns) == cell["invalid_action_rate"]
        for episode in episodes:
            assert episode["steps"] == len(episode["turns"]) and episode["truncated"] != episode["terminated"]
            assert episode["return"] == pytest.approx(sum(t["reward"] for t in episode["turns"]))
        for t in turns:
            assert t["action_text"] == (t["actions"][t["action"]] if t["action"] != NO_ACTION else None)
            assert t["state"] and t["reflection"] is None
    # The chat agent's raw replies, each beside the action read from it; the others wrote none.
    chat = [t for e in traces[PICKUP, "openai:stub-model"] for t in e["turns"]]
    assert sorted(t["reply"] for t in chat) == sorted(sent)
    assert {t["reply"] for t in chat if t["action"] == NO_ACTION} == {"I cannot tell."}
    assert all(t["reply"] == f"Action: {t['action']}" for t in chat if t["action"] != NO_ACTION)
    assert all(t["reply"] is None for a in ("expert", "random") for e in traces[PICKUP, a] for t in e["turns"])


def test_no_traces_writes_none_and_drops_the_old_traces_of_the_cells_it_reruns(tmp_path):
    out, traces = tmp_path / "results.json", tmp_path / "results.traces.jsonl"
    argv = ["--agent", "expert", "--out", str(out), "--no-progress"]
    assert evaluate(["--env", TAXI, *argv, "--episodes", "2", "--no-traces"]) == 0
    assert not traces.exists()
    assert evaluate(["--env", TAXI, PICKUP, *argv, "--episodes", "3"]) == 0  # TAXI reruns: other settings
    assert list(read_traces(traces)) == [(TAXI, "expert"), (PICKUP, "expert")]
    assert evaluate(["--env", TAXI, *argv, "--episodes", "4", "--no-traces"]) == 0
    assert list(read_traces(traces)) == [(PICKUP, "expert")]  # none of another run of the TAXI cell


@pytest.mark.parametrize(
    ("fault", "message", "attempts"),
    [
        (("status", 500), "failed 2 times, last with HTTP 500", 2),
        (("sleep", 2.0), "failed 2 times, last with no complete answer within the 0.5 s deadline", 2),
        (("body", b"<html>busy</html>"), "invalid JSON", 1),
        (("redirect", "elsewhere"), "HTTP 302, a redirect to .* are not followed", 1),
    ],
    ids=["errors", "hangs", "garbage", "redirects"],
)
def test_a_misbehaving_chat_server_fails_its_cell_after_bounded_retries_and_the_matrix_goes_on(
    tmp_path, monkeypatch, chat_server, elsewhere, fault, message, attempts
):
    monkeypatch.setenv("OPENAI_API_KEY", "secret")
    out = tmp_path / "results.json"
    argv = ["--env", PICKUP, "--agent", "openai:stub-model", "expert", "--out", str(out), "--no-progress"]
    argv += ["--openai-base-url", chat_server.base_url, "--openai-timeout", "0.5", "--openai-retries", "1"]
    argv += ["--env-kwargs", "*:horizon=2", "--concurrency", "4"]
    assert evaluate([*argv, "--episodes", "2"]) == 0  # a first run, traced
    assert len(read_traces(tmp_path / "results.traces.jsonl")[PICKUP, "openai:stub-model"]) == 2

    kind, value = fault
    chat_server.script = [(kind, f"{elsewhere.base_url}/chat/completions" if value == "elsewhere" else value)] * 16
    chat_server.requests.clear()
    chat_server.max_in_flight, chat_server.delay = 0, 0.2  # each answer takes a while: the requests overlap
    assert evaluate([*argv, "--episodes", "4"]) == 1  # other settings: both cells run again
    chat, expert = harness.load_results(out)
    assert chat_server.base_url in chat["error"] and re.search(message, chat["error"]), chat["error"]
    assert expert["success_rate"] == 1.0 and expert["episodes"] == 4
    # The first step's 4 requests went out at once and each was tried at most retries + 1 times (the server still
    # sleeps on a hung attempt when its retry arrives).
    assert chat_server.max_in_flight == 4 * (attempts if kind == "sleep" else 1)
    assert len(chat_server.requests) == 4 * attempts
    assert elsewhere.requests == []  # the key went nowhere else
    # The failed cell's old traces are gone with its old results.
    assert list(read_traces(tmp_path / "results.traces.jsonl")) == [(PICKUP, "expert")]


def needs_an_extra(**kwargs):
    raise DependencyNotInstalled("somepackage is not installed, run `pip install reflect-rl[extra]`")


def test_missing_extras_and_missing_structured_state_are_skipped_with_a_reason(tmp_path, monkeypatch):
    extra = "ReflectRL/NeedsExtra-v0"
    monkeypatch.setitem(gym.registry, extra, gym.envs.registration.EnvSpec(extra, entry_point=needs_an_extra))
    real_make = gym.make

    def make(env_id, **kwargs):
        env = real_make(env_id, **kwargs)
        del env.unwrapped.structured_observation_space  # as an env without a structured state
        return env

    monkeypatch.setattr(gym, "make", make)
    out, table = tmp_path / "results.json", tmp_path / "results.md"
    evaluate(
        ["--env", TAXI, extra, "--agent", "expert", "sb3:ppo", "--episodes", "2", "--out", str(out)]
        + ["--table", str(table), "--no-progress"]
    )
    cells = {(c["env"], c["agent"]): c for c in json.loads(out.read_text())["results"]}
    assert "skipped" not in cells[TAXI, "expert"]
    assert "no structured state" in cells[TAXI, "sb3:ppo"]["skipped"]
    assert "somepackage is not installed" in cells[extra, "expert"]["skipped"]
    text = table.read_text()
    assert "| NeedsExtra-v0 | skipped | skipped |" in text
    assert "\n- NeedsExtra-v0 x `expert`: skipped: ReflectRL/NeedsExtra-v0 needs an" in text


def test_a_failing_cell_is_recorded_and_the_matrix_goes_on(tmp_path, monkeypatch):
    real_build = harness.build_agent

    def build(spec, env_id, a):
        if env_id == TAXI:
            raise ValueError("this state offers more actions than the policy has labels")
        return real_build(spec, env_id, a)

    monkeypatch.setattr(harness, "build_agent", build)
    out = tmp_path / "results.json"
    argv = ["--env", TAXI, PICKUP, "--agent", "expert", "--episodes", "2", "--out", str(out), "--no-progress"]
    assert evaluate(argv) == 1
    cells = {c["env"]: c for c in harness.load_results(out)}
    assert cells[TAXI]["error"] == "ValueError: this state offers more actions than the policy has labels"
    assert cells[PICKUP]["success_rate"] == 1.0
    # The next run retries the failed cell only.
    monkeypatch.setattr(harness, "build_agent", real_build)
    assert evaluate(argv) == 0
    assert all(harness.is_result(c) for c in harness.load_results(out))


def test_env_kwargs_reach_the_matching_envs_and_belong_to_the_cell_settings(tmp_path):
    out = tmp_path / "results.json"
    argv = ["--env", TAXI, PICKUP, "--agent", "expert", "--episodes", "3", "--out", str(out), "--no-progress"]
    # With a horizon of 2, DangerousTaxi draws only start states the expert solves in at most 2 steps.
    assert evaluate([*argv, "--env-kwargs", "*Pickup*:horizon=2", "DangerousTaxi-v0:horizon=20"]) == 0
    cells = {c["env"]: c for c in json.loads(out.read_text())["results"]}
    assert cells[PICKUP]["env_kwargs"] == {"horizon": 2} and cells[PICKUP]["mean_steps"] <= 2
    assert cells[TAXI]["env_kwargs"] == {"horizon": 20}
    # Other env arguments are other settings: the cell runs again (seeds 0-2 take the expert 8, 4, 6 steps).
    assert evaluate(argv) == 0
    cells = {c["env"]: c for c in json.loads(out.read_text())["results"]}
    assert cells[PICKUP]["env_kwargs"] == {} and cells[PICKUP]["mean_steps"] == 6
    assert harness.parse_env_kwargs(["BabyAI-*:horizon=64", "ALFWorld-v0:task=pick"]) == [
        ("BabyAI-*", "horizon", 64),
        ("ALFWorld-v0", "task", "pick"),
    ]
    with pytest.raises(SystemExit, match="2"):  # tyro reports the invariant that __post_init__ states
        evaluate(["--agent", "random", "--out", str(out), "--env-kwargs", "horizon=3"])


def test_lm_agents_decide_by_the_decider_asked_for_and_it_belongs_to_the_cell_settings(tmp_path):
    out = tmp_path / "results.json"
    argv = ["--env", PICKUP, "--agent", "lm:tiny", "--episodes", "2", "--device", "cpu", "--out", str(out)]
    assert evaluate([*argv, "--decider", "scoring", "--no-progress"]) == 0
    (cell,) = json.loads(out.read_text())["results"]
    assert cell["decider"] == "scoring" and cell["episodes"] == 2
    assert harness.cell_settings(PICKUP, "lm:tiny", args(episodes=2))["decider"] is None  # labels, or the checkpoint's
    assert "repeat_penalty" not in cell
    assert evaluate([*argv, "--decider", "scoring", "--repeat-penalty", "2", "--no-progress"]) == 0
    (cell,) = json.loads(out.read_text())["results"]  # another setting: the cell ran again
    assert cell["repeat_penalty"] == 2.0 and cell["decider"] == "scoring"
    with pytest.raises(SystemExit, match="2"):
        evaluate([*argv, "--repeat-penalty", "-1"])


def test_a_cells_settings_are_those_that_decide_its_result(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    options = args(
        episodes=5,
        seed=3,
        env_kwargs=("*Pickup*:horizon=9",),
        autocast=True,
        decider="scoring",
        max_new_tokens=7,
        sb3_timesteps=1234,
        sb3_seed=2,
        openai_base_url="http://127.0.0.1:9000/v1",
        batch_size=3,
        openai_timeout=5.0,
    )
    base = {"episodes": 5, "seed": 3, "env_kwargs": {"horizon": 9}}
    assert harness.cell_settings(PICKUP, "random", options) == base
    assert harness.cell_settings(TAXI, "expert", options) == base | {"env_kwargs": {}}
    assert harness.cell_settings(PICKUP, "lm:tiny", options) == base | {"autocast": True, "decider": "scoring"}
    assert harness.cell_settings(PICKUP, "lm:tiny+reflect", options) == base | {
        "autocast": True,
        "decider": "scoring",
        "max_new_tokens": 7,
    }
    assert harness.cell_settings(PICKUP, "sb3:dqn", options) == base | {"sb3_timesteps": 1234, "sb3_seed": 2}
    assert harness.cell_settings(PICKUP, "openai:m", options) == base | {"base_url": "http://127.0.0.1:9000/v1"}
    without_url = args(episodes=5, seed=3)
    assert harness.cell_settings(PICKUP, "openai:m", without_url)["base_url"] == "http://127.0.0.1:8000/v1"
    # One server however its URL is written, and never its credentials.
    for url in (
        "http://127.0.0.1:9000/v1/",
        "http://127.0.0.1:9000/v1/chat/completions",
        "http://me:pw@127.0.0.1:9000/v1",
    ):
        same = args(episodes=5, seed=3, openai_base_url=url)
        assert harness.cell_settings(PICKUP, "openai:m", same)["base_url"] == "http://127.0.0.1:9000/v1"
    monkeypatch.delenv("OPENAI_BASE_URL")  # no server named yet: the agent will say so when it is built
    assert harness.cell_settings(PICKUP, "openai:m", without_url)["base_url"] is None


def test_the_results_file_is_indented_json_and_a_failed_cell_keeps_its_metadata(tmp_path, monkeypatch):
    out = tmp_path / "results.json"
    monkeypatch.setattr(harness, "build_agent", lambda spec, env_id, a: 1 / 0)
    harness.run_matrix([PICKUP], args(out=out, episodes=1))
    text = out.read_text()
    assert text.startswith('{\n  "format": ') and text.endswith("}\n")
    (cell,) = harness.load_results(out)
    assert cell["error"] == "ZeroDivisionError: division by zero"
    assert {"python", "platform", "reflect_gym", "timestamp"} <= cell["metadata"].keys()


def test_env_ids_resolve_with_or_without_namespace():
    every = harness.registered_env_ids()
    assert TAXI in every and all(env_id.startswith("ReflectRL/") for env_id in every)
    assert harness.resolve_env_ids(["all"]) == every
    assert harness.resolve_env_ids(["DangerousTaxi-v0", TAXI, PICKUP]) == [TAXI, PICKUP]
    with pytest.raises(ValueError, match="Unknown env 'Taxi-v9'"):
        harness.resolve_env_ids(["Taxi-v9"])


def test_a_results_file_of_another_format_is_refused(tmp_path):
    out = tmp_path / "results.json"
    out.write_text('{"cells": []}')
    with pytest.raises(ValueError, match="not a results file"):
        evaluate(["--env", TAXI, "--agent", "random", "--episodes", "1", "--out", str(out), "--no-progress"])


@pytest.mark.parametrize("text", [b'{"episode": 1}\n', b"\xff\xfe not text\n"], ids=["other json", "binary"])
def test_a_traces_file_the_harness_did_not_write_is_refused_before_any_cell_runs(tmp_path, text):
    out, traces = tmp_path / "results.json", tmp_path / "results.traces.jsonl"
    traces.write_bytes(text)
    with pytest.raises(ValueError, match="results.traces.jsonl is not an episode traces file of the harness"):
        evaluate(["--env", TAXI, "--agent", "random", "--episodes", "1", "--out", str(out), "--no-progress"])
    assert traces.read_bytes() == text and not out.exists()


def test_the_tabular_baseline_is_trained_per_env_and_plays_its_cell(tmp_path):
    out = tmp_path / "results.json"
    argv = ["--env", "DangerousTaxi-Pickup-v0", "--agent", "tabular:qlearning", "--episodes", "20"]
    assert evaluate([*argv, "--sb3-timesteps", "20000", "--out", str(out), "--no-progress"]) == 0
    (cell,) = json.loads(out.read_text())["results"]
    assert cell["agent"] == "tabular:qlearning" and cell["success_rate"] >= 0.9
    assert cell["sb3_timesteps"] == 20000  # a setting of the cell: a rerun with another budget trains again
    with pytest.raises(ValueError, match="classical baselines are trained for an env by"):
        harness.make_agent("tabular:qlearning")
