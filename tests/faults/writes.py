"""Kill a command at its N-th write, as ``kill -9`` would, and count a command's writes.

A command runs as ``python -m tests.faults.writes N CALL MODULE [ARGS...]``: ``python -m MODULE ARGS`` in a
process that sends itself SIGKILL just before its N-th call of ``CALL`` (``os.replace``: the moment the
project's atomic writer publishes a file or folder; ``torch.save``: a file the ``Trainer`` writes in place).
N = 0 kills nothing and prints ``writes: <count>`` last, so a test can try every kill point; a negative N only
runs the command::

    total = count_writes("reflect_agent.ppo", *args, cwd=tmp_path)
    for at in range(1, total + 1):
        assert run_killed_at_write(at, "reflect_agent.ppo", *args, cwd=tmp_path).returncode == -signal.SIGKILL

The child process imports from the repository root, wherever ``cwd`` is.
"""

from __future__ import annotations

import importlib
import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _command(at: int, call: str, module: str, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "tests.faults.writes", str(at), call, module, *args]


def _environment() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def run_killed_at_write(
    at: int, module: str, *args: str, cwd: str | os.PathLike, call: str = "os.replace", timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` in ``cwd``, killed (SIGKILL) just before its ``at``-th call of ``call``."""
    return subprocess.run(
        _command(at, call, module, args),
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def count_writes(
    module: str, *args: str, cwd: str | os.PathLike, call: str = "os.replace", timeout: float = 300
) -> int:
    """How many times ``python -m module args`` (run to its end in ``cwd``) calls ``call``."""
    done = run_killed_at_write(0, module, *args, cwd=cwd, call=call, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return int(done.stdout.strip().splitlines()[-1].removeprefix("writes: "))


def _patch(at: int, call: str) -> list[int]:
    """Replace ``call`` (``"package.module.name"``) by a counting wrapper that dies at the ``at``-th call."""
    module_name, _, name = call.rpartition(".")
    owner = importlib.import_module(module_name)
    original = getattr(owner, name)
    count = [0]

    def counted(*args, **kwargs):
        count[0] += 1
        if count[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(owner, name, counted)
    return count


def main() -> None:
    at, call, module, *args = sys.argv[1:]
    count = _patch(int(at), call)
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        if int(at) == 0:
            # One write of the whole line: launched processes share this stdout, unbuffered, and print's text and
            # newline would go out as two writes that another process's line can come between.
            sys.stdout.write(f"writes: {count[0]}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
