"""Collecting warm-up records: the expert's episodes with wrong steps and recoveries, and the states an
agent visits labelled by the expert (DAgger)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.warmup.lookahead import Lookahead, look_ahead
from reflect_agent.warmup.records import StepRecord
from reflect_agent.warmup.reflections import ReflectionContext, ReflectionWriter
from reflect_agent.warmup.templates import TemplateWriter
from reflect_gym.core import expert_action, state_facts


def expert_records(
    env_id: str,
    seeds: Iterable[int],
    *,
    perturb_prob: float = 0.25,
    env_kwargs: dict[str, Any] | None = None,
    writer: ReflectionWriter | None = None,
    rng_seed: int = 0,
    look_ahead: bool = True,
) -> list[StepRecord]:
    """Play the expert on each seed, with wrong steps and recoveries, and record every state.

    Args:
        env_id: A registered env id.
        seeds: Reset seeds, one episode each.
        perturb_prob: Chance per step of taking a wrong (non-expert, not episode-ending) action first.
        env_kwargs: Extra ``gym.make`` arguments (recorded in each record).
        writer: Writes the reflections (default :class:`reflect_agent.warmup.TemplateWriter`).
        rng_seed: Seeds the choice of wrong steps and of template wordings.
        look_ahead: Replay each state on a spare env to learn what every action does (see
            :func:`reflect_agent.warmup.look_ahead`); without it wrong steps are drawn among all
            non-expert actions.

    Returns:
        The records, episode by episode.
    """
    return _records(env_id, seeds, env_kwargs, writer, rng_seed, look_ahead, agent=None, mix_prob=perturb_prob)


def policy_records(
    env_id: str,
    seeds: Iterable[int],
    agent: Any,
    *,
    expert_prob: float = 0.5,
    env_kwargs: dict[str, Any] | None = None,
    writer: ReflectionWriter | None = None,
    rng_seed: int = 0,
    look_ahead: bool = True,
) -> list[StepRecord]:
    """The states an agent visits, each labelled with the expert's action: DAgger's data (Ross et al., 2011).

    Expert data shows few of the states a trained policy gets itself into, such as a wrong folder it
    entered with confidence, or the root again after leaving one. Here the agent plays each seed, and at
    every step the expert's action is taken instead with probability ``expert_prob`` (DAgger's beta),
    so that the states after a recovery are visited too. Every visited state is recorded with the
    expert's action as its label; a state reached by a non-expert action is a ``"recovery"`` record.
    The agent's ``info`` also holds ``previous_action`` and ``taken`` (the texts of the episode's actions
    so far, whoever chose them), as the evaluation harness shows them.

    Args:
        env_id: A registered env id.
        seeds: Reset seeds, one episode each.
        agent: Any agent with ``reset(seed)`` and ``act(obs, info) -> int``, built for ``env_id`` (e.g.
            :class:`reflect_agent.agents.LMAgent`).
        expert_prob: Chance per step of taking the expert's action instead of the agent's.
        env_kwargs: Extra ``gym.make`` arguments (recorded in each record).
        writer: Writes the reflections (default :class:`reflect_agent.warmup.TemplateWriter`).
        rng_seed: Seeds the choice between expert and agent, and template wordings.
        look_ahead: As in :func:`expert_records`.

    Returns:
        The records, episode by episode.
    """
    return _records(env_id, seeds, env_kwargs, writer, rng_seed, look_ahead, agent=agent, mix_prob=expert_prob)


def _records(
    env_id: str,
    seeds: Iterable[int],
    env_kwargs: dict[str, Any] | None,
    writer: ReflectionWriter | None,
    rng_seed: int,
    look_ahead: bool,
    *,
    agent: Any | None,
    mix_prob: float,
) -> list[StepRecord]:
    if not 0.0 <= mix_prob <= 1.0:
        name = "perturb_prob" if agent is None else "expert_prob"
        raise ValueError(f"{name} must lie in [0, 1], got {mix_prob}.")
    env_kwargs = dict(env_kwargs or {})
    writer = writer or TemplateWriter()
    rng = np.random.default_rng(rng_seed)
    env = gym.make(env_id, **env_kwargs)
    spare = gym.make(env_id, **env_kwargs) if look_ahead else None
    records: list[StepRecord] = []
    try:
        for seed in seeds:
            records.extend(
                _episode_records(env, spare, env_id, int(seed), env_kwargs, writer, rng, agent=agent, mix_prob=mix_prob)
            )
    finally:
        env.close()
        if spare is not None:
            spare.close()
    return records


def _episode_records(
    env: gym.Env,
    spare: gym.Env | None,
    env_id: str,
    seed: int,
    env_kwargs: dict[str, Any],
    writer: ReflectionWriter,
    rng: np.random.Generator,
    *,
    agent: Any | None,
    mix_prob: float,
) -> list[StepRecord]:
    """One episode's records. Without ``agent`` the expert plays and takes a wrong step with probability
    ``mix_prob``; with one the agent plays and the expert takes over a step with probability ``mix_prob``."""
    obs, info = env.reset(seed=seed)
    if agent is not None:
        agent.reset(seed)
    records = []
    previous_action: str | None = None
    previous_wrong = False
    previous_steps: int | None = None
    taken: list[int] = []
    past: list[str] = []  # the texts of the actions taken, for the agent's info
    for step in range(10_000):
        expert = expert_action(env)
        lookahead = None if spare is None else look_ahead(spare, seed, taken, info["state"])
        context = ReflectionContext(
            env_id,
            info["state"],
            list(info["actions"]),
            expert,
            lookahead,
            previous_action,
            previous_wrong,
            previous_steps,
            state_facts(env),
        )
        records.append(
            StepRecord(
                env_id=env_id,
                seed=seed,
                step=step,
                kind="recovery" if previous_wrong else "expert",
                state=info["state"],
                actions=list(info["actions"]),
                expert_action=expert,
                reflection=writer.write(context, rng),
                previous_action=previous_action,
                template_version=writer.version,
                env_kwargs=env_kwargs,
            )
        )
        action = expert
        if agent is not None:
            if rng.random() >= mix_prob:
                seen = {**info, "previous_action": previous_action, "taken": list(past)}
                action = int(agent.act(obs, seen))
                if not 0 <= action < len(info["actions"]):
                    raise ValueError(
                        f"agent {getattr(agent, 'name', agent)!r} chose no admissible action ({action}) on seed "
                        f"{seed}, step {step}; policy_records needs an agent that always picks one of "
                        f'info["actions"].'
                    )
        else:
            wrong = _wrong_actions(expert, lookahead, len(info["actions"]))
            if wrong and rng.random() < mix_prob:
                action = int(rng.choice(wrong))
        previous_wrong = action != expert
        previous_steps = lookahead.expert_steps if previous_wrong and lookahead is not None else None
        previous_action = info["actions"][action]
        obs, _, terminated, truncated, info = env.step(action)
        taken.append(action)
        past.append(previous_action)
        if terminated or truncated:
            break
    return records


def _wrong_actions(expert: int, lookahead: Lookahead | None, count: int) -> list[int]:
    """Actions that keep the episode going but lengthen the way to the goal (without look-ahead: any
    action but the expert's)."""
    if lookahead is None:
        return [i for i in range(count) if i != expert]
    best = None if lookahead.expert_steps is None else lookahead.expert_steps - 1
    return [
        i
        for i, o in enumerate(lookahead.outcomes)
        if i != expert
        and not (o.terminated or o.truncated)
        and (best is None or o.steps_after is None or o.steps_after > best)
    ]
