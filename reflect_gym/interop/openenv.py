"""Serve any ReflectRL env as an OpenEnv environment (``openenv-core``), and talk to it with a typed client.

OpenEnv is the HTTP/WebSocket environment protocol that TRL, SkyRL, ART and Unsloth train against. Here a
ReflectRL env becomes an OpenEnv ``Environment`` (:class:`ReflectEnvironment`), served by OpenEnv's own FastAPI
app; every WebSocket session (``/ws``) plays its own ``gym.make(env_id, **make_kwargs)``::

    python -m reflect_gym.interop.openenv ReflectRL/DangerousTaxi-v0 --port 8000   # serves 127.0.0.1:8000

    from reflect_gym.interop.openenv import ReflectAction, ReflectClient

    with ReflectClient(base_url="http://127.0.0.1:8000").sync() as client:
        result = client.reset(seed=0)
        print(result.observation.text)  # the env's observation: state, then "0. move south" ...
        result = client.step(ReflectAction(text="move north"))  # or ReflectAction(index=1)
        print(result.reward, result.done, result.observation.success)

An action gives an ``index`` or a ``text``, exactly one of them (:class:`ReflectAction`). Both are stepped as
:class:`reflect_gym.interop.episode.Episode` steps them: an index as the Gymnasium env steps it, a text as
:class:`reflect_gym.wrappers.TextActions` reads it. A masked-out index or a text that names no admissible action
is an invalid action: it costs the env's ``invalid_action_penalty``, counts as a step and sets
``observation.invalid_action``. An index outside the action space, an action with both or neither field, and a
step after the episode ended are refused: the client raises ``RuntimeError`` carrying the server's message.

OpenEnv's HTTP ``POST /reset`` and ``POST /step`` build a fresh env for every request (that is OpenEnv's design),
so an episode is played over the WebSocket session that :class:`ReflectClient` (an OpenEnv ``EnvClient``) opens.
The server binds ``127.0.0.1`` unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.http_server import create_fastapi_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from reflect_gym.interop.episode import Episode, EpisodeStep, check_env_id

#: Concurrent WebSocket sessions (one env each) a server allows unless told otherwise.
DEFAULT_MAX_SESSIONS = 8


class ReflectAction(Action):
    """An action: the ``index`` of an admissible action, or its ``text``; exactly one of them."""

    index: int | None = Field(
        default=None,
        ge=-1,
        description="Index of the admissible action (its number in the observation); -1 names none (invalid).",
    )
    text: str | None = Field(
        default=None,
        description='The action as text: its string ("move north") or its label ("2", "(2)", "Action: 2").',
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ReflectAction:
        if (self.index is None) == (self.text is None):
            # A PydanticCustomError, not a ValueError: OpenEnv sends a validation error's details to the client as
            # JSON, and the exception object a ValueError leaves in them cannot be (the session would end).
            raise PydanticCustomError(
                "exactly_one_of_index_or_text",
                "Give exactly one of index or text, got index={index!r} and text={text!r}: "
                'ReflectAction(index=2) or ReflectAction(text="move north").',
                {"index": self.index, "text": self.text},
            )
        return self


class ReflectObservation(Observation):
    """What the env shows after ``reset`` or a step (``done`` and ``reward`` are OpenEnv's own fields)."""

    text: str = Field(default="", description="The env's observation: the state text, then the numbered actions.")
    state: str = Field(default="", description="The state text alone (the observation without the action list).")
    actions: list[str] = Field(default_factory=list, description="The admissible action strings, in index order.")
    terminated: bool = Field(default=False, description="The episode ended on this step (a win or a loss).")
    truncated: bool = Field(default=False, description="The env's horizon ran out on this step.")
    success: bool = Field(default=False, description="This step won the episode.")
    invalid_action: bool = Field(default=False, description="This step was an invalid action (a penalty).")
    parsed_action: int | None = Field(
        default=None, description="The index a text action was read as (-1: none); null for an index or a reset."
    )


class ReflectState(State):
    """The session's episode: OpenEnv's ``episode_id`` and ``step_count``, and how the episode stands."""

    env_id: str = Field(default="", description="The ReflectRL id the session plays.")
    seed: int | None = Field(default=None, description="The seed of the last reset (null: unseeded).")
    episode_return: float = Field(default=0.0, description="The sum of the episode's rewards so far.")
    done: bool = Field(default=False, description="The episode has ended (terminated or truncated).")
    success: bool = Field(default=False, description="The episode was won.")


class ReflectEnvironment(Environment[ReflectAction, ReflectObservation, ReflectState]):
    """A ReflectRL env, ``gym.make(env_id, **make_kwargs)``, as an OpenEnv ``Environment``.

    Every instance holds its own env, so a server may give each WebSocket session one
    (``SUPPORTS_CONCURRENT_SESSIONS``).

    Args:
        env_id: A registered ReflectRL id, e.g. ``"ReflectRL/FileQA-v0"``.
        **make_kwargs: Keyword arguments of ``gym.make`` (the env's own arguments).
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str, **make_kwargs: Any):
        super().__init__()
        self._episode = Episode(env_id, **make_kwargs)
        self._episode_id: str | None = None

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ReflectObservation:
        """Start an episode: ``env.reset(seed=seed, options=options)``.

        Raises:
            TypeError: ``kwargs`` holds a field other than ``seed``, ``episode_id`` and ``options``.
        """
        if kwargs:
            raise TypeError(f"reset takes seed, episode_id and options; got also {sorted(kwargs)}.")
        observation, info = self._episode.reset(seed=seed, options=options)
        self._episode_id = episode_id or str(uuid.uuid4())
        return self._observation(observation, info)

    def step(self, action: ReflectAction, timeout_s: float | None = None, **kwargs: Any) -> ReflectObservation:
        """Step ``action`` by its index or its text (see the module docstring)."""
        if action.text is not None:
            result = self._episode.step_text(action.text)
        else:
            result = self._episode.step_index(action.index)
        return self._step_observation(result)

    @property
    def state(self) -> ReflectState:
        episode = self._episode
        return ReflectState(
            episode_id=self._episode_id,
            step_count=episode.steps,
            env_id=episode.env_id,
            seed=episode.seed,
            episode_return=episode.episode_return,
            done=episode.done,
            success=episode.success,
        )

    def close(self) -> None:
        self._episode.close()

    def _step_observation(self, result: EpisodeStep) -> ReflectObservation:
        return self._observation(
            result.observation,
            result.info,
            reward=result.reward,
            terminated=result.terminated,
            truncated=result.truncated,
            parsed_action=result.parsed_action,
        )

    @staticmethod
    def _observation(
        text: str,
        info: dict[str, Any],
        *,
        reward: float | None = None,
        terminated: bool = False,
        truncated: bool = False,
        parsed_action: int | None = None,
    ) -> ReflectObservation:
        return ReflectObservation(
            text=text,
            state=info["state"],
            actions=list(info["actions"]),
            terminated=terminated,
            truncated=truncated,
            success=bool(info["success"]),
            invalid_action=bool(info["invalid_action"]),
            parsed_action=parsed_action,
            reward=reward,
            done=terminated or truncated,
        )


class ReflectClient(EnvClient[ReflectAction, ReflectObservation, ReflectState]):
    """OpenEnv client of a served ReflectRL env (async; ``.sync()`` gives the synchronous client).

    ``reset(seed=..., options=...)`` and ``step(ReflectAction(...))`` return an OpenEnv ``StepResult`` whose
    ``observation`` is a :class:`ReflectObservation`; ``state()`` returns a :class:`ReflectState`.
    """

    def _step_payload(self, action: ReflectAction) -> dict[str, Any]:
        return action.model_dump(exclude_none=True)

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[ReflectObservation]:
        observation = ReflectObservation(
            **payload.get("observation", {}), reward=payload.get("reward"), done=payload.get("done", False)
        )
        return StepResult(observation=observation, reward=observation.reward, done=observation.done)

    def _parse_state(self, payload: dict[str, Any]) -> ReflectState:
        return ReflectState(**payload)


def make_app(env_id: str, *, max_concurrent_envs: int = DEFAULT_MAX_SESSIONS, **make_kwargs: Any) -> FastAPI:
    """OpenEnv's FastAPI app serving ``gym.make(env_id, **make_kwargs)``, one env per WebSocket session.

    One env is built and closed here, so that an unknown id, a wrong argument or a missing extra fails now, naming
    itself, rather than in every session (where OpenEnv reports only that the factory failed).

    Args:
        env_id: A registered ReflectRL id.
        max_concurrent_envs: The most WebSocket sessions (and so envs) at a time; a further one is refused.
        **make_kwargs: Keyword arguments of ``gym.make``.
    """
    check_env_id(env_id)
    ReflectEnvironment(env_id, **make_kwargs).close()
    factory = functools.partial(ReflectEnvironment, env_id, **make_kwargs)
    return create_fastapi_app(factory, ReflectAction, ReflectObservation, max_concurrent_envs=max_concurrent_envs)


def serve(
    env_id: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_concurrent_envs: int = DEFAULT_MAX_SESSIONS,
    **make_kwargs: Any,
) -> None:
    """Serve ``env_id`` on ``host:port`` until interrupted (see :func:`make_app`)."""
    uvicorn.run(make_app(env_id, max_concurrent_envs=max_concurrent_envs, **make_kwargs), host=host, port=port)


@contextlib.contextmanager
def serving(
    env_id: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    max_concurrent_envs: int = DEFAULT_MAX_SESSIONS,
    timeout_s: float = 10.0,
    **make_kwargs: Any,
) -> Iterator[str]:
    """Serve ``env_id`` in a background thread for the ``with`` block; yields the server's ``http://`` URL.

    The socket is bound before the server starts, so ``port=0`` (the default) takes a free port without a race.
    Leaving the block stops the server; sessions still open are closed after at most ``timeout_s``.

    Raises:
        TimeoutError: The server did not start, or did not stop, within ``timeout_s``.
    """
    app = make_app(env_id, max_concurrent_envs=max_concurrent_envs, **make_kwargs)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_host, bound_port = sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=max(1, round(timeout_s)))
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="openenv-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            if not server.started:
                raise TimeoutError(f"The OpenEnv server of {env_id} did not start on {bound_host}:{bound_port}.")
            yield f"http://{bound_host}:{bound_port}"
        finally:
            server.should_exit = True
            thread.join(timeout_s)
            if thread.is_alive():
                raise TimeoutError(f"The OpenEnv server of {env_id} did not stop within {timeout_s} s.")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reflect_gym.interop.openenv ENV_ID [--host H] [--port P] [--kwargs JSON]``."""
    parser = argparse.ArgumentParser(prog="python -m reflect_gym.interop.openenv", description=serve.__doc__)
    parser.add_argument("env_id", help="a registered ReflectRL id, e.g. ReflectRL/DangerousTaxi-v0")
    parser.add_argument("--host", default="127.0.0.1", help="the address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-sessions", type=int, default=DEFAULT_MAX_SESSIONS, help="concurrent sessions")
    parser.add_argument("--kwargs", default="{}", help="gym.make keyword arguments as JSON, e.g. '{\"horizon\": 30}'")
    args = parser.parse_args(argv)
    make_kwargs = json.loads(args.kwargs)
    if not isinstance(make_kwargs, dict):
        parser.error(f"--kwargs must be a JSON object, got {args.kwargs!r}")
    serve(args.env_id, host=args.host, port=args.port, max_concurrent_envs=args.max_sessions, **make_kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
