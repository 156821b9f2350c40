"""Process faults: kill a process and wait until it is dead, find a process's children, kill a vector env's
worker during a step.

A test that kills a worker or a game process must not race the kernel: ``os.kill`` returns before the
process is gone. :func:`kill` returns once it is dead (gone, or a zombie that its parent can reap now),
so the code under test meets a dead process, not a dying one::

    kill(env.unwrapped._game.pid)
    env.step(action)  # meets the dead game process

Linux only: states and parents are read from ``/proc``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv


def state(pid: int) -> str | None:
    """The state letter of process ``pid`` (``R``, ``S``, ``T`` stopped, ``Z`` zombie...); ``None`` when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
        return None
    # The command name, in parentheses, may hold spaces and parentheses: the fields follow the last ")".
    return stat.rpartition(")")[2].split()[0]


def parent(pid: int) -> int | None:
    """The parent id of process ``pid``; ``None`` when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rpartition(")")[2].split()[1])


def children(pid: int) -> list[int]:
    """The ids of the live processes whose parent is ``pid``, sorted."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent(int(entry.name)) == pid and state(int(entry.name)) not in (None, "Z"):
            found.append(int(entry.name))
    return sorted(found)


def dead(pid: int) -> bool:
    """Whether process ``pid`` is gone, or a zombie whose parent can reap it now.

    A zombie's first thread is shown dead (``Z``) while its other threads still exit; its parent's
    ``waitpid`` sees it only after that, so a child of this process is asked with ``waitid`` (without
    reaping it), and any other process must have no thread left but a dead first one.
    """
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # not a child of this process (or reaped already): read /proc
        pass
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return True
    return threads == [str(pid)] and state(pid) in (None, "Z", "X")


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    """Return once process ``pid`` is dead (see :func:`dead`).

    Raises:
        TimeoutError: It still runs after ``timeout`` seconds; the message gives its state.
    """
    wait_for(pid, lambda: dead(pid), timeout)


def wait_for(pid: int, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Return once ``condition()`` holds; poll every 10 ms.

    Raises:
        TimeoutError: It does not hold after ``timeout`` seconds; the message gives process ``pid``'s state.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} is still in state {state(pid)!r} after {timeout} s")
        time.sleep(0.01)


def kill(pid: int, timeout: float = 10.0) -> None:
    """Send ``SIGKILL`` to process ``pid`` and return once it is dead (see :func:`wait_dead`)."""
    os.kill(pid, signal.SIGKILL)
    wait_dead(pid, timeout)


def kill_worker_mid_step(envs: AsyncVectorEnv, worker: int) -> None:
    """Kill worker ``worker`` of ``envs`` while every worker has a step (action 0) to do; the step fails.

    The worker is stopped before the step is sent, so it dies without answering however fast the env steps.
    Gymnasium reads the workers' pipes in order, so the step raises ``EOFError`` or ``ConnectionResetError``
    at the dead worker's, after the results of the workers before it were read (and are gone).
    """
    pid = envs.processes[worker].pid
    os.kill(pid, signal.SIGSTOP)
    wait_for(pid, lambda: state(pid) == "T")
    envs.step_async(np.zeros(envs.num_envs, dtype=np.int64))
    kill(pid)
    with pytest.raises((EOFError, ConnectionResetError)):
        envs.step_wait()
