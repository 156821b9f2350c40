"""The served reflector against a scripted OpenAI-compatible server on 127.0.0.1 only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from reflect_agent.models import smollm2_folder
from reflect_agent.openai_api import OpenAIChatError
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.served import EmptyReflectionError
from tests.utils import require_extra

STATES = ["You are in the kitchen.", "You are in a long corridor with a door."]
ACTIONS = [["go north", "open fridge"], ["go east", "open door", "look"]]
STOPS = ["Action:", "Available actions:", "Analysis:"]


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served(url: str, tokenizer, **overrides) -> Reflector:
    """A served reflector on ``url`` with the GPT-2 tokenizer, failing fast (no retries, no backoff)."""
    options = {"server_model": "stub-model", "server_retries": 0, "server_backoff": 0.0} | overrides
    return Reflector(None, tokenizer, ReflectorConfig(model="gpt2-random", server_url=url, **options))


def test_from_config_builds_a_served_reflector_and_loads_no_model(chat_server):
    reflector = Reflector.from_config(ReflectorConfig(model="gpt2-random", server_url=chat_server.base_url))
    assert reflector.server is not None and reflector.model is None and reflector.cache is None
    assert reflector.server.client.model == "gpt2-random"  # server_model=None sends model
    assert chat_server.requests == []  # nothing is asked before a reflection


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_reflections_are_the_servers_text_cut_at_stops_and_requests_carry_the_limits(
    chat_server, gpt2_tokenizer, monkeypatch, api
):
    monkeypatch.setenv("REFLECTOR_KEY", "secret")
    chat_server.respond = lambda body: " Go north first.\n\nAction: A"  # a server that ignores stop
    reflector = served(chat_server.base_url, gpt2_tokenizer, server_api=api, server_key_env="REFLECTOR_KEY")
    assert reflector.reflect(STATES, ACTIONS) == ["Go north first.", "Go north first."]
    prompts = [
        reflector.template.reflector_prompt(state, actions) for state, actions in zip(STATES, ACTIONS, strict=True)
    ]
    sent = sorted(chat_server.requests, key=lambda request: str(request["body"]))  # answered concurrently
    assert [request["path"] for request in sent] == [f"/v1/{'chat/' if api == 'chat' else ''}completions"] * 2
    assert all(request["headers"]["Authorization"] == "Bearer secret" for request in sent)
    limits = {"model": "stub-model", "max_tokens": 100, "temperature": 0.0, "stop": STOPS}
    if api == "chat":
        expected = [{"messages": [{"role": "user", "content": prompt}]} | limits for prompt in prompts]
    else:
        expected = [{"prompt": prompt} | limits for prompt in prompts]
    assert [request["body"] for request in sent] == sorted(expected, key=str)


def test_sampling_sends_its_temperature(chat_server, gpt2_tokenizer):
    reflector = served(chat_server.base_url, gpt2_tokenizer, greedy=False, temperature=0.7, max_new_tokens=12)
    reflector.reflect(STATES[:1], ACTIONS[:1])
    assert (chat_server.requests[0]["body"]["temperature"], chat_server.requests[0]["body"]["max_tokens"]) == (0.7, 12)


def test_long_states_are_fitted_with_the_tokenizer(chat_server, gpt2_tokenizer):
    state = "Goal: find the red key.\n\n" + " ".join(f"room{i}" for i in range(300))
    served(chat_server.base_url, gpt2_tokenizer, max_prompt_tokens=64).reflect([state], [["go north"]])
    prompt = chat_server.requests[0]["body"]["prompt"]
    assert prompt.startswith("Goal: find the red key.") and prompt.endswith("- go north\n\nAnalysis:")
    assert len(gpt2_tokenizer(prompt).input_ids) <= 64


def test_a_batch_is_asked_concurrently_up_to_the_limit_and_kept_in_order(chat_server, gpt2_tokenizer):
    in_flight, most = 0, 0
    lock = threading.Lock()

    def respond(body: dict) -> str:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.3)
        with lock:
            in_flight -= 1
        return " " + body["prompt"].split(".")[0]  # "State 3", so each answer names its prompt

    chat_server.respond = respond
    states = [f"State {i}." for i in range(8)]
    reflector = served(chat_server.base_url, gpt2_tokenizer, server_concurrency=8)
    assert reflector.reflect(states, [["wait"]] * 8) == [f"State {i}" for i in range(8)]
    assert most == 8  # all eight requests were in flight at once
    most = 0
    assert (
        served(chat_server.base_url, gpt2_tokenizer, server_concurrency=3).reflect(states, [["wait"]] * 8)[7]
        == "State 7"
    )
    assert most == 3


def test_reflect_prob_draws_as_the_local_reflector(chat_server, gpt2_tokenizer):
    chat_server.respond = lambda body: " x"
    config = {"reflect_prob": 0.5, "seed": 3, "greedy": False}  # sampling: the local one keeps no cache
    remote = served(chat_server.base_url, gpt2_tokenizer, **config)
    local = Reflector(None, gpt2_tokenizer, ReflectorConfig(**config))
    local.continue_prompts = lambda prompts: [" x"] * len(prompts)
    states, actions = STATES * 8, ACTIONS * 8
    reflected = 0
    for _ in range(3):
        drawn = remote.reflect(states, actions)
        assert drawn == local.reflect(states, actions)
        assert 0 < drawn.count("") < len(drawn)
        reflected += len(drawn) - drawn.count("")
    assert len(chat_server.requests) == reflected  # skipped states are not asked for


def test_a_server_that_is_down_fails_after_the_retries(gpt2_tokenizer):
    reflector = served(f"http://127.0.0.1:{free_port()}/v1", gpt2_tokenizer, server_retries=2)
    with pytest.raises(OpenAIChatError, match=r"failed 3 times, last with ConnectionRefusedError"):
        reflector.reflect(STATES, ACTIONS)


@pytest.mark.parametrize(
    ("answer", "error"),
    [(b"<html>busy</html>", "invalid JSON"), (b'{"choices": []}', r"without choices\[0\]\.text")],
)
def test_a_server_that_answers_garbage_fails(chat_server, gpt2_tokenizer, answer, error):
    chat_server.script = [("body", answer)]
    with pytest.raises(OpenAIChatError, match=error):
        served(chat_server.base_url, gpt2_tokenizer).reflect(STATES[:1], ACTIONS[:1])


def test_a_slow_server_fails_within_the_deadline_after_the_retries(chat_server, gpt2_tokenizer):
    chat_server.script = [("sleep", 3.0)] * 2
    reflector = served(chat_server.base_url, gpt2_tokenizer, server_timeout=0.4, server_retries=1)
    # Each attempt ends at its deadline, long before the server's answer would come.
    with pytest.raises(OpenAIChatError, match="failed 2 times, last with no complete answer within the 0.4 s"):
        reflector.reflect(STATES[:1], ACTIONS[:1])
    chat_server.script = [("sleep", 0.6), ("reply", " Go east.")]  # a retry that succeeds
    assert served(chat_server.base_url, gpt2_tokenizer, server_timeout=0.4, server_retries=1).reflect(
        STATES[:1], ACTIONS[:1]
    ) == ["Go east."]


def test_an_empty_reflection_is_an_error_or_counted(chat_server, gpt2_tokenizer):
    chat_server.respond = lambda body: "Action: A" if "kitchen" in body["prompt"] else " Open the door."
    with pytest.raises(EmptyReflectionError, match=r"1 of 2 reflections empty.*server_empty='count'"):
        served(chat_server.base_url, gpt2_tokenizer).reflect(STATES, ACTIONS)
    counting = served(chat_server.base_url, gpt2_tokenizer, server_empty="count")
    assert counting.reflect(STATES, ACTIONS) == ["", "Open the door."]
    assert counting.reflect(STATES, ACTIONS) == ["", "Open the door."]
    assert counting.empty_count == 2


def test_the_key_goes_to_the_configured_server_only(chat_server, elsewhere, gpt2_tokenizer, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "secret")
    chat_server.script = [("redirect", f"{elsewhere.base_url}/completions")]
    reflector = served(chat_server.base_url, gpt2_tokenizer, server_retries=1)
    with pytest.raises(OpenAIChatError, match="a redirect to .*not followed"):
        reflector.reflect(STATES[:1], ACTIONS[:1])
    assert elsewhere.requests == []
    assert [request["headers"]["Authorization"] for request in chat_server.requests] == ["Bearer secret"]
    # No key variable: no key at all.
    served(chat_server.base_url, gpt2_tokenizer, server_key_env=None).reflect(STATES[:1], ACTIONS[:1])
    assert "Authorization" not in chat_server.requests[-1]["headers"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": None}, "server_url needs ReflectorConfig.model"),
        ({"adapter": "runs/x/reflector_adapter"}, "reflect-rl export"),
        ({"server_url": "127.0.0.1:8000/v1"}, "API root such as http://"),
        ({"server_api": "responses"}, "server_api must be"),
        ({"server_empty": "skip"}, "server_empty must be"),
        ({"server_concurrency": 0}, "server_concurrency must be >= 1"),
        ({"server_timeout": 0}, "server_timeout > 0"),
        ({"server_retries": -1}, "server_retries and server_backoff must be >= 0"),
    ],
)
def test_served_settings_are_checked(fields, message):
    with pytest.raises(ValueError, match=message):
        ReflectorConfig(**({"model": "gpt2-random", "server_url": "http://127.0.0.1:8000/v1"} | fields))


@pytest.mark.slow
def test_transformers_serve_on_loopback_writes_the_local_reflectors_text(tmp_path):
    """A real server (``transformers serve`` from the ``serve`` extra) with SmolLM2: the same greedy text."""
    require_extra("serve", "fastapi", "uvicorn")
    folder, port = str(smollm2_folder()), free_port()
    command = [str(Path(sys.executable).parent / "transformers"), "serve", folder, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--device", "cpu", "--dtype", "float32"]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    try:
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                if no_proxy.open(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "transformers serve did not start within 180 s"
                time.sleep(1)
        limits = {"model": folder, "max_new_tokens": 16}
        url = f"http://127.0.0.1:{port}/v1"
        remote = Reflector.from_config(ReflectorConfig(**limits, server_url=url, server_timeout=300, server_retries=0))
        local = Reflector.from_config(ReflectorConfig(**limits, device="cpu"))
        texts = remote.reflect(STATES, ACTIONS)
        assert texts == local.reflect(STATES, ACTIONS)
        assert all(texts)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
