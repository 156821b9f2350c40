"""The one client of OpenAI-compatible servers, and the chat agent that plays through it.

:class:`OpenAIClient` posts to ``{base_url}/chat/completions`` of any OpenAI-compatible server (vLLM, llama.cpp's
``llama-server``, LM Studio, Ollama's OpenAI API, or OpenAI itself). It is the only code of the project that
talks HTTP, for the chat agent and for anything else that asks a served model (warm-up reflections, a served
reflector). What it promises:

* Requests go to the configured URL and nowhere else. A redirect is not followed: it is an error that names the
  place it pointed to, so the API key is never sent to another address. Proxy settings of the environment are not
  used, for the same reason.
* Each attempt has one overall deadline (``timeout``), from connecting to the last byte of the answer, so a server
  that sends one byte a second cannot hold a request open; and an answer larger than ``max_response_bytes`` is
  refused without being read whole.
* Connection errors, deadlines and HTTP 408/409/429/5xx are retried ``retries`` times with exponential backoff, or
  after the server's ``Retry-After`` (at most 60 s).

:class:`OpenAIChatAgent` asks the model for each action and reads its reply with
:func:`reflect_gym.wrappers.parse_action` (``reply=True``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from reflect_agent.episodes import Decision, Turn
from reflect_gym.wrappers import parse_action

DEFAULT_SYSTEM_PROMPT = (
    "You are an agent in a text game. Each message shows the current state and a numbered list of the "
    "actions you may take. Reply with the number of the action you choose and nothing else."
)
#: HTTP statuses worth retrying: timeout, conflict, rate limit, and server errors.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: The longest wait a server's ``Retry-After`` can ask for.
MAX_RETRY_AFTER_S = 60.0
#: The largest answer read by default: a chat completion of a few hundred tokens is a few kilobytes.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class OpenAIChatError(RuntimeError):
    """A chat-completions request failed for good (after its retries, or with a non-retryable error)."""


class _Retryable(Exception):
    """One attempt failed in a way another attempt may not; ``delay`` overrides the backoff."""

    def __init__(self, message: str, delay: float | None = None):
        super().__init__(message)
        self.delay = delay


class OpenAIClient:
    """Chat completions from one OpenAI-compatible endpoint; see the module docstring for what it promises.

    Args:
        base_url: The API root, such as ``http://localhost:8000/v1`` (or the full ``.../chat/completions`` URL);
            defaults to ``$OPENAI_BASE_URL``.
        model: Model name sent to the server; defaults to ``$OPENAI_MODEL``.
        api_key: Sent as a bearer token to ``base_url`` only; defaults to ``$OPENAI_API_KEY``; local servers need
            none.
        timeout: Seconds an attempt may take in all, from connecting to the answer's last byte.
        retries: Further attempts after a failed one.
        backoff: Seconds before the first retry; doubled for each later one.
        max_response_bytes: The largest answer accepted.

    Raises:
        ValueError: No base URL or model by argument or environment, a URL that is not http(s), or a timeout,
            retries, backoff or size limit out of range.
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        model = model or os.environ.get("OPENAI_MODEL")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not model:
            raise ValueError("No chat model given: pass model= (spec 'openai:MODEL') or set OPENAI_MODEL.")
        if not base_url:
            raise ValueError(
                "No chat endpoint given: pass base_url= or set OPENAI_BASE_URL, e.g. http://localhost:8000/v1 "
                "(vLLM, llama.cpp's server, LM Studio) or https://api.openai.com/v1."
            )
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL such as http://localhost:8000/v1, got {base_url!r}.")
        if not (timeout > 0 and retries >= 0 and backoff >= 0 and max_response_bytes > 0):
            raise ValueError(
                f"timeout and max_response_bytes must be > 0 and retries, backoff >= 0; got timeout={timeout}, "
                f"retries={retries}, backoff={backoff}, max_response_bytes={max_response_bytes}."
            )
        base_url = base_url.rstrip("/")
        self.url = base_url if base_url.endswith("/chat/completions") else f"{base_url}/chat/completions"
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_response_bytes = max_response_bytes

    def chat(self, messages: Sequence[dict[str, str]], **parameters: Any) -> str:
        """The assistant's reply to ``messages``; ``parameters`` (``temperature``, ``max_tokens``, ...) join the body.

        Raises:
            OpenAIChatError: The request failed after its retries, failed in a way a retry cannot fix (HTTP 401,
                404, a redirect, an oversize answer), or the answer is not a chat completion.
        """
        body = json.dumps({"model": self.model, "messages": list(messages), **parameters}).encode()
        payload = self._post(body)
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise OpenAIChatError(f"{self.url} answered without choices[0].message.content: {payload!r:.300}") from None
        return content or ""

    def _post(self, body: bytes) -> Any:
        """POST ``body`` with retries; the decoded JSON answer."""
        for attempt in range(self.retries + 1):
            try:
                raw = self._attempt(body)
                break
            except _Retryable as failure:
                if attempt == self.retries:
                    raise OpenAIChatError(
                        f"{self.url} failed {self.retries + 1} times, last with {failure}. Check the server, or "
                        "raise timeout= / retries=."
                    ) from None
                time.sleep(failure.delay if failure.delay is not None else self.backoff * 2**attempt)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise OpenAIChatError(f"{self.url} answered with invalid JSON: {raw[:300]!r}") from error

    def _attempt(self, body: bytes) -> bytes:
        """One POST under one deadline: the answer's body, or :class:`_Retryable`, or :class:`OpenAIChatError`."""
        parts = urllib.parse.urlsplit(self.url)
        connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        options = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
        connection = connection_type(parts.hostname, parts.port, timeout=self.timeout, **options)
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Connection": "close"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        # The socket timeout bounds each wait; the timer bounds the attempt as a whole, by shutting the socket
        # down under a read that a trickling server keeps alive.
        # (The connect itself is bounded by the socket timeout.)
        expired = threading.Event()
        sockets: list[socket.socket] = []
        timer = threading.Timer(self.timeout, _abort, args=(sockets, expired))
        timer.daemon = True
        timer.start()
        try:
            connection.connect()
            # The response reads from this socket even after http.client lets go of it ("Connection: close").
            sockets.append(connection.sock)
            if expired.is_set():  # the deadline passed while connecting
                raise TimeoutError("the deadline passed")
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            if 300 <= status < 400:
                location = response.getheader("Location", "no Location")
                raise OpenAIChatError(
                    f"{self.url} answered HTTP {status}, a redirect to {location}. Redirects are not followed, so "
                    "the API key goes to the configured URL only; point the base URL at the server's own address."
                )
            limit = self.max_response_bytes if status == 200 else 300
            raw = _read_body(response, limit, self.url, refuse=status == 200)
            if expired.is_set():
                raise TimeoutError("the deadline passed")
        except (OSError, http.client.HTTPException) as error:
            if expired.is_set():
                raise _Retryable(f"no complete answer within the {self.timeout:g} s deadline") from None
            raise _Retryable(f"{type(error).__name__}: {error}") from None
        finally:
            timer.cancel()
            connection.close()
        if status == 200:
            return raw
        detail = raw.decode(errors="replace")
        if status not in RETRYABLE_STATUS:
            raise OpenAIChatError(f"{self.url} answered HTTP {status}: {detail}")
        retry_after = (response.getheader("Retry-After") or "").strip()
        delay = min(float(retry_after), MAX_RETRY_AFTER_S) if retry_after.replace(".", "", 1).isdigit() else None
        raise _Retryable(f"HTTP {status}: {detail}", delay)


def _abort(sockets: list[socket.socket], expired: threading.Event) -> None:
    """Past the deadline: end the attempt's blocked reads by shutting its socket down."""
    expired.set()
    for sock in sockets:
        with contextlib.suppress(OSError):  # already closed: the attempt ended as the deadline passed
            sock.shutdown(socket.SHUT_RDWR)


def _read_body(response: http.client.HTTPResponse, limit: int, url: str, *, refuse: bool) -> bytes:
    """At most ``limit`` bytes of ``response``'s body: the first ``limit`` bytes, or with ``refuse`` an error
    when there are more (told by ``Content-Length`` before reading, or by reading one byte past the limit)."""
    declared = response.getheader("Content-Length")
    if refuse and declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise OpenAIChatError(f"{url} answered {int(declared):,} bytes, more than max_response_bytes={limit:,}.")
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = response.read1(_CHUNK)  # what one read gives, so a slow server is never waited on for a full chunk
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    raw = b"".join(chunks)
    if len(raw) > limit:
        if refuse:
            raise OpenAIChatError(f"{url} answered more than max_response_bytes={limit:,} bytes.")
        raw = raw[:limit]
    return raw


class OpenAIChatAgent:
    """Asks an OpenAI-compatible chat-completions endpoint for each action.

    Each decision is one stateless request per turn: the system prompt, then the observation (state and numbered
    actions). The reply is read with :func:`reflect_gym.wrappers.parse_action` (``reply=True``: a thinking block
    dropped, line by line, ``"2. move east"``); a reply that names no admissible action gives ``NO_ACTION``, which
    the env steps as an invalid action.

    Args:
        base_url: The API root, such as ``http://localhost:8000/v1``; defaults to ``$OPENAI_BASE_URL``.
        model: Model name sent to the server; defaults to ``$OPENAI_MODEL``.
        api_key: Sent as a bearer token; defaults to ``$OPENAI_API_KEY``; local servers need none.
        timeout: Seconds a request may take in all (see :class:`OpenAIClient`).
        retries: Further attempts after a failed request.
        backoff: Seconds before the first retry; doubled for each later one.
        temperature: Sampling temperature sent to the server (0: greedy).
        max_tokens: Reply length limit sent to the server.
        system_prompt: The system message.
        max_response_bytes: The largest answer accepted.

    Raises:
        ValueError: As :class:`OpenAIClient`.
    """

    batch_size = 1

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
        temperature: float = 0.0,
        max_tokens: int = 16,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        self.client = OpenAIClient(
            base_url,
            model,
            api_key,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_response_bytes=max_response_bytes,
        )
        self.model = self.client.model
        self.url = self.client.url
        self.name = f"openai:{self.model}"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        #: The last reply received, for inspecting what the model said.
        self.last_reply: str | None = None

    def reset(self, seed: int | None = None) -> None:
        pass

    def complete(self, prompt: str) -> str:
        """The model's reply to ``prompt`` (one user message after the system prompt).

        Raises:
            OpenAIChatError: As :meth:`OpenAIClient.chat`.
        """
        messages = [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": prompt}]
        return self.client.chat(messages, temperature=self.temperature, max_tokens=self.max_tokens)

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv | None = None) -> Decision:
        """One request per turn; the replies are kept in the decision."""
        replies = []
        for turn in turns:
            self.last_reply = self.complete(turn.observation)
            replies.append(self.last_reply)
        actions = [parse_action(reply, turn.actions, reply=True) for reply, turn in zip(replies, turns, strict=True)]
        return Decision(actions=actions, replies=replies)
