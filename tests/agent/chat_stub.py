"""A scripted, misbehaving OpenAI-compatible server on 127.0.0.1, for the HTTP client's and chat agent's tests.

Reusable by any test of code that asks a served model (the chat agent, a served reflector). It binds to loopback
only and never connects anywhere itself.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(content: str) -> bytes:
    """The body of a chat completion whose reply is ``content``."""
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


def text_completion(text: str) -> bytes:
    """The body of a raw (``/completions``) completion whose continuation is ``text``."""
    return json.dumps({"choices": [{"index": 0, "text": text, "finish_reason": "stop"}]}).encode()


def hashed_reply(body: dict | None) -> str:
    """A deterministic model: the number of one of the numbered actions in the last message, picked by a hash of
    the message, or (one message in seven) a reply that names no action."""
    prompt = str(body["messages"][-1]["content"]) if body and body.get("messages") else ""
    count = len(re.findall(r"^\d+\. ", prompt, flags=re.MULTILINE))
    digest = zlib.crc32(prompt.encode())
    return "I cannot tell." if count == 0 or digest % 7 == 0 else f"Action: {digest % count}"


def answer_body(path: str, content: str) -> bytes:
    """The completion a request to ``path`` expects: raw for ``.../completions``, else chat."""
    is_raw = path.endswith("/completions") and not path.endswith("/chat/completions")
    return text_completion(content) if is_raw else completion(content)


class _Server(ThreadingHTTPServer):
    # A burst of concurrent connections waits in the listen queue, as real servers let it (the default queue of 5
    # drops the rest, and each dropped client connects again a second later).
    request_queue_size = 128


class StubChatServer:
    """Answers each POST with the next scripted response, and records every request it got.

    Script entries:
        ``("reply", text)``: a chat completion replying ``text``.
        ``("status", code)``: an error status (with ``Retry-After: 0`` on 429).
        ``("status", (code, retry_after))``: an error status with this ``Retry-After`` header (``None``: none).
        ``("sleep", seconds)``: reply ``"0"`` after ``seconds``.
        ``("redirect", url)``: ``302 Found`` to ``url``.
        ``("trickle", seconds)``: a valid completion sent one byte every ``seconds``.
        ``("trickle_headers", seconds)``: the status line and headers sent one byte every ``seconds``.
        ``("body", bytes)``: ``200`` with this raw body (``Content-Length`` set).
        ``("unsized", bytes)``: ``200`` with this raw body, no ``Content-Length`` (ends when the connection closes).

    Replies are raw completions (``choices[0].text``) on a path ending in ``/completions``, chat completions
    elsewhere. When the script runs out it replies ``respond(body)`` (default ``"0"``; :func:`hashed_reply` is a
    deterministic model), called on the request's thread, so requests answered concurrently can each get their
    own reply. Each request is answered ``delay`` seconds after it arrived, as a remote API or a GPU server
    answers, and requests are answered concurrently: ``in_flight`` counts those being answered now and
    ``max_in_flight`` the most at once so far. ``requests`` holds each request's path, headers and body, in the
    order they arrived; ``trickled`` gets, for each trickled answer once it ends, ``(bytes sent, bytes in all)``.
    """

    def __init__(self, respond: Callable[[dict], str] | None = None, *, delay: float = 0.0) -> None:
        self.script: list[tuple[str, object]] = []
        self.requests: list[dict] = []
        self.trickled: queue.Queue[tuple[int, int]] = queue.Queue()
        self.respond = respond or (lambda body: "0")
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        # Concurrent requests pop the script and count themselves under this lock.
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw) if raw else None
                with stub.lock:
                    stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    scripted = stub.script.pop(0) if stub.script else None
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    if stub.delay:  # (a test may patch time.sleep to record the client's waits)
                        time.sleep(stub.delay)
                    kind, value = scripted or ("reply", stub.respond(body))
                    trickled = stub.answer(self, kind, value)
                finally:
                    with stub.lock:
                        stub.in_flight -= 1
                if trickled is not None:
                    stub.trickled.put(trickled)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that gave up closed the socket
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, kind: str, value: object) -> tuple[int, int] | None:
        """Send the scripted answer ``(kind, value)`` through ``handler``, in the format its path expects; for a
        trickle, ``(bytes sent, bytes in all)``."""
        if kind == "status":
            code, retry_after = value if isinstance(value, tuple) else (value, "0" if value == 429 else None)
            handler.send_response(code)
            if retry_after is not None:
                handler.send_header("Retry-After", retry_after)
            handler.send_header("Content-Length", "42")
            handler.end_headers()
            handler.wfile.write(b'{"error": {"message": "scripted failure"}}')
        elif kind == "redirect":
            handler.send_response(302)
            handler.send_header("Location", str(value))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif kind == "trickle":
            body = answer_body(handler.path, "0")
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.flush()
            return _trickle(handler, body, float(value)), len(body)
        elif kind == "trickle_headers":
            body = answer_body(handler.path, "0")
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            return _trickle(handler, head + body, float(value)), len(head + body)
        elif kind in ("body", "unsized"):
            handler.send_response(200)
            if kind == "body":
                handler.send_header("Content-Length", str(len(value)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(value)
            handler.close_connection = True
        else:
            if kind == "sleep":
                time.sleep(value)
                value = "0"
            body = answer_body(handler.path, str(value))
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _trickle(handler: BaseHTTPRequestHandler, data: bytes, seconds: float) -> int:
    """Send ``data`` one byte every ``seconds``, until done or the client hangs up; the bytes sent."""
    sent = 0
    try:
        for byte in data:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            sent += 1
            time.sleep(seconds)
    except OSError:
        pass  # the client gave up: what the test wants
    return sent
