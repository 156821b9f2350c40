"""The one client of OpenAI-compatible servers.

:class:`OpenAIClient` posts to ``{base_url}/chat/completions`` (:meth:`~OpenAIClient.chat`) or
``{base_url}/completions`` (:meth:`~OpenAIClient.complete`, raw prompt continuation) of any OpenAI-compatible
server (vLLM, llama.cpp's ``llama-server``, ``transformers serve``, LM Studio, Ollama's OpenAI API, or OpenAI
itself). It is the only code of the project that talks HTTP, for the chat agent
(:class:`reflect_agent.agents.OpenAIChatAgent`), warm-up reflections and the served reflector
(:mod:`reflect_agent.served`). It imports nothing of the project, so any layer may use it. What it promises, for
both calls:

* Requests go to the configured URL and nowhere else. A redirect is not followed: it is an error that names the
  place it pointed to, so the API key is never sent to another address. Proxy settings of the environment are not
  used, for the same reason.
* Each attempt has one overall deadline (``timeout``), from connecting to the last byte of the answer, so a server
  that sends one byte a second cannot hold a request open; and an answer larger than ``max_response_bytes`` is
  refused without being read whole.
* Connection errors, deadlines and HTTP 408/409/429/5xx are retried ``retries`` times with exponential backoff, or
  after the server's ``Retry-After`` (at most 60 s).
* One client may serve many threads at once: each attempt opens its own connection, and nothing a request does
  changes the client. A :class:`RequestPool` asks a batch that way, at most ``concurrency`` requests in flight,
  each with its own retries and deadline, and returns the answers in the batch's order.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

_Item = TypeVar("_Item")
_Answer = TypeVar("_Answer")

#: HTTP statuses worth retrying: timeout, conflict, rate limit, and server errors.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: The longest wait a server's ``Retry-After`` can ask for.
MAX_RETRY_AFTER_S = 60.0
#: The largest answer read by default: a chat completion of a few hundred tokens is a few kilobytes.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class OpenAIChatError(RuntimeError):
    """A request to the server failed for good (after its retries, or with a non-retryable error), or its answer
    is not a completion."""


class _Retryable(Exception):
    """One attempt failed in a way another attempt may not; ``delay`` overrides the backoff."""

    def __init__(self, message: str, delay: float | None = None):
        super().__init__(message)
        self.delay = delay


class OpenAIClient:
    """Chat and raw completions from one OpenAI-compatible server; see the module docstring for what it promises.

    Args:
        base_url: The API root, such as ``http://localhost:8000/v1`` (a full ``.../chat/completions`` or
            ``.../completions`` URL is taken back to its root); defaults to ``$OPENAI_BASE_URL``.
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
            raise ValueError("No model name given: pass model= (agent spec 'openai:MODEL') or set OPENAI_MODEL.")
        if not base_url:
            raise ValueError(
                "No server given: pass base_url= or set OPENAI_BASE_URL, e.g. http://localhost:8000/v1 "
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
        #: The API root; the two endpoints lie under it, so the key goes to this server only.
        self.base_url = api_root(base_url)
        #: The chat-completions endpoint.
        self.url = f"{self.base_url}/chat/completions"
        #: The raw-completions endpoint.
        self.completions_url = f"{self.base_url}/completions"
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
        payload = self._post(self.url, {"model": self.model, "messages": list(messages), **parameters})
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise OpenAIChatError(f"{self.url} answered without choices[0].message.content: {payload!r:.300}") from None
        if content is not None and not isinstance(content, str):
            raise OpenAIChatError(f"{self.url} answered a message content that is not text: {content!r:.300}")
        return content or ""

    def complete(self, prompt: str, **parameters: Any) -> str:
        """The server's raw continuation of ``prompt``; ``parameters`` (``max_tokens``, ``temperature``, ``stop``,
        ...) join the body.

        Raises:
            OpenAIChatError: As :meth:`chat`, or the answer is not a completion (no ``choices[0].text``).
        """
        payload = self._post(self.completions_url, {"model": self.model, "prompt": prompt, **parameters})
        try:
            text = payload["choices"][0]["text"]
        except (KeyError, IndexError, TypeError):
            raise OpenAIChatError(
                f"{self.completions_url} answered without choices[0].text: {payload!r:.300}"
            ) from None
        if text is not None and not isinstance(text, str):
            raise OpenAIChatError(f"{self.completions_url} answered a text that is not a string: {text!r:.300}")
        return text or ""

    def _post(self, url: str, request: dict[str, Any]) -> Any:
        """POST ``request`` as JSON to ``url`` (one of this client's endpoints) with retries; the decoded answer."""
        body = json.dumps(request).encode()
        for attempt in range(self.retries + 1):
            try:
                raw = self._attempt(url, body)
                break
            except _Retryable as failure:
                if attempt == self.retries:
                    raise OpenAIChatError(
                        f"{url} failed {self.retries + 1} times, last with {failure}. Check the server, or "
                        "raise timeout= / retries=."
                    ) from None
                time.sleep(failure.delay if failure.delay is not None else self.backoff * 2**attempt)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise OpenAIChatError(f"{url} answered with invalid JSON: {raw[:300]!r}") from error

    def _attempt(self, url: str, body: bytes) -> bytes:
        """One POST under one deadline: the answer's body, or :class:`_Retryable`, or :class:`OpenAIChatError`."""
        parts = urllib.parse.urlsplit(url)
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
                    f"{url} answered HTTP {status}, a redirect to {location}. Redirects are not followed, so "
                    "the API key goes to the configured URL only; point the base URL at the server's own address."
                )
            limit = self.max_response_bytes if status == 200 else 300
            raw = _read_body(response, limit, url, refuse=status == 200)
            if expired.is_set():
                raise TimeoutError("the deadline passed")
        except (OSError, http.client.HTTPException) as error:
            # A socket timeout is the deadline too: one wait of ``timeout`` seconds outlasts the whole attempt's
            # (the timer and the socket race when both expire together).
            if expired.is_set() or isinstance(error, TimeoutError):
                raise _Retryable(f"no complete answer within the {self.timeout:g} s deadline") from None
            raise _Retryable(f"{type(error).__name__}: {error}") from None
        finally:
            timer.cancel()
            connection.close()
        if status == 200:
            return raw
        detail = raw.decode(errors="replace")
        if status not in RETRYABLE_STATUS:
            raise OpenAIChatError(f"{url} answered HTTP {status}: {detail}")
        retry_after = (response.getheader("Retry-After") or "").strip()
        delay = min(float(retry_after), MAX_RETRY_AFTER_S) if retry_after.replace(".", "", 1).isdigit() else None
        raise _Retryable(f"HTTP {status}: {detail}", delay)


class RequestPool:
    """Threads that ask a batch of requests at once, at most ``concurrency`` in flight, and give the answers in the
    batch's order, whatever order they come back in.

    ``ask`` makes its requests through an :class:`OpenAIClient`, so each keeps its own retries and deadline. The
    threads are kept from batch to batch (a batch does not wait for its threads to start) and end with the pool.

    Args:
        concurrency: The most requests in flight at once; 1 asks on the calling thread.
        name: Prefix of the threads' names.

    Raises:
        ValueError: ``concurrency`` is below 1.
    """

    def __init__(self, concurrency: int, *, name: str = "openai-request"):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1 (1: one request at a time), got {concurrency}.")
        self.concurrency = concurrency
        self.name = name
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def map(self, ask: Callable[[_Item], _Answer], items: Sequence[_Item]) -> list[_Answer]:
        """``ask(item)`` for every item, at most ``concurrency`` at once; the answers in the order of ``items``.

        Args:
            ask: Asks the server for one item (called from several threads at once).
            items: What to ask.

        Raises:
            OpenAIChatError: A request failed for good (or whatever else ``ask`` raised): the first failed item's
                error, in the order of ``items``. Requests not yet sent are dropped; those in flight end within
                their retries and deadlines before it is raised, so no request outlives the call.
        """
        if self.concurrency == 1 or len(items) <= 1:
            return [ask(item) for item in items]
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.name)
        stop = threading.Event()
        not_asked = object()

        def ask_unless_stopped(item: _Item) -> _Answer | object:
            # A thread that is free once a request has failed for good (or the call was interrupted) sends nothing.
            if stop.is_set():
                return not_asked
            try:
                return ask(item)
            except BaseException:
                stop.set()
                raise

        futures = [self._pool.submit(ask_unless_stopped, item) for item in items]
        try:
            concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
        finally:
            # On a failure (or Ctrl-C) the requests still queued are not sent; those in flight are waited for.
            stop.set()
            for future in futures:
                future.cancel()
            concurrent.futures.wait(futures)
        for future in futures:
            if not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]  (checked just above)
        return [future.result() for future in futures]  # type: ignore[misc]  (none is not_asked: none failed)

    def close(self) -> None:
        """End the threads (a later :meth:`map` starts new ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def api_root(url: str) -> str:
    """The API root that ``url`` names: without a trailing ``/``, or an endpoint (``.../chat/completions``,
    ``.../completions``), or credentials (``user:password@``)."""
    parts = urllib.parse.urlsplit(url.rstrip("/").removesuffix("/chat/completions").removesuffix("/completions"))
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


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
