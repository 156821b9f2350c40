"""DangerousTaxi's reflection templates: where the taxi, the passenger and the destination are, and
which way the expert drives, written from the env's state facts (``DangerousTaxiEnv.state_facts``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reflect_agent.warmup.reflections import (
    ReflectionContext,
    action_names,
    check_reflection,
    choose,
    danger_sentence,
    number_word,
)

_DIRECTIONS = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}
_FACTS = ("taxi", "passenger_aboard", "passenger_depot", "passenger", "destination_depot", "destination")


@dataclass(frozen=True)
class TaxiFacts:
    """The places of one DangerousTaxi state, cells as ``(row, column)``.

    Attributes:
        taxi: The taxi's cell.
        passenger_aboard: Whether the passenger is in the taxi.
        passenger_depot: The depot where the passenger waits (``""`` while aboard).
        passenger: The passenger's cell (the taxi's while aboard).
        destination_depot: The destination depot's name.
        destination: The destination's cell.
    """

    taxi: tuple[int, int]
    passenger_aboard: bool
    passenger_depot: str
    passenger: tuple[int, int]
    destination_depot: str
    destination: tuple[int, int]

    @classmethod
    def from_facts(cls, facts: Mapping[str, Any], env_id: str = "the env") -> TaxiFacts:
        """Read ``DangerousTaxiEnv.state_facts()``.

        Raises:
            ValueError: A fact is missing.
        """
        missing = [key for key in _FACTS if key not in facts]
        if missing:
            raise ValueError(
                f"The DangerousTaxi templates need the state facts {missing}, which {env_id} did not give "
                f"(it gave {sorted(facts)}); fill ReflectionContext.facts with reflect_gym.core.state_facts(env)."
            )
        taxi = (int(facts["taxi"][0]), int(facts["taxi"][1]))
        aboard = bool(facts["passenger_aboard"])
        return cls(
            taxi=taxi,
            passenger_aboard=aboard,
            passenger_depot="" if aboard else str(facts["passenger_depot"]),
            passenger=taxi if aboard else (int(facts["passenger"][0]), int(facts["passenger"][1])),
            destination_depot=str(facts["destination_depot"]),
            destination=(int(facts["destination"][0]), int(facts["destination"][1])),
        )

    @property
    def target(self) -> tuple[int, int]:
        """Where the taxi drives next: the destination with the passenger aboard, the passenger before."""
        return self.destination if self.passenger_aboard else self.passenger

    @property
    def target_name(self) -> str:
        """The target in words."""
        if self.passenger_aboard:
            return f"the {self.destination_depot} depot"
        return f"the passenger at the {self.passenger_depot} depot"


def offset_words(source: tuple[int, int], target: tuple[int, int]) -> str:
    """Where ``target`` lies from ``source``: ``"two rows down and one column to the left"``, ``"right here"``."""
    rows, columns = target[0] - source[0], target[1] - source[1]
    parts = []
    if rows:
        parts.append(f"{number_word(abs(rows))} row{'s' if abs(rows) > 1 else ''} {'down' if rows > 0 else 'up'}")
    if columns:
        side = "to the right" if columns > 0 else "to the left"
        parts.append(f"{number_word(abs(columns))} column{'s' if abs(columns) > 1 else ''} {side}")
    return " and ".join(parts) if parts else "right here"


def taxi_reflection(context: ReflectionContext, rng: np.random.Generator) -> str:
    """A checked reflection from the DangerousTaxi templates."""
    return check_reflection(" ".join(taxi_sentences(context, rng)), context.expert_action, action_names(context))


def taxi_sentences(context: ReflectionContext, rng: np.random.Generator) -> list[str]:
    """The analysis: why a wrong last move was one, where the target is, the way there, and what to avoid."""
    taxi = TaxiFacts.from_facts(context.facts, context.env_id)
    action = context.actions[context.expert_action]
    steps = context.lookahead.expert_steps if context.lookahead else None
    offset = offset_words(taxi.taxi, taxi.target)
    sentences = []

    if context.previous_wrong:
        why = "it wasted a step"
        if context.previous_action.startswith("drop off"):
            why = "the passenger got out away from the destination and must be picked up again"
        elif steps is not None and context.previous_steps is not None and steps >= context.previous_steps:
            why = f"it led the taxi off the shortest route to {taxi.target_name}, so the trip got longer"
        sentences.append(
            choose(
                rng,
                (
                    f"The last move, '{context.previous_action}', was a mistake: {why}.",
                    f"'{context.previous_action}' did not help, since {why}.",
                    f"That '{context.previous_action}' was a detour; {why}.",
                ),
            )
        )

    if offset == "right here":
        depot = taxi.destination_depot if taxi.passenger_aboard else taxi.passenger_depot
        who = "the destination" if taxi.passenger_aboard else "where the passenger waits"
        where = choose(
            rng, (f"The taxi is at the {depot} depot, {who}.", f"The taxi has reached the {depot} depot, {who}.")
        )
    elif taxi.passenger_aboard:
        where = choose(
            rng,
            (
                f"The passenger is aboard; the destination, the {taxi.destination_depot} depot, is {offset}.",
                f"With the passenger in the taxi, what remains is the {taxi.destination_depot} depot, {offset}.",
                f"The taxi carries the passenger, and the {taxi.destination_depot} depot lies {offset}.",
            ),
        )
    else:
        where = choose(
            rng,
            (
                f"The passenger waits at the {taxi.passenger_depot} depot, {offset}.",
                f"First the passenger: they stand at the {taxi.passenger_depot} depot, {offset}.",
                f"Nobody is aboard yet; the passenger is {offset}, at the {taxi.passenger_depot} depot.",
            ),
        )
    sentences.append(where)

    direction = action.removeprefix("move ") if action.startswith("move ") else None
    if direction is None:
        plan = choose(
            rng,
            (
                f"So '{action}' is the right move now.",
                f"Time to '{action}'; that completes this part of the task.",
                f"Nothing to drive: '{action}' is what this spot calls for.",
            ),
        )
    else:
        d_row, d_column = _DIRECTIONS.get(direction, (0, 0))
        before = abs(taxi.target[0] - taxi.taxi[0]) + abs(taxi.target[1] - taxi.taxi[1])
        after = abs(taxi.target[0] - taxi.taxi[0] - d_row) + abs(taxi.target[1] - taxi.taxi[1] - d_column)
        remaining = f" ({number_word(steps)} moves to go)" if steps is not None and rng.random() < 0.5 else ""
        if after < before:
            plan = choose(
                rng,
                (
                    f"Heading {direction} closes the gap{remaining}.",
                    f"The shortest route starts by moving {direction}{remaining}.",
                    f"Going {direction} is the way to get there{remaining}.",
                ),
            )
        else:
            plan = choose(
                rng,
                (
                    f"A wall blocks the direct way, so the taxi goes around, {direction} first{remaining}.",
                    f"The straight path is walled off; the way around begins by moving {direction}{remaining}.",
                ),
            )
    sentences.append(plan)

    def describe(name: str) -> str:
        return f"'{name}' would {'hit a wall' if name.startswith('move') else 'do nothing here'} and end the episode."

    danger = danger_sentence(context, rng, describe)
    if danger is not None and rng.random() < 0.7:
        sentences.append(danger)
    return sentences
