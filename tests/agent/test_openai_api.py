"""The one HTTP client of OpenAI-compatible servers, against a misbehaving server on 127.0.0.1 only."""

from __future__ import annotations

import time

import pytest

from reflect_agent import openai_api
from reflect_agent.openai_api import OpenAIChatError, OpenAIClient, RequestPool
from tests.agent.chat_stub import completion

MESSAGES = [{"role": "user", "content": "0. go north\n1. go south"}]


def test_a_request_goes_to_the_configured_url_with_the_key(chat_server):
    chat_server.script = [("reply", "1")]
    client = OpenAIClient(chat_server.base_url, "stub-model", "secret", retries=0)
    assert client.chat(MESSAGES, temperature=0.0, max_tokens=4) == "1"
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["body"] == {"model": "stub-model", "messages": MESSAGES, "temperature": 0.0, "max_tokens": 4}


def test_a_raw_completion_goes_to_the_completions_endpoint_with_its_parameters(chat_server):
    chat_server.script = [("reply", " north, then east.")]
    client = OpenAIClient(chat_server.base_url + "/", "stub-model", "secret", retries=0)
    assert client.complete("State\n\nAnalysis:", max_tokens=8, temperature=0.0, stop=["Action:"]) == (
        " north, then east."
    )
    (request,) = chat_server.requests
    assert request["path"] == "/v1/completions"
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["body"] == {
        "model": "stub-model",
        "prompt": "State\n\nAnalysis:",
        "max_tokens": 8,
        "temperature": 0.0,
        "stop": ["Action:"],
    }
    # A full endpoint URL is taken back to the API root, so both calls reach the same server.
    assert OpenAIClient(f"{chat_server.base_url}/completions", "m").url == f"{chat_server.base_url}/chat/completions"


@pytest.mark.parametrize("call", ["chat", "complete"])
@pytest.mark.parametrize("target", ["other port", "same server"])
def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(chat_server, elsewhere, target, call):
    url = f"{elsewhere.base_url}/chat/completions" if target == "other port" else f"{chat_server.base_url}/elsewhere"
    chat_server.script = [("redirect", url)] * 4
    client = OpenAIClient(chat_server.base_url, "stub-model", "secret", retries=3, backoff=0)
    with pytest.raises(OpenAIChatError, match=r"HTTP 302, a redirect to .*not followed"):
        client.chat(MESSAGES) if call == "chat" else client.complete("prompt")
    assert elsewhere.requests == []  # the other port never heard of the request, nor of its key
    path = "/v1/chat/completions" if call == "chat" else "/v1/completions"
    assert [r["path"] for r in chat_server.requests] == [path]  # not retried, not followed


@pytest.mark.parametrize("call", ["chat", "complete"])
@pytest.mark.parametrize("kind", ["trickle", "trickle_headers"])
def test_a_trickling_server_fails_within_the_deadline(chat_server, kind, call):
    # One byte every 0.2 s: each read gets data well within a socket timeout, so only an overall deadline ends it.
    chat_server.script = [(kind, 0.2)]
    client = OpenAIClient(chat_server.base_url, "stub-model", timeout=1.0, retries=0)
    with pytest.raises(OpenAIChatError, match="within the 1 s deadline"):
        client.chat(MESSAGES) if call == "chat" else client.complete("prompt")
    sent, whole = chat_server.trickled.get(timeout=60)
    assert sent < whole / 2, f"the client hung up after {sent} of {whole} bytes"


class _NeverFires:
    """A ``threading.Timer`` that never calls its function."""

    def __init__(self, *args, **kwargs):
        self.daemon = True

    def start(self):
        pass

    def cancel(self):
        pass


@pytest.mark.parametrize("call", ["chat", "complete"])
def test_a_silent_server_fails_with_the_deadline_when_the_socket_times_out_first(chat_server, monkeypatch, call):
    # The socket's timeout and the attempt's timer expire together; whichever ends the wait, the error names the
    # deadline (under load the socket won the race and the error said only "timed out").
    monkeypatch.setattr(openai_api.threading, "Timer", _NeverFires)
    chat_server.script = [("sleep", 1.0)]
    client = OpenAIClient(chat_server.base_url, "stub-model", timeout=0.3, retries=0)
    with pytest.raises(OpenAIChatError, match="no complete answer within the 0.3 s deadline"):
        client.chat(MESSAGES) if call == "chat" else client.complete("prompt")


def test_a_deadline_is_retried_like_any_timeout(chat_server):
    chat_server.script = [("trickle", 0.2), ("reply", "1")]
    client = OpenAIClient(chat_server.base_url, "stub-model", timeout=0.6, retries=1, backoff=0)
    assert client.chat(MESSAGES) == "1"
    assert len(chat_server.requests) == 2


@pytest.mark.parametrize("kind", ["body", "unsized"])
def test_an_oversize_answer_is_refused_without_reading_it_whole(chat_server, kind):
    padding = b" " * 200_000
    chat_server.script = [(kind, completion("1")[:-1] + padding + b"}")] * 2
    client = OpenAIClient(chat_server.base_url, "stub-model", retries=1, backoff=0, max_response_bytes=100_000)
    with pytest.raises(OpenAIChatError, match="more than max_response_bytes=100,000"):
        client.chat(MESSAGES)
    assert len(chat_server.requests) == 1  # a retry would get the same answer
    # Under the limit, the same answer is read.
    chat_server.script = [(kind, completion("1")[:-1] + padding + b"}")]
    assert OpenAIClient(chat_server.base_url, "stub-model", retries=0, max_response_bytes=300_000).chat(MESSAGES) == "1"


def test_server_errors_and_rate_limits_are_retried_then_given_up(chat_server):
    chat_server.script = [("status", 500), ("status", 429), ("reply", "3")]
    assert OpenAIClient(chat_server.base_url, "stub-model", retries=2, backoff=0).chat(MESSAGES) == "3"
    chat_server.script = [("status", 503)] * 3
    with pytest.raises(OpenAIChatError, match="failed 3 times, last with HTTP 503"):
        OpenAIClient(chat_server.base_url, "stub-model", retries=2, backoff=0).chat(MESSAGES)


def test_retries_wait_with_exponential_backoff_or_the_servers_capped_retry_after(chat_server, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(openai_api.time, "sleep", waits.append)
    chat_server.script = [("status", 500), ("status", 503), ("status", 502), ("reply", "4")]
    assert OpenAIClient(chat_server.base_url, "stub-model", retries=3, backoff=0.5).chat(MESSAGES) == "4"
    assert waits == [0.5, 1.0, 2.0]
    # Retry-After (seconds) replaces the backoff for its attempt, and is capped; a date or garbage is ignored.
    waits.clear()
    chat_server.script = [
        ("status", (429, "7")),
        ("status", (503, "3600")),
        ("status", (429, "Wed, 21 Oct 2026 07:28:00 GMT")),
        ("status", (503, "1.5")),
        ("reply", "5"),
    ]
    assert OpenAIClient(chat_server.base_url, "stub-model", retries=4, backoff=0.25).chat(MESSAGES) == "5"
    assert waits == [7.0, openai_api.MAX_RETRY_AFTER_S, 1.0, 1.5]


def test_client_errors_are_not_retried(chat_server):
    chat_server.script = [("status", 401)]
    with pytest.raises(OpenAIChatError, match="HTTP 401"):
        OpenAIClient(chat_server.base_url, "stub-model", retries=3, backoff=0).chat(MESSAGES)
    assert len(chat_server.requests) == 1


def test_an_answer_that_is_not_a_completion_is_an_error(chat_server):
    chat_server.script = [("body", b"not json"), ("body", b'{"choices": []}')]
    client = OpenAIClient(chat_server.base_url, "stub-model", retries=0)
    with pytest.raises(OpenAIChatError, match="invalid JSON"):
        client.chat(MESSAGES)
    with pytest.raises(OpenAIChatError, match="without choices"):
        client.chat(MESSAGES)
    # A chat completion is not a raw completion, and a text must be a string.
    chat_server.script = [("body", completion("1")), ("body", b'{"choices": [{"text": 7}]}')]
    with pytest.raises(OpenAIChatError, match=r"without choices\[0\]\.text"):
        client.complete("prompt")
    with pytest.raises(OpenAIChatError, match="not a string"):
        client.complete("prompt")


def test_settings_come_from_the_environment_and_are_checked(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url + "/")
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    client = OpenAIClient()
    assert (client.url, client.model, client.api_key) == (
        f"{chat_server.base_url}/chat/completions",
        "env-model",
        "env-key",
    )
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_MODEL")
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        OpenAIClient(model="model")
    with pytest.raises(ValueError, match="OPENAI_MODEL"):
        OpenAIClient("http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="http"):
        OpenAIClient("ftp://127.0.0.1/v1", "model")
    with pytest.raises(ValueError, match="max_response_bytes"):
        OpenAIClient("http://127.0.0.1:1/v1", "model", max_response_bytes=0)


# ------------------------------------------------------------------------------------------------
# Many requests at once.


def test_a_batch_is_asked_at_once_and_answered_in_its_order_not_the_order_answers_arrive(chat_server):
    answered: list[str] = []

    def respond(body: dict) -> str:
        time.sleep(0.3 if body["prompt"] == "p0" else 0.0)  # the first prompt is answered last
        answered.append(body["prompt"])
        return body["prompt"].upper()

    chat_server.delay = 0.3
    chat_server.respond = respond
    client = OpenAIClient(chat_server.base_url, "stub-model", retries=0)
    prompts = [f"p{i}" for i in range(4)]
    pool = RequestPool(4)
    assert pool.map(client.complete, prompts) == ["P0", "P1", "P2", "P3"]
    assert chat_server.max_in_flight == 4 and answered[-1] == "p0"
    # The threads serve the next batch too.
    answered.clear()
    assert pool.map(client.complete, prompts[::-1]) == ["P3", "P2", "P1", "P0"] and answered[-1] == "p0"
    pool.close()
    # One at a time on the calling thread: the same answers, never two requests in flight.
    chat_server.max_in_flight = 0
    assert RequestPool(1).map(client.complete, prompts) == ["P0", "P1", "P2", "P3"]
    assert chat_server.max_in_flight == 1
    with pytest.raises(ValueError, match="concurrency must be at least 1 .*, got 0"):
        RequestPool(0)


def test_a_request_that_fails_for_good_fails_the_batch_and_the_rest_is_not_sent(chat_server):
    chat_server.delay = 0.3
    chat_server.script = [("status", 401)]
    client = OpenAIClient(chat_server.base_url, "stub-model", retries=3, backoff=0)
    asking = []

    def ask(prompt: str) -> str:
        asking.append(prompt)
        try:
            return client.complete(prompt)
        finally:
            asking.remove(prompt)

    with pytest.raises(OpenAIChatError, match="HTTP 401"):
        RequestPool(2).map(ask, [f"p{i}" for i in range(8)])
    # Not the 8: the request that failed, the one in flight beside it, and at most one more that the other thread
    # started as the first failed.
    assert 2 <= len(chat_server.requests) <= 3
    assert asking == []  # the error comes once the requests in flight have ended
