"""Episodes: the one episode runner and the one decision step of an LM policy.

Every loop over episodes in the project goes through :func:`play_episodes`: RL rollouts
(:func:`reflect_agent.rollout.collect_rollout`), evaluation during training
(:func:`reflect_agent.evaluation.evaluate`), the benchmark harness, and data collection with an agent. It
plays any number of seeded episodes on a Gymnasium vector env, keeping every env busy: when an episode ends,
its env starts the next seed. At every step the envs still playing form one batch of :class:`Turn`\\ s, and a
*decide* function maps that batch to one action per turn (:data:`reflect_gym.wrappers.NO_ACTION` when an agent
names none: the env steps an invalid action). The runner alone keeps each episode's history (the previous
action, which the reflector reads, and the actions taken, which the policy's repeat penalty counts) and
records each episode as an :class:`Episode`.

The decision step of an LM agent is :func:`decide`: the frozen reflector (if any) writes an analysis of each
state with its last action (:func:`reflect_agent.prompts.reflector_state`), the policy encodes state,
actions, analysis and the episode's past actions, and one forward pass gives action, log-probability and
value.

Vector envs keep Gymnasium's default ``NEXT_STEP`` autoreset: the step that ends an episode returns that
episode's own last observation and info (its ``success``, and the observation to bootstrap from on
truncation). An env with no seed left to play is still stepped with the others, its results ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.policy import LMPolicy
from reflect_agent.prompts import reflector_state
from reflect_agent.reflector import Reflector
from reflect_agent.tensors import PolicyBatch, choose_actions
from reflect_gym.vector import BoundedClose
from reflect_gym.wrappers import NoActionAsInvalid


@dataclass
class Episode:
    """One episode, step by step, as the agent saw it.

    Attributes:
        states: The state text at each step (``info["state"]``).
        actions: The admissible action strings at each step (``info["actions"]``).
        reflections: The reflection shown to the policy at each step (``None`` without a reflector).
        chosen: The index taken at each step (``NO_ACTION``, -1, where the agent named none).
        rewards: The reward of each step.
        terminated: Whether the last step ended in a terminal state (``False``: truncated).
        success: Whether the episode reached its goal.
        env_id: The env it was played in.
        seed: The reset seed of the episode (``None`` when unknown).
        invalid_steps: Steps the env counted as invalid actions.
        final_state: After a truncation, the state the episode was cut in (to bootstrap its value from).
        final_actions: After a truncation, that state's admissible actions.
        replies: The raw reply an agent wrote at each step (chat agents; ``None`` for others), for traces. Empty
            when the episode was not recorded by :func:`play_episodes` (as ``invalid``).
        invalid: Whether the env counted each step as an invalid action.
    """

    states: list[str]
    actions: list[list[str]]
    reflections: list[str | None]
    chosen: list[int]
    rewards: list[float]
    terminated: bool
    success: bool
    env_id: str = ""
    seed: int | None = None
    invalid_steps: int = 0
    final_state: str | None = None
    final_actions: list[str] | None = None
    replies: list[str | None] = field(default_factory=list)
    invalid: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        lengths = {len(self.states), len(self.actions), len(self.reflections), len(self.chosen), len(self.rewards)}
        if len(lengths) != 1:
            raise ValueError(
                f"An Episode needs the same number of states, actions, reflections, chosen and rewards; "
                f"got {len(self.states)}, {len(self.actions)}, {len(self.reflections)}, {len(self.chosen)}, "
                f"{len(self.rewards)}."
            )
        for name in ("replies", "invalid"):
            if len(getattr(self, name)) not in (0, len(self.states)):
                raise ValueError(
                    f"An Episode's {name} hold one entry per step or none; got {len(getattr(self, name))} for "
                    f"{len(self.states)} steps."
                )

    def __len__(self) -> int:
        return len(self.states)

    @property
    def total_reward(self) -> float:
        """The episode's return (undiscounted)."""
        return float(sum(self.rewards))

    def taken(self, step: int | None = None) -> list[str]:
        """The admissible action strings taken before ``step`` (``None``: all of them), in order."""
        return [acts[i] for acts, i in zip(self.actions[:step], self.chosen[:step], strict=True) if 0 <= i < len(acts)]

    def last_action(self) -> str | None:
        """The text of the last action taken, ``None`` before the first step or after an invalid one."""
        if not self.chosen or not 0 <= self.chosen[-1] < len(self.actions[-1]):
            return None
        return self.actions[-1][self.chosen[-1]]


@dataclass
class Turn:
    """One env's side of a decision: what an agent sees before it acts.

    Attributes:
        index: The env's index in the vector env.
        observation: The env's observation (the whole prompt).
        info: The env's ``info`` (``state``, ``actions``, ``action_mask``, ...).
        previous_action: The text of the action taken at the previous step of the episode (``None`` at the first
            step or after an invalid one); the reflector reads it.
        taken: The texts of the episode's actions so far; the policy's repeat penalty counts them.
        seed: The episode's reset seed.
        step: The step index within the episode.
    """

    index: int
    observation: str
    info: dict[str, Any]
    previous_action: str | None
    taken: list[str]
    seed: int
    step: int

    @property
    def state(self) -> str:
        """``info["state"]``: the observation without the action list."""
        return str(self.info["state"])

    @property
    def actions(self) -> list[str]:
        """``info["actions"]``: the admissible action strings."""
        return list(self.info["actions"])

    def agent_info(self) -> dict[str, Any]:
        """The env's info plus ``previous_action`` and ``taken``: what an agent's ``act(obs, info)`` reads."""
        return {**self.info, "previous_action": self.previous_action, "taken": list(self.taken)}


@dataclass
class Decision:
    """What an agent chose for a batch of turns, and what it wrote on the way.

    Attributes:
        actions: One action index per turn (``NO_ACTION`` where it named none).
        reflections: The reflector's analysis per turn (``None``: no reflector).
        replies: The raw text an agent replied per turn (chat agents), for traces.
    """

    actions: list[int]
    reflections: list[str | None] | None = None
    replies: list[str] | None = None


@dataclass
class PolicyDecision(Decision):
    """An LM policy's :class:`Decision`, with what RL needs of it.

    Attributes:
        batch: The encoded prompts, one row per turn.
        logprobs: ``(B,)`` log-probability of each action under the policy that acted.
        values: ``(B,)`` value estimate of each state.
    """

    batch: PolicyBatch | None = None
    logprobs: torch.Tensor | None = None
    values: torch.Tensor | None = None


#: Maps the turns of the envs still playing to one :class:`Decision`.
DecideFunction = Callable[[list[Turn]], Decision]


def reflect(reflector: Reflector | None, turns: Sequence[Turn]) -> list[str | None] | None:
    """The frozen reflector's analysis of each turn's state and last action, ``None`` without a reflector."""
    if reflector is None:
        return None
    seen = [reflector_state(t.state, t.previous_action) for t in turns]
    return list(reflector.reflect(seen, [t.actions for t in turns]))


class ScoredPrompts:
    """The policy's forward pass per distinct prompt, for the decisions of one policy (one rollout, one evaluation):
    a prompt met again is not run again.

    A group's episodes pass through the same states, and an episode that is stuck meets its own state again; with
    the same reflection (a frozen reflector's analysis of the same state and last action) the policy's prompt is the
    same token for token, and so are its untempered scores, its value and its frozen blocks' hidden states. Each
    decision still applies its own episode's repeat penalty and draws its own action. The entries hold only for the
    weights that computed them: make a new one whenever the policy changes.

    Args:
        policy: The policy, in eval mode (dropout would make a pass differ from the one it stands for).
        keep_frozen: Keep each prompt's frozen blocks' hidden states (:meth:`LMPolicy.keeping_frozen_states`).

    Attributes:
        entries: Per row key (:meth:`PolicyBatch.row_keys`): the scores ``(A,)``, the value ``()`` and, with
            ``keep_frozen``, the row as a one-row batch holding its frozen blocks' hidden states (else ``None``).
        reused: Decisions answered from an earlier decision's entry (the same prompt, earlier or in the same batch).
        scored: Decisions whose prompt went through the policy.
    """

    def __init__(self, policy: LMPolicy, *, keep_frozen: bool = False) -> None:
        self.policy, self.keep_frozen = policy, keep_frozen
        self.entries: dict[tuple, tuple[torch.Tensor, torch.Tensor, PolicyBatch | None]] = {}
        self.reused = 0
        self.scored = 0

    def score(self, batch: PolicyBatch) -> tuple[PolicyBatch, torch.Tensor, torch.Tensor]:
        """``(batch, log-probabilities (B, A), values (B,))`` of a batch encoded by the policy (no gradients), running
        the policy on the prompts it has not scored yet; the batch holds its frozen blocks' hidden states with
        ``keep_frozen``, as :meth:`LMPolicy.keeping_frozen_states` keeps them.

        Raises:
            RuntimeError: The policy is in training mode.
        """
        policy, keep_frozen = self.policy, self.keep_frozen
        if policy.training:
            raise RuntimeError(
                "ScoredPrompts reuses forward passes, which dropout would make differ: call policy.eval()."
            )
        keys = batch.row_keys()
        new: dict[tuple, int] = {}  # the first row of each prompt not scored yet
        for row, key in enumerate(keys):
            if key not in self.entries:
                new.setdefault(key, row)
        if new:
            part = batch[list(new.values())]
            with (
                torch.no_grad(),
                policy.keeping_frozen_states(part) if keep_frozen else contextlib.nullcontext([]) as kept,
            ):
                scores, values = policy.scores_and_values(part)  # (N, A'), (N,)
            part = kept[0] if kept else part
            for index, key in enumerate(new):
                self.entries[key] = (scores[index, : len(key[1])], values[index], part[index] if kept else None)
        self.scored += len(new)
        self.reused += len(keys) - len(new)
        entries = [self.entries[key] for key in keys]
        scores = torch.zeros(batch.action_mask.shape, dtype=entries[0][0].dtype, device=entries[0][0].device)
        for row, (row_scores, _, _) in enumerate(entries):
            scores[row, : len(row_scores)] = row_scores
        values = torch.stack([value for _, value, _ in entries])  # (B,)
        logprobs = policy.logprobs(scores, batch)  # (B, A)
        if entries[0][2] is not None:  # kept states (keep_frozen, and frozen blocks); each row its own repeat counts
            batch = PolicyBatch.cat(
                [
                    dataclasses.replace(kept_row, repeats=batch[row].repeats)
                    for row, (_, _, kept_row) in enumerate(entries)
                ]
            )
        return batch, logprobs, values


def decide(
    policy: LMPolicy,
    reflector: Reflector | None,
    turns: Sequence[Turn],
    *,
    greedy: bool = False,
    timings: dict[str, float] | None = None,
    keep_frozen: bool = False,
    scored: ScoredPrompts | None = None,
) -> PolicyDecision:
    """The decision step of an LM agent: reflect, encode, one forward pass, choose (no gradients).

    Args:
        policy: Chooses the actions.
        reflector: Writes an analysis per turn (``None``: no reflection).
        turns: The envs' turns, decided as one batch.
        greedy: Take the policy's most likely action instead of sampling.
        timings: Seconds spent reflecting (``reflect_s``) and in the policy (``policy_s``) are added here.
        keep_frozen: Keep the hidden states of the policy's frozen leading blocks in the decision's batch
            (:meth:`LMPolicy.keeping_frozen_states`), for an update that runs only the blocks after them.
        scored: The prompts this policy has scored already (:class:`ScoredPrompts`, made for ``policy`` and
            ``keep_frozen``); the forward pass runs only on the others. ``None``: every turn's prompt goes through the
            policy.
    """
    if scored is not None and (scored.policy is not policy or scored.keep_frozen != keep_frozen):
        raise ValueError(
            "decide got a ScoredPrompts made for another policy or keep_frozen setting; make one per policy."
        )
    start = time.perf_counter()
    reflections = reflect(reflector, turns)
    reflected = time.perf_counter()
    batch = policy.encode([t.state for t in turns], [t.actions for t in turns], reflections, [t.taken for t in turns])
    if scored is None:
        with (
            torch.no_grad(),
            policy.keeping_frozen_states(batch) if keep_frozen else contextlib.nullcontext([]) as kept,
        ):
            action, logprob, _, value = policy.get_action_and_value(batch, greedy=greedy)
        batch = kept[0] if kept else batch
    else:
        batch, logprobs, value = scored.score(batch)
        action, logprob, _ = choose_actions(logprobs, batch.action_mask.to(logprobs.device), None, greedy=greedy)
    action, logprob, value = action.cpu(), logprob.float().cpu(), value.float().cpu()
    if timings is not None:
        timings["reflect_s"] = timings.get("reflect_s", 0.0) + reflected - start
        timings["policy_s"] = timings.get("policy_s", 0.0) + time.perf_counter() - reflected
    return PolicyDecision(actions=action.tolist(), reflections=reflections, batch=batch, logprobs=logprob, values=value)


def make_envs(
    env_id: str, num_envs: int, *, vectorization: str = "sync", env_kwargs: dict[str, Any] | None = None
) -> gym.vector.VectorEnv:
    """``gym.make_vec`` of a registered id (``"sync"`` or ``"async"``), default autoreset, ``NO_ACTION`` allowed.

    An async vector env comes wrapped in :class:`reflect_gym.vector.BoundedClose`: its ``close()`` returns
    and reaps the workers even when one died during a step (Gymnasium's own would wait forever).

    Raises:
        ValueError: ``num_envs`` is below 1.
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}.")
    envs = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode=vectorization,
        wrappers=[NoActionAsInvalid],
        **(env_kwargs or {}),
    )
    return BoundedClose(envs) if isinstance(envs, gym.vector.AsyncVectorEnv) else envs


def _env_info(infos: dict[str, Any], index: int) -> dict[str, Any]:
    """Env ``index``'s own info out of a vector env's batched ``infos`` (nested dicts are batched key by key)."""
    return {
        key: _env_info(value, index) if isinstance(value, dict) else value[index]
        for key, value in infos.items()
        if not key.startswith("_") and (f"_{key}" not in infos or infos[f"_{key}"][index])
    }


@dataclass
class _Running:
    """An episode under way in one env."""

    episode: Episode
    observation: str
    info: dict[str, Any]
    previous_action: str | None = None
    taken: list[str] = field(default_factory=list)


def play_episodes(
    envs: gym.vector.VectorEnv,
    seeds: Sequence[int],
    decide: DecideFunction,
    *,
    env_id: str = "",
    max_steps: int = 10_000,
    timings: dict[str, float] | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Play one episode per seed on ``envs``, every env busy until the seeds run out; see the module docstring.

    Args:
        envs: A vector env of ReflectRL envs (default ``NEXT_STEP`` autoreset; built by :func:`make_envs` when
            ``decide`` may return ``NO_ACTION``).
        seeds: One reset seed per episode, played in this order on the first free env.
        decide: Chooses the actions of the turns of the envs still playing (in env order).
        env_id: Recorded in the episodes.
        max_steps: Safety bound on an episode's length (the envs own truncation).
        timings: Seconds spent in the envs (``env_s``) are added here.
        on_episode: Called with each episode as it ends (for progress bars).

    Returns:
        The episodes, in the order of ``seeds``.

    Raises:
        ValueError: No seeds, or a decision with the wrong number of actions.
        RuntimeError: An episode ran past ``max_steps``.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("play_episodes needs at least one seed.")
    count = envs.num_envs
    env_seconds = 0.0
    # Envs without a seed of their own replay the first one; their results are ignored.
    first = seeds[:count] + [seeds[0]] * max(0, count - len(seeds))
    start = time.perf_counter()
    observations, infos = envs.reset(seed=first)
    env_seconds += time.perf_counter() - start

    episodes: list[Episode | None] = [None] * len(seeds)
    running: list[_Running | None] = [None] * count
    started = 0

    def begin(index: int, observation: str, info: dict[str, Any]) -> None:
        nonlocal started
        episode = Episode([], [], [], [], [], terminated=False, success=False, env_id=env_id, seed=seeds[started])
        episodes[started] = episode
        running[index] = _Running(episode, observation, info)
        started += 1

    for index in range(min(count, len(seeds))):
        begin(index, str(observations[index]), _env_info(infos, index))

    while any(r is not None for r in running):
        playing = [i for i, r in enumerate(running) if r is not None]
        turns = [
            Turn(i, r.observation, r.info, r.previous_action, list(r.taken), r.episode.seed, len(r.episode))
            for i in playing
            if (r := running[i]) is not None
        ]
        decision = decide(turns)
        if len(decision.actions) != len(turns):
            raise ValueError(f"decide returned {len(decision.actions)} actions for {len(turns)} turns.")
        chosen = np.zeros(count, dtype=np.int64)
        chosen[playing] = decision.actions
        start = time.perf_counter()
        observations, rewards, terminated, truncated, infos = envs.step(chosen)
        env_seconds += time.perf_counter() - start

        restart: list[int] = []
        for j, (i, turn) in enumerate(zip(playing, turns, strict=True)):
            run = running[i]
            episode, action = run.episode, int(decision.actions[j])
            info = _env_info(infos, i)
            episode.states.append(turn.state)
            episode.actions.append(turn.actions)
            episode.reflections.append(decision.reflections[j] if decision.reflections is not None else None)
            episode.chosen.append(action)
            episode.rewards.append(float(rewards[i]))
            episode.replies.append(decision.replies[j] if decision.replies is not None else None)
            episode.invalid.append(bool(info.get("invalid_action", False)))
            episode.invalid_steps += episode.invalid[-1]
            episode.success = episode.success or bool(info.get("success", False))
            run.previous_action = episode.last_action()
            if run.previous_action is not None:
                run.taken.append(run.previous_action)
            run.observation, run.info = str(observations[i]), info
            if terminated[i] or truncated[i]:
                episode.terminated = bool(terminated[i])
                if not terminated[i]:
                    episode.final_state, episode.final_actions = str(info["state"]), list(info["actions"])
                running[i] = None
                if on_episode is not None:
                    on_episode(episode)
                if started + len(restart) < len(seeds):
                    restart.append(i)
            elif len(episode) >= max_steps:
                raise RuntimeError(
                    f"Episodes of {env_id or 'the env'} ran past max_steps={max_steps}; does the env truncate?"
                )
        if restart:
            mask = np.zeros(count, dtype=bool)
            mask[restart] = True
            restart_seeds = dict(zip(restart, seeds[started : started + len(restart)], strict=True))
            start = time.perf_counter()
            observations, infos = envs.reset(
                seed=[restart_seeds.get(i) for i in range(count)], options={"reset_mask": mask}
            )
            env_seconds += time.perf_counter() - start
            for i in restart:
                begin(i, str(observations[i]), _env_info(infos, i))

    if timings is not None:
        timings["env_s"] = timings.get("env_s", 0.0) + env_seconds
    return [e for e in episodes if e is not None]
