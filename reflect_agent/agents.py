"""Agents that act in ReflectRL envs: one protocol, and the agents the benchmarks compare.

Every agent maps an observation and its ``info`` to the index of an admissible action:

* :class:`RandomAgent`: a uniformly random admissible action.
* :class:`ExpertAgent`: the env's own ``expert_action()``.
* :class:`LMAgent`: an :class:`~reflect_agent.policy.LMPolicy`, optionally helped by a
  :class:`~reflect_agent.reflector.Reflector`.
* :class:`OpenAIChatAgent`: any OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, llama.cpp's
  server, LM Studio, ...), its replies read with the rule of :class:`reflect_gym.wrappers.TextActions`.

:func:`make_agent` builds one from a spec string such as ``"random"`` or ``"lm:smollm2+reflect"``.
An agent may return ``-1`` when it names no admissible action (an unreadable chat reply); the caller
then steps an invalid action with ``env.unwrapped.step_invalid``, as ``TextActions`` does. Besides the
env's own keys, ``info`` may hold ``previous_action``: the text of the action taken at the previous step
of the episode (``None`` at the first step or after an invalid one), which the reflector reads.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from reflect_agent.prompts import reflector_state
from reflect_gym.core import format_actions, normalize_action_text
from reflect_gym.wrappers import parse_action

#: Index an agent returns when it names no admissible action.
NO_ACTION = -1


@runtime_checkable
class Agent(Protocol):
    """What the evaluation harness needs from an agent.

    Attributes:
        name: The agent's spec or a short name, shown in results.
        batch_size: How many observations :meth:`act_batch` is best given at once; ``1`` for agents
            that read the state of the env they were built with (expert, classical baselines).
    """

    name: str
    batch_size: int

    def reset(self, seed: int | None = None) -> None:
        """Start a new evaluation run; ``seed`` reseeds any randomness the agent has."""
        ...

    def act(self, obs: str, info: dict[str, Any]) -> int:
        """The index of the action to take, or :data:`NO_ACTION`."""
        ...

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        """:meth:`act` for several observations (from different envs) at once."""
        ...


class RandomAgent:
    """Picks a uniformly random admissible action, read from ``info["action_mask"]``.

    Args:
        seed: Seed of the agent's generator; :meth:`reset` can reseed it.
    """

    batch_size = 1

    def __init__(self, seed: int | None = None):
        self.name = "random"
        self._rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def act(self, obs: str, info: dict[str, Any]) -> int:
        return int(self._rng.choice(np.flatnonzero(info["action_mask"])))

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        return [self.act(obs, info) for obs, info in zip(observations, infos, strict=True)]


class ExpertAgent:
    """Takes ``env.unwrapped.expert_action()``: the upper reference of every benchmark.

    It reads the state of the one env it was built with, so ``act`` must be given that env's
    observations (``batch_size`` is 1).

    Args:
        env: The env the agent acts in.
    """

    batch_size = 1

    def __init__(self, env: gym.Env):
        if not hasattr(env.unwrapped, "expert_action"):
            raise TypeError(f"{env.unwrapped!r} has no expert_action(); the expert agent needs a ReflectRL env.")
        self.name = "expert"
        self.env = env

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: str, info: dict[str, Any]) -> int:
        return int(self.env.unwrapped.expert_action())

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        if len(observations) != 1:
            raise ValueError(f"ExpertAgent acts in one env, got a batch of {len(observations)} observations.")
        return [self.act(observations[0], infos[0])]


class LMAgent:
    """A language-model policy, greedy by default, optionally given a reflector's analysis.

    The policy scores every admissible action's label in one forward pass and only ever picks an
    admissible one. With a reflector, each decision first generates an analysis of the state (with
    ``info["previous_action"]`` when given, as in the trainer's rollouts), which the policy's prompt
    includes. ``info["taken"]``, the episode's past actions when the harness gives them, is what the
    policy's ``repeat_penalty`` counts.

    Args:
        policy: The policy (:class:`reflect_agent.policy.LMPolicy`).
        reflector: Optional :class:`reflect_agent.reflector.Reflector`.
        greedy: Take the most likely action instead of sampling.
        batch_size: Observations per forward pass when the harness batches episodes.
        name: Shown in results; defaults to ``"lm"``.
    """

    def __init__(
        self,
        policy: Any,
        reflector: Any | None = None,
        *,
        greedy: bool = True,
        batch_size: int = 8,
        name: str = "lm",
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.policy = policy
        self.reflector = reflector
        self.greedy = greedy
        self.batch_size = batch_size
        self.name = name

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            import torch

            torch.manual_seed(seed)

    def act(self, obs: str, info: dict[str, Any]) -> int:
        return self.act_batch([obs], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        states = [info["state"] for info in infos]
        actions = [list(info["actions"]) for info in infos]
        reflections = None
        if self.reflector is not None:
            seen = [reflector_state(info["state"], info.get("previous_action")) for info in infos]
            reflections = self.reflector.reflect(seen, actions)
        taken = [list(info["taken"]) for info in infos] if all("taken" in info for info in infos) else None
        return [int(a) for a in self.policy.act(states, actions, reflections, greedy=self.greedy, taken=taken)]


class OpenAIChatError(RuntimeError):
    """A chat-completions request failed for good (after its retries, or with a non-retryable error)."""


DEFAULT_SYSTEM_PROMPT = (
    "You are an agent in a text game. Each message shows the current state and a numbered list of the "
    "actions you may take. Reply with the number of the action you choose and nothing else."
)
# Replies of "reasoning" models served by vLLM or llama.cpp may open with a thinking block.
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
# HTTP statuses worth retrying: timeout, conflict, rate limit, and server errors.
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 60.0


def parse_reply(reply: str, actions: list[str]) -> int:
    """The action index a chat reply names, or :data:`NO_ACTION`.

    The whole reply is read with :func:`reflect_gym.wrappers.parse_action` (the rule of ``TextActions``:
    ``"2"``, ``"(2)"``, ``"Action: 2"`` or the action's own words); failing that, each line on its own,
    with Markdown emphasis, backticks and quotes stripped, and a line that repeats an entry of the
    numbered list (``"2. move east"``). A leading ``<think>...</think>`` block is ignored.
    """
    reply = _THINK_BLOCK.sub("", reply).strip()
    index = parse_action(reply, actions)
    if index != NO_ACTION:
        return index
    entries = {normalize_action_text(line): i for i, line in enumerate(format_actions(actions).splitlines())}
    for line in reply.splitlines():
        line = line.strip().strip("*`'\"").strip()
        if not line:
            continue
        index = parse_action(line, actions)
        if index == NO_ACTION:
            index = entries.get(normalize_action_text(line), NO_ACTION)
        if index != NO_ACTION:
            return index
    return NO_ACTION


class OpenAIChatAgent:
    """Asks an OpenAI-compatible chat-completions endpoint for each action.

    Works with any server that implements ``POST {base_url}/chat/completions``: vLLM, llama.cpp's
    ``llama-server``, LM Studio, Ollama's OpenAI API, or OpenAI itself. Each decision is one stateless
    request: the system prompt, then the observation (state and numbered actions). The reply is read
    with :func:`parse_reply`; a reply that names no admissible action gives :data:`NO_ACTION`.

    Requests go only to ``base_url``. Connection errors, timeouts and HTTP 408/409/429/5xx are retried
    ``retries`` times with exponential backoff (or the server's ``Retry-After``, up to 60 s).

    Args:
        base_url: The API root, such as ``http://localhost:8000/v1``; defaults to ``$OPENAI_BASE_URL``.
        model: Model name sent to the server; defaults to ``$OPENAI_MODEL``.
        api_key: Sent as a bearer token; defaults to ``$OPENAI_API_KEY``; local servers need none.
        timeout: Seconds to wait for each request.
        retries: Further attempts after a failed request.
        backoff: Seconds before the first retry; doubled for each later one.
        temperature: Sampling temperature sent to the server (0: greedy).
        max_tokens: Reply length limit sent to the server.
        system_prompt: The system message.

    Raises:
        ValueError: If no base URL or model is given by argument or environment, or the URL is not
            http(s).
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
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL such as http://localhost:8000/v1, got {base_url!r}.")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError(
                f"timeout must be > 0 and retries, backoff >= 0; got timeout={timeout}, retries={retries}, "
                f"backoff={backoff}."
            )
        base_url = base_url.rstrip("/")
        self.url = base_url if base_url.endswith("/chat/completions") else f"{base_url}/chat/completions"
        self.model = model
        self.name = f"openai:{model}"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        #: The last reply received, for inspecting what the model said.
        self.last_reply: str | None = None

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: str, info: dict[str, Any]) -> int:
        self.last_reply = self.complete(obs)
        return parse_reply(self.last_reply, list(info["actions"]))

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[int]:
        return [self.act(obs, info) for obs, info in zip(observations, infos, strict=True)]

    def complete(self, prompt: str) -> str:
        """The model's reply to ``prompt`` (one user message after the system prompt).

        Raises:
            OpenAIChatError: If the request fails after its retries, fails in a way a retry cannot fix
                (such as HTTP 401 or 404), or the response is not a chat completion.
        """
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        payload = self._send(request)
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise OpenAIChatError(f"{self.url} answered without choices[0].message.content: {payload!r:.300}") from None
        return content or ""

    def _send(self, request: urllib.request.Request) -> Any:
        """POST ``request`` with retries; return the decoded JSON response."""
        for attempt in range(self.retries + 1):
            delay = self.backoff * 2**attempt
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                break
            except urllib.error.HTTPError as error:
                detail = error.read()[:300].decode(errors="replace")
                if error.code not in _RETRYABLE_STATUS:
                    raise OpenAIChatError(f"{self.url} answered HTTP {error.code}: {detail}") from error
                failure = f"HTTP {error.code}: {detail}"
                retry_after = error.headers.get("Retry-After")
                if retry_after is not None and retry_after.strip().replace(".", "", 1).isdigit():
                    delay = min(float(retry_after), _MAX_RETRY_AFTER_S)
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
                failure = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            if attempt == self.retries:
                raise OpenAIChatError(
                    f"{self.url} failed {self.retries + 1} times, last with {failure}. Check the server, or raise "
                    "timeout= / retries=."
                )
            time.sleep(delay)
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise OpenAIChatError(f"{self.url} answered with invalid JSON: {raw[:300]!r}") from error


def count_successes(env: gym.Env, agent: Agent, seeds: Iterable[int]) -> int:
    """Play one episode of ``agent`` in ``env`` per seed (the agent reset with the same seed); how many succeed."""
    successes = 0
    for seed in seeds:
        agent.reset(seed)
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
            done = terminated or truncated
        successes += bool(info["success"])
    return successes


def make_agent(spec: str, env: gym.Env, **options: Any) -> Agent:
    """Build an agent from a spec string.

    Specs:
        * ``"random"``: :class:`RandomAgent` (option ``seed``).
        * ``"expert"``: :class:`ExpertAgent` acting in ``env``.
        * ``"lm:MODEL"`` / ``"lm:MODEL+reflect"``: :class:`LMAgent` on a base model spec of
          :func:`reflect_agent.models.load_model` (``smollm2``, ``tiny``, ...) or a checkpoint folder saved
          by ``LMPolicy.save``; ``+reflect`` adds a reflector on the same, frozen, base model.
          Options: ``greedy``, ``batch_size``, ``device``, ``autocast`` (bf16 forward passes; ``None`` keeps a
          checkpoint's setting, off for a base model), ``decider`` (``"labels"`` or ``"scoring"``, see
          :class:`reflect_agent.policy.PolicyConfig`; ``None`` keeps a checkpoint's, labels for a base model),
          ``repeat_penalty`` (``PolicyConfig.repeat_penalty``; ``None`` keeps a checkpoint's, 0 for a base model)
          and ``max_new_tokens`` (the reflection's token limit, 100 by default as in the paper).
        * ``"openai"`` / ``"openai:MODEL"``: :class:`OpenAIChatAgent`; options are its arguments.

    Stable-baselines3 baselines (``"sb3:ppo"``, ``"sb3:dqn"``) are trained by :mod:`benchmarks.baselines`
    and built by ``python -m benchmarks.evaluate``.

    Args:
        spec: The agent spec.
        env: The env the agent will act in.
        **options: Passed to the agent's constructor as listed above.

    Raises:
        ValueError: If the spec is unknown.
    """
    kind, _, argument = spec.partition(":")
    if spec == "random":
        return RandomAgent(**options)
    if spec == "expert":
        return ExpertAgent(env, **options)
    if kind == "lm" and argument:
        return _make_lm_agent(spec, argument, **options)
    if kind == "openai":
        return OpenAIChatAgent(model=argument or options.pop("model", None), **options)
    if kind == "sb3":
        raise ValueError(
            f"Agent spec {spec!r}: stable-baselines3 baselines are built by benchmarks.baselines.make_sb3_agent "
            "(python -m benchmarks.evaluate --agent sb3:ppo)."
        )
    raise ValueError(
        f"Unknown agent spec {spec!r}; use 'random', 'expert', 'lm:MODEL', 'lm:MODEL+reflect', 'lm:CHECKPOINT_DIR', "
        "'openai:MODEL' or 'sb3:ALGO'."
    )


def _make_lm_agent(
    spec: str,
    argument: str,
    *,
    greedy: bool = True,
    batch_size: int = 8,
    device: str | None = None,
    autocast: bool | None = None,
    decider: str | None = None,
    repeat_penalty: float | None = None,
    max_new_tokens: int = 100,
) -> LMAgent:
    """The :class:`LMAgent` of ``lm:MODEL[+reflect]``; see :func:`make_agent`."""
    from reflect_agent.policy import LMPolicy, PolicyConfig
    from reflect_agent.reflector import Reflector, ReflectorConfig

    reflect = argument.endswith("+reflect")
    model = argument.removesuffix("+reflect")
    if not model:
        raise ValueError(f"Agent spec {spec!r} names no model: use 'lm:MODEL' or 'lm:MODEL+reflect'.")
    # A folder holding policy_config.json is a checkpoint written by LMPolicy.save; anything else is a model
    # spec of load_model. A base model needs no LoRA adapters to be evaluated.
    checkpoint = (Path(model) / "policy_config.json").is_file()
    if checkpoint:
        policy = LMPolicy.load(model, device=device, trainable=False)
        if autocast is not None:
            policy.config.autocast = autocast
        if decider is not None:
            policy.config = dataclasses.replace(policy.config, decider=decider)
        if repeat_penalty is not None:
            policy.config = dataclasses.replace(policy.config, repeat_penalty=repeat_penalty)
    else:
        config = PolicyConfig(
            model=model,
            device=device,
            lora=False,
            autocast=bool(autocast),
            decider=decider or "labels",
            repeat_penalty=repeat_penalty or 0.0,
        )
        policy = LMPolicy.from_config(config)
        policy.model.requires_grad_(False)
    reflector = None
    reflector_options = {"device": device, "autocast": policy.config.autocast, "max_new_tokens": max_new_tokens}
    if reflect:
        if checkpoint and not policy.config.lora:
            # The checkpoint's LM was trained as a whole: the frozen reflector needs its own copy of the base.
            reflector = Reflector.from_config(ReflectorConfig(model=policy.config.model, **reflector_options))
        else:
            # The same base model; a checkpoint's LoRA adapters are switched off while reflecting.
            reflector = Reflector(
                policy.model, policy.tokenizer, ReflectorConfig(**reflector_options), template=policy.template
            )
    return LMAgent(policy, reflector, greedy=greedy, batch_size=batch_size, name=spec)
