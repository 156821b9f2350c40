"""A stub OpenAI-compatible chat server on loopback, for the chat agent's tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubChatServer:
    """``/v1/chat/completions`` on 127.0.0.1: answers each request with the next scripted response.

    A script entry is ``("reply", text)``, ``("status", code)`` (an error, with ``Retry-After: 0`` on 429),
    or ``("sleep", seconds)`` (answer ``"0"`` late). When the script runs out it replies ``"0"``.
    """

    def __init__(self):
        self.script: list[tuple[str, object]] = []
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                kind, value = stub.script.pop(0) if stub.script else ("reply", "0")
                if kind == "status":
                    self.send_response(value)
                    if value == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "scripted failure"}}')
                    return
                if kind == "sleep":
                    time.sleep(value)
                    value = "0"
                payload = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": value}}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # a client that timed out closed the socket
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
