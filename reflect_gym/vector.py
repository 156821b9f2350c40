"""A bounded ``close()`` for Gymnasium's async vector envs, whose own ``close()`` can wait forever."""

from __future__ import annotations

import threading
from typing import Any

import gymnasium as gym
from gymnasium.vector import AsyncVectorEnv


class BoundedClose(gym.vector.VectorWrapper):
    """An async vector env whose ``close()`` returns within about ``timeout`` seconds, whatever its workers do.

    Gymnasium's :meth:`AsyncVectorEnv.close` waits on its workers' pipes without limit. When a worker is
    killed during a step, ``step()`` raises (``EOFError`` or ``ConnectionResetError``) after reading the
    results of the workers before it, and ``close()`` then waits forever for results already read; a
    stopped or hung worker blocks it too. This wrapper closes in order when every worker is alive: the
    workers finish a pending call (for at most half of ``timeout``) and close their envs. When a worker has
    died, or that order fails or runs past ``timeout``, every worker left is killed (``SIGKILL``) and
    reaped, and their pipes closed; the envs of killed workers are not closed (an ALFWorld game process
    ends by itself when its worker's pipe closes)::

        envs = BoundedClose(gym.make_vec("ReflectRL/ALFWorld-v0", num_envs=4, vectorization_mode="async",
                                         vector_kwargs={"shared_memory": False}))

    ``call``, ``get_attr`` and ``set_attr`` are passed on as well, so the wrapper stands in for the vector
    env; the async steps (``step_async``, ``step_wait``) are the :attr:`unwrapped` env's.

    Args:
        env: A vector env whose :attr:`unwrapped` is an :class:`AsyncVectorEnv`.
        timeout: Seconds that ``close()`` waits for the workers before it kills them (default 10); it
            waits as long again, at most, for its wait on them to end once they are dead.

    Raises:
        TypeError: ``env`` is not an async vector env (a sync one's ``close()`` has no workers to wait on).
        ValueError: ``timeout`` is not a positive number.
    """

    def __init__(self, env: gym.vector.VectorEnv, timeout: float = 10.0) -> None:
        if not isinstance(env.unwrapped, AsyncVectorEnv):
            raise TypeError(
                f"BoundedClose wraps an AsyncVectorEnv (gym.make_vec(..., vectorization_mode='async')), got "
                f"{type(env.unwrapped).__name__}, whose close() waits on no worker process."
            )
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        super().__init__(env)
        self.timeout = timeout

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """:meth:`AsyncVectorEnv.call` (a :class:`gym.vector.VectorWrapper` does not pass it on)."""
        return self.env.call(name, *args, **kwargs)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """:meth:`AsyncVectorEnv.get_attr`."""
        return self.env.get_attr(name)

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | object) -> None:
        """:meth:`AsyncVectorEnv.set_attr`."""
        self.env.set_attr(name, values)

    def close(self, **kwargs: Any) -> None:
        """Close the workers in order, or kill and reap them; returns within about ``timeout`` seconds.

        Args:
            **kwargs: Passed to :meth:`AsyncVectorEnv.close` (``terminate=True`` skips the envs' close).

        Raises:
            Exception: What closing in order raised, other than a dead worker's pipe error, once the
                workers are reaped.
        """
        if self.closed:
            return
        failures: list[Exception] = []
        closer = None
        if all(worker.is_alive() for worker in self.env.unwrapped.processes):
            closer = threading.Thread(
                target=self._close_in_order, args=(kwargs, failures), name="BoundedClose", daemon=True
            )
            closer.start()
            closer.join(self.timeout)
            if not closer.is_alive() and not failures:
                return
        self._kill_and_reap(closer)
        unexpected = [error for error in failures if not isinstance(error, (EOFError, OSError))]
        if unexpected:
            raise unexpected[0]

    def _close_in_order(self, kwargs: dict[str, Any], failures: list[Exception]) -> None:
        try:
            self.env.close(**{"timeout": self.timeout / 2, **kwargs})
        except Exception as error:  # reaped either way; a dead worker's EOFError or OSError is not raised
            failures.append(error)

    def _kill_and_reap(self, closer: threading.Thread | None) -> None:
        envs = self.env.unwrapped
        for worker in envs.processes:
            if worker.is_alive():
                worker.kill()  # not terminate(): a stopped worker would hold SIGTERM until continued
        if closer is not None:
            closer.join(self.timeout)  # its waits on the workers end once they are gone
        if closer is None or not closer.is_alive():  # never close a pipe that the closer still reads
            for pipe in envs.parent_pipes:
                if pipe is not None:
                    pipe.close()
        for worker in envs.processes:
            worker.join()
        self.closed = True
