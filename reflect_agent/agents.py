"""Agents that act in ReflectRL envs: one protocol, and the agents the benchmarks compare.

Every agent decides for a batch of :class:`~reflect_agent.episodes.Turn`\\ s (one per env of a vector env still
playing) and returns a :class:`~reflect_agent.episodes.Decision`; :func:`play` plays it through the one episode
runner, :func:`reflect_agent.episodes.play_episodes`:

* :class:`RandomAgent`: a uniformly random admissible action.
* :class:`ExpertAgent`: the env's own expert (:func:`reflect_gym.core.expert_action`), read from the sub-env it
  acts for.
* :class:`LMAgent`: an :class:`~reflect_agent.policy.LMPolicy`, optionally helped by a
  :class:`~reflect_agent.reflector.Reflector`, deciding by the one decision step
  :func:`reflect_agent.episodes.decide`.
* :class:`OpenAIChatAgent`: any OpenAI-compatible chat endpoint, through the one HTTP client
  :class:`reflect_agent.openai_api.OpenAIClient`.
* Stable-baselines3 agents on an env's structured state: :mod:`reflect_agent.baselines`.

:func:`make_agent` builds one from a spec string such as ``"random"`` or ``"lm:smollm2+reflect"``. An agent may
choose ``NO_ACTION`` (-1) when it names no admissible action (an unreadable chat reply); the envs of
:func:`reflect_agent.episodes.make_envs` step it as an invalid action.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch

from reflect_agent.episodes import Decision, Episode, ScoredPrompts, Turn, decide, play_episodes
from reflect_agent.openai_api import DEFAULT_MAX_RESPONSE_BYTES, OpenAIClient, RequestPool
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_gym.core import expert_action
from reflect_gym.wrappers import NO_ACTION, parse_action

__all__ = [
    "DEFAULT_CONCURRENCY",
    "NO_ACTION",
    "Agent",
    "ExpertAgent",
    "LMAgent",
    "OpenAIChatAgent",
    "RandomAgent",
    "env_at",
    "make_agent",
    "play",
]

#: Requests an :class:`OpenAIChatAgent` has in flight at once by default. Four, because the servers it is meant for
#: gain from a few and lose nothing by them: llama.cpp's server opens 4 slots by default, vLLM and remote APIs
#: batch many more, and a server that answers one request at a time (``transformers serve``) keeps the other 3
#: waiting, a wait that counts against each request's deadline: with 4, a model that answers within a quarter of
#: the deadline never times out in the queue.
DEFAULT_CONCURRENCY = 4

DEFAULT_SYSTEM_PROMPT = (
    "You are an agent in a text game. Each message shows the current state and a numbered list of the "
    "actions you may take. Reply with the number of the action you choose and nothing else."
)


@runtime_checkable
class Agent(Protocol):
    """What the episode runner and the evaluation harness need from an agent.

    Attributes:
        name: The agent's spec or a short name, shown in results.
        batch_size: How many envs the agent is best given at once: ``1`` for agents that read the state of the
            env they act for (expert, classical baselines), a chat agent's ``concurrency`` (one request per env in
            flight at once), an LM agent's forward-pass batch.
    """

    name: str
    batch_size: int

    def reset(self, seed: int | None = None) -> None:
        """Start a new evaluation run; ``seed`` reseeds any randomness the agent has."""
        ...

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv) -> Decision:
        """One action per turn (``NO_ACTION`` where it names none); ``turns[i].index`` is its env in ``envs``."""
        ...


def env_at(envs: gym.vector.VectorEnv, index: int) -> gym.Env:
    """Sub-env ``index`` of a sync vector env, for agents that read the state of the env they act for.

    Raises:
        TypeError: ``envs`` is not a sync vector env (the sub-envs of an async one live in other processes).
    """
    if not isinstance(envs, gym.vector.SyncVectorEnv):
        raise TypeError(
            f"This agent reads the state of the env it acts for, which a {type(envs).__name__} does not expose; "
            "play it on a sync vector env (reflect_agent.episodes.make_envs(..., vectorization='sync'))."
        )
    return envs.envs[index]


def play(
    agent: Agent,
    envs: gym.vector.VectorEnv,
    seeds: Sequence[int],
    *,
    timings: dict[str, float] | None = None,
    on_episode: Any | None = None,
) -> list[Episode]:
    """Play ``agent`` for one episode per seed on ``envs``, the agent reset with the first seed.

    Args:
        agent: The agent; give it at most ``agent.batch_size`` envs (:func:`reflect_agent.episodes.make_envs`).
        envs: The vector env (sync for agents that read an env's state).
        seeds: One reset seed per episode.
        timings: Seconds the agent spent deciding (``agent_s``) and in the envs (``env_s``) are added here.
        on_episode: Called with each episode as it ends (for progress bars).

    Returns:
        The episodes, in the order of ``seeds``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("play needs at least one seed.")
    agent.reset(seed=seeds[0])
    timings = {} if timings is None else timings

    def act(turns: list[Turn]) -> Decision:
        start = time.perf_counter()
        decision = agent.decide(turns, envs)
        timings["agent_s"] = timings.get("agent_s", 0.0) + time.perf_counter() - start
        return decision

    env_id = envs.spec.id if envs.spec is not None else ""
    return play_episodes(envs, seeds, act, env_id=env_id, timings=timings, on_episode=on_episode)


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
        """The action for one observation and its ``info`` (the agent reads only the mask)."""
        return int(self._rng.choice(np.flatnonzero(info["action_mask"])))

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv | None = None) -> Decision:
        return Decision(actions=[self.act(turn.observation, turn.info) for turn in turns])


class ExpertAgent:
    """Takes the env's expert action (:func:`reflect_gym.core.expert_action`): the upper reference of every
    benchmark. It reads the state of the sub-env each turn is for, so it plays on a sync vector env."""

    batch_size = 1

    def __init__(self) -> None:
        self.name = "expert"

    def reset(self, seed: int | None = None) -> None:
        pass

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv) -> Decision:
        return Decision(actions=[expert_action(env_at(envs, turn.index)) for turn in turns])


class LMAgent:
    """A language-model policy, greedy by default, optionally given a reflector's analysis.

    It decides by :func:`reflect_agent.episodes.decide`, as RL rollouts and training-time evaluation do: the
    reflector (if any) analyses each state with its episode's previous action, and the policy scores every
    admissible action's label in one forward pass, its ``repeat_penalty`` counting the episode's past actions.
    From one :meth:`reset` to the next (:func:`play` resets it at its start) the policy runs once per distinct
    prompt, as in RL rollouts (:class:`reflect_agent.episodes.ScoredPrompts`): reset it after changing the
    policy's weights. :meth:`act` and a policy in training mode always run the policy.

    Args:
        policy: The policy.
        reflector: Optional frozen reflector.
        greedy: Take the most likely action instead of sampling.
        batch_size: Envs decided in one forward pass.
        name: Shown in results; defaults to ``"lm"``.
        reuse_prompts: Run the policy once per distinct prompt between resets (``False``: once per decision).
    """

    def __init__(
        self,
        policy: LMPolicy,
        reflector: Reflector | None = None,
        *,
        greedy: bool = True,
        batch_size: int = 8,
        name: str = "lm",
        reuse_prompts: bool = True,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.policy = policy
        self.reflector = reflector
        self.greedy = greedy
        self.batch_size = batch_size
        self.name = name
        self.reuse_prompts = reuse_prompts
        self.scored: ScoredPrompts | None = None  # the prompts scored since the last reset

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            torch.manual_seed(seed)
        self.scored = ScoredPrompts(self.policy) if self.reuse_prompts else None

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv | None = None) -> Decision:
        scored = self.scored if self.scored is not None and not self.policy.training else None
        return decide(self.policy, self.reflector, turns, greedy=self.greedy, scored=scored)

    def act(self, obs: str, info: dict[str, Any]) -> int:
        """The action for one observation outside a vector env: ``info`` as an env gives it, plus the episode's
        ``previous_action`` and ``taken`` (the texts of its actions so far) when known."""
        turn = Turn(0, obs, info, info.get("previous_action"), list(info.get("taken", [])), seed=0, step=0)
        return decide(self.policy, self.reflector, [turn], greedy=self.greedy).actions[0]


class OpenAIChatAgent:
    """Asks an OpenAI-compatible chat-completions endpoint for each action.

    Each decision is one stateless request per turn: the system prompt, then the observation (state and numbered
    actions). The reply is read with :func:`reflect_gym.wrappers.parse_action` (``reply=True``: a thinking block
    dropped, line by line, ``"2. move east"``); a reply that names no admissible action gives ``NO_ACTION``, which
    the env steps as an invalid action.

    The agent plays ``concurrency`` envs at once (its ``batch_size``) and sends their turns' requests together, at
    most ``concurrency`` in flight, through one :class:`~reflect_agent.openai_api.OpenAIClient` (on the threads of a
    :class:`~reflect_agent.openai_api.RequestPool`): each request keeps its retries, deadline, size limit
    and ``Retry-After``, and the replies are matched to their turns by position, never by the order they arrive
    in. Requests are stateless and every episode has its own env and seed, so at temperature 0 on a
    deterministic server a run plays the same episodes at any concurrency. A request that fails for good fails
    the decision (:class:`~reflect_agent.openai_api.OpenAIChatError`) once the requests in flight have ended.

    Args:
        base_url: The API root, such as ``http://localhost:8000/v1``; defaults to ``$OPENAI_BASE_URL``.
        model: Model name sent to the server; defaults to ``$OPENAI_MODEL``.
        api_key: Sent as a bearer token; defaults to ``$OPENAI_API_KEY``; local servers need none.
        timeout: Seconds a request may take in all (see :class:`~reflect_agent.openai_api.OpenAIClient`).
        retries: Further attempts after a failed request.
        backoff: Seconds before the first retry; doubled for each later one.
        temperature: Sampling temperature sent to the server (0: greedy).
        max_tokens: Reply length limit sent to the server.
        system_prompt: The system message.
        max_response_bytes: The largest answer accepted.
        concurrency: Requests in flight at once, and envs played at once (see :data:`DEFAULT_CONCURRENCY` for
            why 4).

    Raises:
        ValueError: As :class:`~reflect_agent.openai_api.OpenAIClient`, or ``concurrency`` below 1.
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
        temperature: float = 0.0,
        max_tokens: int = 16,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        self.requests = RequestPool(concurrency, name="openai-agent")
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
        self.concurrency = concurrency
        #: Envs to play at once: one request each in flight.
        self.batch_size = concurrency
        #: The reply to the last turn of the last decision, for inspecting what the model said.
        self.last_reply: str | None = None

    def reset(self, seed: int | None = None) -> None:
        pass

    def complete(self, prompt: str) -> str:
        """The model's reply to ``prompt`` (one user message after the system prompt).

        Raises:
            OpenAIChatError: As :meth:`~reflect_agent.openai_api.OpenAIClient.chat`.
        """
        messages = [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": prompt}]
        return self.client.chat(messages, temperature=self.temperature, max_tokens=self.max_tokens)

    def decide(self, turns: Sequence[Turn], envs: gym.vector.VectorEnv | None = None) -> Decision:
        """One request per turn, ``concurrency`` at once; the replies are kept in the decision, in turn order.

        Raises:
            OpenAIChatError: A request failed for good (see :meth:`complete`).
        """
        replies = self.requests.map(self.complete, [turn.observation for turn in turns])
        if replies:
            self.last_reply = replies[-1]
        actions = [parse_action(reply, turn.actions, reply=True) for reply, turn in zip(replies, turns, strict=True)]
        return Decision(actions=actions, replies=replies)


def make_agent(spec: str, **options: Any) -> Agent:
    """Build an agent from a spec string.

    Specs:
        * ``"random"``: :class:`RandomAgent` (option ``seed``).
        * ``"expert"``: :class:`ExpertAgent`.
        * ``"lm:MODEL"`` / ``"lm:MODEL+reflect"``: :class:`LMAgent` on a base model spec of
          :func:`reflect_agent.models.load_model` (``smollm2``, ``tiny``, ...) or a checkpoint folder saved
          by ``LMPolicy.save``; ``+reflect`` adds a reflector on the same, frozen, base model.
          Options: ``greedy``, ``batch_size``, ``device``, ``autocast`` (bf16 forward passes; ``None`` keeps a
          checkpoint's setting, off for a base model), ``decider`` (``"labels"`` or ``"scoring"``, see
          :class:`reflect_agent.policy.PolicyConfig`; ``None`` keeps a checkpoint's, labels for a base model),
          ``repeat_penalty`` (``PolicyConfig.repeat_penalty``; ``None`` keeps a checkpoint's, 0 for a base model)
          and ``max_new_tokens`` (the reflection's token limit, 100 by default as in the paper).
        * ``"openai"`` / ``"openai:MODEL"``: :class:`OpenAIChatAgent`; options are its
          arguments.

    The classical baselines (``"sb3:ppo"``, ``"sb3:dqn"``, ``"tabular:qlearning"``) are trained for an env by
    :func:`reflect_agent.baselines.make_baseline_agent`.

    Raises:
        ValueError: If the spec is unknown.
    """
    kind, _, argument = spec.partition(":")
    if spec == "random":
        return RandomAgent(**options)
    if spec == "expert":
        return ExpertAgent(**options)
    if kind == "lm" and argument:
        return _make_lm_agent(spec, argument, **options)
    if kind == "openai":
        return OpenAIChatAgent(model=argument or options.pop("model", None), **options)
    if kind in ("sb3", "tabular"):
        raise ValueError(
            f"Agent spec {spec!r}: classical baselines are trained for an env by "
            "reflect_agent.baselines.make_baseline_agent (reflect-rl evaluate --agent sb3:ppo tabular:qlearning)."
        )
    raise ValueError(
        f"Unknown agent spec {spec!r}; use 'random', 'expert', 'lm:MODEL', 'lm:MODEL+reflect', 'lm:CHECKPOINT_DIR', "
        "'openai:MODEL', 'sb3:ALGO' or 'tabular:qlearning'."
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
