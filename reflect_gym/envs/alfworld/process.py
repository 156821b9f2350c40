"""The env's side of an ALFWorld game process (see :mod:`reflect_gym.envs.alfworld.server`)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

# The folder that holds the reflect_gym package, so that the game process imports this same copy.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])


class GameTimeout(Exception):
    """The game process did not answer in time; it has been stopped."""


class GameProcessError(RuntimeError):
    """The game process failed to answer a request, or died."""


def _stop(process: subprocess.Popen, owner: int) -> None:
    if os.getpid() != owner:  # a forked copy of the env's process must not stop the game it does not own
        return
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        # A request that a dead process never read may still be buffered, and closing flushes it: the
        # stream closes all the same, and a BrokenPipeError here would leave the env holding a dead process.
        with contextlib.suppress(BrokenPipeError):
            if stream is not None:
                stream.close()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name
        return f"signal {number}"


class GameProcess:
    """A ``python -m reflect_gym.envs.alfworld.server`` child process and its line-based JSON protocol.

    The process starts when the object is created and is killed by :meth:`close`, on a timeout, or when
    the object is garbage-collected. A process that has exited (killed, or crashed) fails every later
    request with :class:`GameProcessError`; a new object starts a new process. POSIX only (``select`` on a
    pipe), as TextWorld is.
    """

    def __init__(self) -> None:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT, environment.get("PYTHONPATH")]))
        environment["PYTHONHASHSEED"] = "0"  # same set orders in every game process, for reproducibility
        self._process = subprocess.Popen(
            [sys.executable, "-m", "reflect_gym.envs.alfworld.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )
        self._finalizer = weakref.finalize(self, _stop, self._process, os.getpid())
        self._pending = b""

    @property
    def pid(self) -> int:
        """The game process's id."""
        return self._process.pid

    @property
    def alive(self) -> bool:
        """Whether the process is running and not closed (a dead one is reaped here)."""
        return self._finalizer.alive and self._process.poll() is None

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send ``message`` and return the answer.

        Raises:
            GameTimeout: No answer within ``timeout`` seconds (``None``: wait forever); the process is
                stopped.
            GameProcessError: The process died, or answered with an error (its traceback is in the message).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._finalizer.alive:
            raise GameProcessError(f"the ALFWorld game process (pid {self.pid}) was closed; start a new one")
        if self._process.poll() is not None:  # died while idle: say how, rather than what the write hit
            raise GameProcessError(self._died_message())
        try:
            self._process.stdin.write((json.dumps(message) + "\n").encode())
            self._process.stdin.flush()
        except BrokenPipeError:
            raise GameProcessError(self._died_message()) from None
        answer = json.loads(self._read_line(deadline))
        if "error" in answer:
            raise GameProcessError(answer["error"])
        return answer

    def close(self) -> None:
        """Stop the process (idempotent)."""
        self._finalizer()

    def _read_line(self, deadline: float | None) -> bytes:
        descriptor = self._process.stdout.fileno()
        while b"\n" not in self._pending:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([descriptor], [], [], wait)
            if not ready:
                self.close()
                raise GameTimeout
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                raise GameProcessError(self._died_message())
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _died_message(self) -> str:
        self.close()
        code = self._process.returncode
        if code is not None and code < 0:
            return f"the ALFWorld game process (pid {self.pid}) was killed by {_signal_name(-code)}"
        return (
            f"the ALFWorld game process (pid {self.pid}) exited with code {code} (its error, if any, is on "
            "stderr above)"
        )
