"""Collecting warm-up records: the expert's episodes with wrong steps and recoveries, and the states an
agent visits labelled by the expert (DAgger)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_agent.episodes import Decision, Turn, make_envs, play_episodes
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
        agent: Any agent with ``reset(seed)`` and ``decide(turns, envs) -> Decision`` that always names an
            admissible action (e.g. :class:`reflect_agent.agents.LMAgent`); it is reset with each episode's seed.
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
    # One sync env: the generator's draws then follow the episodes in order, and the recorder reads the env's
    # expert and facts directly.
    envs = make_envs(env_id, 1, env_kwargs=env_kwargs)
    spare = gym.make(env_id, **env_kwargs) if look_ahead else None
    recorder = _Recorder(env_id, env_kwargs, envs, spare, writer or TemplateWriter(), rng_seed, agent, mix_prob)
    try:
        play_episodes(envs, list(seeds), recorder, env_id=env_id)
    finally:
        envs.close()
        if spare is not None:
            spare.close()
    return recorder.records


@dataclass
class _Recorder:
    """Records each state an episode passes and chooses its action. Without ``agent`` the expert plays and takes a
    wrong step with probability ``mix_prob``; with one the agent plays and the expert takes over a step with
    probability ``mix_prob``."""

    env_id: str
    env_kwargs: dict[str, Any]
    envs: gym.vector.SyncVectorEnv
    spare: gym.Env | None
    writer: ReflectionWriter
    rng_seed: int
    agent: Any | None
    mix_prob: float
    records: list[StepRecord] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)  # the episode's action indices so far, to replay it
    previous_wrong: bool = False
    previous_steps: int | None = None

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.rng_seed)

    def __call__(self, turns: list[Turn]) -> Decision:
        (turn,) = turns
        env = self.envs.envs[0]
        if turn.step == 0:
            self.taken, self.previous_wrong, self.previous_steps = [], False, None
            if self.agent is not None:
                self.agent.reset(turn.seed)
        expert = expert_action(env)
        lookahead = None if self.spare is None else look_ahead(self.spare, turn.seed, self.taken, turn.state)
        context = ReflectionContext(
            self.env_id,
            turn.state,
            turn.actions,
            expert,
            lookahead,
            turn.previous_action,
            self.previous_wrong,
            self.previous_steps,
            state_facts(env),
        )
        self.records.append(
            StepRecord(
                env_id=self.env_id,
                seed=turn.seed,
                step=turn.step,
                kind="recovery" if self.previous_wrong else "expert",
                state=turn.state,
                actions=turn.actions,
                expert_action=expert,
                reflection=self.writer.write(context, self.rng),
                previous_action=turn.previous_action,
                template_version=self.writer.version,
                env_kwargs=self.env_kwargs,
            )
        )
        action = expert
        if self.agent is not None:
            if self.rng.random() >= self.mix_prob:
                action = int(self.agent.decide([turn], self.envs).actions[0])
                if not 0 <= action < len(turn.actions):
                    raise ValueError(
                        f"agent {getattr(self.agent, 'name', self.agent)!r} chose no admissible action ({action}) on "
                        f"seed {turn.seed}, step {turn.step}; policy_records needs an agent that always picks one of "
                        'info["actions"].'
                    )
        else:
            wrong = _wrong_actions(expert, lookahead, len(turn.actions))
            if wrong and self.rng.random() < self.mix_prob:
                action = int(self.rng.choice(wrong))
        self.previous_wrong = action != expert
        self.previous_steps = lookahead.expert_steps if self.previous_wrong and lookahead is not None else None
        self.taken.append(action)
        return Decision([action])


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
