"""Warm-up data from each env's expert: trajectories, recoveries after a wrong step, and reflections.

For every seed the expert (``env.unwrapped.expert_action()``) plays one episode. With probability
``perturb_prob`` per step a *wrong* action is taken instead (one that keeps the episode going but
lengthens the way to the goal, found by looking ahead) and the expert recovers from the state it leads
to: the paper's negative examples. Each visited state becomes a :class:`StepRecord`:

* a **policy example**: prompt (state, actions and reflection, rendered by the policy itself at SFT
  time) -> the expert action's label;
* a **reflector example**: the state (with the last action, see :func:`reflector_state`) -> a short
  analysis written from what the expert knows: where the goal is,
  why the expert's action helps, which actions would end the episode, and, after a wrong step, why it
  was wrong and what to do now. The wording is drawn from several templates with a seeded generator,
  actions are named by their text, numbers are spelled out, and no reflection ever contains the label
  (the action's index), which :func:`check_reflection` enforces.

Everything the analysis says comes through the Gymnasium API: the state text, the admissible actions,
the expert's action, and look-ahead by replaying the episode from its seed on a spare env (episodes
are deterministic given the seed and the actions, by the env contract). Envs with slow resets, like
ALFWorld, can skip the look-ahead (``look_ahead=False``) and get analyses without its facts.

:func:`policy_records` records the states a trained agent visits instead, each labelled with the expert's
action (DAgger): the states expert data never shows, such as the agent's own wrong turns.

Optionally a language model writes the reflections instead (:class:`LMReflectionWriter`, any
OpenAI-compatible chat endpoint); replies that leak the label fall back to the templates.

Records are JSON lines carrying the env id, seed and template version, so a data set is reproducible::

    python -m reflect_agent.data --env-id ReflectRL/DangerousTaxi-Dropoff-v0 --seeds 200 --out data/taxi.jsonl
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import gymnasium as gym
import numpy as np

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)
from reflect_gym.files import atomic_write

#: Version of the reflection templates and record layout; recorded in every record.
TEMPLATE_VERSION = "reflect-data-v2"

#: The policy's default labels (letters, in index order), also kept out of reflections.
LETTER_LABELS: str = string.ascii_uppercase + string.ascii_lowercase

_NUMBER_WORDS: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)


@dataclass
class StepRecord:
    """One state visited by the expert (or reached by a wrong step), with its label and reflection.

    Attributes:
        env_id: The registered env id.
        seed: The reset seed of the episode.
        step: The step index within the episode (0 = the reset state).
        kind: ``"recovery"`` right after a non-expert action (a wrong step, or the agent's own in
            :func:`policy_records`), ``"expert"`` otherwise.
        state: ``info["state"]``: the observation without the action list.
        actions: ``info["actions"]``: the admissible action strings.
        expert_action: The expert's index: the policy's target.
        reflection: The analysis the reflector learns to write (never containing the label).
        previous_action: The action text taken just before this state (``None`` at the reset state).
        template_version: :data:`TEMPLATE_VERSION` (or ``"lm:<model>"`` for LM-written reflections).
        env_kwargs: Extra ``gym.make`` arguments used (e.g. ``horizon``).
    """

    env_id: str
    seed: int
    step: int
    kind: Literal["expert", "recovery"]
    state: str
    actions: list[str]
    expert_action: int
    reflection: str
    previous_action: str | None = None
    template_version: str = TEMPLATE_VERSION
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def reflector_state(state: str, previous_action: str | None) -> str:
    """The state text the reflector reads: the env's state, plus the last action when there was one.

    Warm-up data and rollouts both pass the previous action of every step after the first, so the
    reflector learns to tell a wrong last step (which the analysis discusses) from a good one.
    """
    if previous_action is None:
        return state
    return f"{state}\nLast action: {previous_action}."


# --------------------------------------------------------------------------------------------------
# Look-ahead: what each action would do, and how far the expert is from the goal.


@dataclass
class Outcome:
    """What one admissible action does, seen by looking ahead."""

    reward: float
    terminated: bool
    truncated: bool
    success: bool
    steps_after: int | None = None
    """Steps the expert needs to succeed after this action (0 on success, ``None``: cannot)."""

    @property
    def fatal(self) -> bool:
        """Ends the episode without reaching the goal."""
        return self.terminated and not self.success


@dataclass
class Lookahead:
    """Facts the expert knows about a state.

    Attributes:
        outcomes: Per admissible action, what one step of it does.
        expert_steps: Steps the expert needs from here to reach the goal (``None``: not within the horizon).
    """

    outcomes: list[Outcome]
    expert_steps: int | None


def look_ahead(env: gym.Env, seed: int, prefix: Sequence[int], state: str) -> Lookahead:
    """Try every admissible action, and the expert after it, by replaying the episode on ``env``.

    The env contract makes episodes a function of the seed and the actions, so a spare env reset with
    ``seed`` and stepped through ``prefix`` stands in the same state; that is far cheaper than
    ``copy.deepcopy`` for envs with large shared tables, and works for any env whose reset is cheap.

    Args:
        env: A spare instance of the env (its episode is consumed).
        seed: The episode's reset seed.
        prefix: The actions taken so far in the episode.
        state: The current ``info["state"]``, to check that the replay reached the same state.

    Raises:
        RuntimeError: The replay reached another state (the env is not deterministic given its seed).
    """
    _, info = _replay(env, seed, prefix)
    if info["state"] != state:
        raise RuntimeError(
            f"Replaying seed {seed} with actions {list(prefix)} reached another state; the env must be "
            "deterministic given its seed and actions (pass look_ahead=False for envs that are not)."
        )
    outcomes = []
    for index in range(len(info["actions"])):
        _replay(env, seed, prefix)
        _, reward, terminated, truncated, step_info = env.step(index)
        success = bool(step_info["success"])
        steps_after = 0 if success else (None if terminated or truncated else _expert_steps(env))
        outcomes.append(Outcome(float(reward), bool(terminated), bool(truncated), success, steps_after))
    _replay(env, seed, prefix)
    return Lookahead(outcomes, _expert_steps(env))


def _replay(env: gym.Env, seed: int, prefix: Sequence[int]) -> tuple[Any, dict[str, Any]]:
    observation, info = env.reset(seed=seed)
    for action in prefix:
        observation, _, _, _, info = env.step(action)
    return observation, info


def _expert_steps(env: gym.Env) -> int | None:
    """Steps the expert takes on ``env`` (consumed) to succeed, or ``None``."""
    for steps in range(1, 10_000):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if info["success"]:
            return steps
        if terminated or truncated:
            return None
    return None


# --------------------------------------------------------------------------------------------------
# Reflections.


@dataclass
class ReflectionContext:
    """Everything a reflection may be written from."""

    env_id: str
    state: str
    actions: list[str]
    expert_action: int
    lookahead: Lookahead | None
    previous_action: str | None = None
    """The action taken just before this state (``None`` at the reset state)."""
    previous_wrong: bool = False
    """Whether that action was a wrong one (taken instead of the expert's)."""
    previous_steps: int | None = None
    """Expert steps to the goal before the wrong step (``None`` when unknown or not after one)."""


def action_names(context: ReflectionContext) -> list[str]:
    """The action texts a reflection of ``context`` may quote: the admissible ones and the last one taken."""
    return [*context.actions, *([context.previous_action] if context.previous_action else [])]


class ReflectionWriter(Protocol):
    """Writes the reflection of one state; :class:`TemplateWriter` and :class:`LMReflectionWriter`."""

    version: str

    def write(self, context: ReflectionContext, rng: np.random.Generator) -> str: ...


def number_word(n: int) -> str:
    """``n`` in words up to twenty, ``"many"`` beyond (reflections carry no digits of their own)."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else "many"


def contains_label(text: str, label: str) -> bool:
    """Whether ``text`` names ``label`` the way an action label is named.

    A digit label (the env's labels are indices) counts anywhere it stands alone (``"2"``, ``"(2)"``,
    ``"2."``, not ``"2.txt"``); a letter label (the policy's default labels are letters) counts in the
    forms that name an option (``"(B)"``, ``"B)"``, ``"'B'"``, ``"option B"``, ``"choose B"``), not
    as the article "A".
    """
    label = re.escape(label.strip())
    if label.isdigit():
        return re.search(rf"(?<![\w.]){label}(?!\w|\.\w)", text) is not None
    named = rf"(?:\({label}\)|(?<![\w.]){label}\)|['\"]{label}['\"]|\b(?:action|option|label|choice|answer|choose|pick|select|press)\s*:?\s*{label}\b)"
    return re.search(named, text, flags=re.IGNORECASE if len(label) > 1 else 0) is not None


def check_reflection(text: str, index: int, actions: Iterable[str] = ()) -> str:
    """Return ``text`` with its whitespace collapsed, or raise ``ValueError`` when it is empty or names the
    label of action ``index``: the env's label (the index itself) or the policy's default letter label.

    Texts in ``actions`` are quoted names, not labels: a digit inside an action (``'go to cabinet 1'``) or
    inside a question the reflection quotes does not count.
    """
    text = " ".join(text.split())
    if not text:
        raise ValueError("A reflection must not be empty.")
    unnamed = text
    for action in sorted(filter(None, actions), key=len, reverse=True):
        unnamed = unnamed.replace(action, " ")
    for label in (str(index), LETTER_LABELS[index % len(LETTER_LABELS)]):
        if contains_label(unnamed, label):
            raise ValueError(f"The reflection {text!r} names the label {label!r}; name actions by their text.")
    return text


def _choose(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _join(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


class TemplateWriter:
    """Reflections from templates: a family-specific analysis where the state text is understood
    (DangerousTaxi, FileQA), a generic one from look-ahead facts elsewhere."""

    version = TEMPLATE_VERSION

    def write(self, context: ReflectionContext, rng: np.random.Generator) -> str:
        taxi = _TaxiState.parse(context.state)
        question = _FILEQA_QUESTION.search(context.state)
        quoted = action_names(context)
        if taxi is not None:
            sentences = _taxi_sentences(context, taxi, rng)
        elif question is not None:
            sentences = _fileqa_sentences(context, question.group(1), rng)
            quoted.append(_question_subject(question.group(1)))  # the question's words, e.g. "(4 spaces"
        else:
            sentences = _generic_sentences(context, rng)
        return check_reflection(" ".join(sentences), context.expert_action, quoted)


def _danger_sentence(
    context: ReflectionContext, rng: np.random.Generator, describe: Callable[[str], str]
) -> str | None:
    """A warning about the actions that would end the episode, or ``None`` when there are none."""
    if context.lookahead is None:
        return None
    fatal = [context.actions[i] for i, o in enumerate(context.lookahead.outcomes) if o.fatal]
    if not fatal:
        return None
    if len(fatal) == 1 and rng.random() < 0.6:
        return _capitalize(describe(fatal[0]))
    shown = fatal if len(fatal) <= 3 else list(rng.choice(fatal, size=3, replace=False))
    return _choose(
        rng,
        (
            f"Avoid {_join(shown)}: each would end the episode here.",
            f"Careful: {_join(shown)} would end the episode from this state.",
            f"Here {_join(shown)} would be fatal, so they are out.",
        ),
    )


def _generic_sentences(context: ReflectionContext, rng: np.random.Generator) -> list[str]:
    action = context.actions[context.expert_action]
    steps = context.lookahead.expert_steps if context.lookahead else None
    sentences = []
    if context.previous_wrong:
        why = "."
        if steps is not None and context.previous_steps is not None and steps >= context.previous_steps:
            why = f": it left the goal {number_word(steps)} steps away instead of {number_word(context.previous_steps - 1)}."
        sentences.append(
            _choose(
                rng,
                (
                    f"The last action, '{context.previous_action}', did not help{why}",
                    f"'{context.previous_action}' was a wasted step{why}",
                ),
            )
        )
    if steps == 1:
        sentences.append(
            _choose(
                rng, (f"'{action}' reaches the goal right now.", f"One step is left: '{action}' completes the task.")
            )
        )
    elif steps is not None:
        sentences.append(
            _choose(
                rng,
                (
                    f"'{action}' is the next step on the shortest way; {number_word(steps)} steps remain.",
                    f"The goal is {number_word(steps)} steps away, and '{action}' starts the way there.",
                    f"Taking '{action}' now keeps the plan on track ({number_word(steps)} steps to go).",
                ),
            )
        )
    else:
        sentences.append(
            _choose(
                rng,
                (
                    f"The best next step is '{action}'.",
                    f"'{action}' brings the task closer to done.",
                    f"Progress comes from '{action}' at this point.",
                ),
            )
        )
    danger = _danger_sentence(context, rng, lambda name: f"'{name}' would end the episode.")
    if danger is not None and rng.random() < 0.8:
        sentences.append(danger)
    return sentences


# -- DangerousTaxi -----------------------------------------------------------------------------------

_TAXI_POSITION = re.compile(r"^Taxi: row (\d+), column (\d+)", re.MULTILINE)
_TAXI_PASSENGER = re.compile(
    r"^Passenger: (?:(in the taxi)|waiting at the (\w+) depot \w, row (\d+), column (\d+))", re.MULTILINE
)
_TAXI_DESTINATION = re.compile(r"^Destination: the (\w+) depot \w, row (\d+), column (\d+)", re.MULTILINE)
_DIRECTIONS = {"north": (-1, 0), "south": (1, 0), "east": (0, 1), "west": (0, -1)}


@dataclass
class _TaxiState:
    taxi: tuple[int, int]
    passenger_aboard: bool
    passenger_depot: str
    passenger: tuple[int, int]
    destination_depot: str
    destination: tuple[int, int]

    @classmethod
    def parse(cls, state: str) -> _TaxiState | None:
        taxi, passenger, destination = (p.search(state) for p in (_TAXI_POSITION, _TAXI_PASSENGER, _TAXI_DESTINATION))
        if taxi is None or passenger is None or destination is None:
            return None
        aboard = passenger.group(1) is not None
        taxi_cell = (int(taxi.group(1)), int(taxi.group(2)))
        passenger_cell = taxi_cell if aboard else (int(passenger.group(3)), int(passenger.group(4)))
        return cls(
            taxi=taxi_cell,
            passenger_aboard=aboard,
            passenger_depot="" if aboard else passenger.group(2),
            passenger=passenger_cell,
            destination_depot=destination.group(1),
            destination=(int(destination.group(2)), int(destination.group(3))),
        )

    @property
    def target(self) -> tuple[int, int]:
        return self.destination if self.passenger_aboard else self.passenger

    @property
    def target_name(self) -> str:
        if self.passenger_aboard:
            return f"the {self.destination_depot} depot"
        return f"the passenger at the {self.passenger_depot} depot"


def _offset_words(source: tuple[int, int], target: tuple[int, int]) -> str:
    rows, columns = target[0] - source[0], target[1] - source[1]
    parts = []
    if rows:
        parts.append(f"{number_word(abs(rows))} row{'s' if abs(rows) > 1 else ''} {'down' if rows > 0 else 'up'}")
    if columns:
        side = "to the right" if columns > 0 else "to the left"
        parts.append(f"{number_word(abs(columns))} column{'s' if abs(columns) > 1 else ''} {side}")
    return " and ".join(parts) if parts else "right here"


def _taxi_sentences(context: ReflectionContext, taxi: _TaxiState, rng: np.random.Generator) -> list[str]:
    action = context.actions[context.expert_action]
    steps = context.lookahead.expert_steps if context.lookahead else None
    offset = _offset_words(taxi.taxi, taxi.target)
    sentences = []

    if context.previous_wrong:
        why = "it wasted a step"
        if context.previous_action.startswith("drop off"):
            why = "the passenger got out away from the destination and must be picked up again"
        elif steps is not None and context.previous_steps is not None and steps >= context.previous_steps:
            why = f"it led the taxi off the shortest route to {taxi.target_name}, so the trip got longer"
        sentences.append(
            _choose(
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
        where = _choose(
            rng, (f"The taxi is at the {depot} depot, {who}.", f"The taxi has reached the {depot} depot, {who}.")
        )
    elif taxi.passenger_aboard:
        where = _choose(
            rng,
            (
                f"The passenger is aboard; the destination, the {taxi.destination_depot} depot, is {offset}.",
                f"With the passenger in the taxi, what remains is the {taxi.destination_depot} depot, {offset}.",
                f"The taxi carries the passenger, and the {taxi.destination_depot} depot lies {offset}.",
            ),
        )
    else:
        where = _choose(
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
        plan = _choose(
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
            plan = _choose(
                rng,
                (
                    f"Heading {direction} closes the gap{remaining}.",
                    f"The shortest route starts by moving {direction}{remaining}.",
                    f"Going {direction} is the way to get there{remaining}.",
                ),
            )
        else:
            plan = _choose(
                rng,
                (
                    f"A wall blocks the direct way, so the taxi goes around, {direction} first{remaining}.",
                    f"The straight path is walled off; the way around begins by moving {direction}{remaining}.",
                ),
            )
    sentences.append(plan)

    def describe(name: str) -> str:
        return f"'{name}' would {'hit a wall' if name.startswith('move') else 'do nothing here'} and end the episode."

    danger = _danger_sentence(context, rng, describe)
    if danger is not None and rng.random() < 0.7:
        sentences.append(danger)
    return sentences


# -- FileQA ----------------------------------------------------------------------------------------------

_FILEQA_QUESTION = re.compile(r"^Question: (.+)$", re.MULTILINE)


def _question_subject(question: str) -> str:
    """The short subject of a FileQA question: ``"the file that defines the class TestSuite"``."""
    subject = question.strip().rstrip("?")
    subject = re.split(r", described as| and the first row| that begins", subject)[0]
    subject = re.sub(r"^Which data file, with (\d+ rows?), has ", r"the data file with \1 that has ", subject)
    subject = re.sub(r"^Which (file|document) ", r"the \1 that ", subject)
    words = subject.split()
    return " ".join(words[:14]) + (" ..." if len(words) > 14 else "")


def _fileqa_sentences(context: ReflectionContext, question: str, rng: np.random.Generator) -> list[str]:
    action = context.actions[context.expert_action]
    verb, _, target = action.partition(" ")
    subject = _question_subject(question)
    sentences = []
    if context.previous_wrong and context.previous_action is not None:
        last_verb, _, last_target = context.previous_action.partition(" ")
        if last_verb == "cd" and last_target != "..":
            why = f"entering {last_target}/ was a wrong turn, since the answer is not under it"
        elif last_verb == "cat":
            why = f"reading {last_target} cost a step and showed it is not the answer"
        elif last_verb == "cd":
            why = "going up left the folder that holds the answer"
        else:
            why = "that step led away from the answer"
        sentences.append(_capitalize(_choose(rng, (f"{why}.", f"the last command was a mistake: {why}."))))
    sentences.append(
        _choose(
            rng,
            (
                f"The question asks for {subject}.",
                f"We are looking for {subject}.",
                f"The goal: find {subject}.",
            ),
        )
    )
    if verb == "cd" and target == "..":
        plan = (
            "Nothing in this folder fits the question, so go back up.",
            "This folder is a dead end for the question; return to the parent with 'cd ..'.",
        )
    elif verb == "cd":
        plan = (
            f"The {target}/ folder is the likely place for it, so enter it.",
            f"Of the folders here, {target}/ fits the question best.",
            f"The answer should sit under {target}/; go there.",
        )
    elif verb == "id":
        plan = (
            f"{target} matches the question, so name it as the answer with '{action}'.",
            f"The file {target} is the one; identify it now.",
            f"Everything points to {target}: answer with '{action}'.",
        )
    elif verb == "cat":
        plan = (
            f"Reading {target} first will confirm it is the answer.",
            f"{target} looks right; a quick '{action}' checks it.",
        )
    elif action in ("next page", "previous page"):
        plan = (
            f"The entry we need is on another page of this listing, so take '{action}'.",
            f"The right entry is not on this page; '{action}' shows it.",
        )
    else:
        plan = (f"The best next step is '{action}'.",)
    sentences.append(_choose(rng, plan))
    if verb in ("cd", "cat") and rng.random() < 0.4:
        sentences.append(
            _choose(
                rng,
                (
                    "Naming a wrong file with id would end the episode in failure.",
                    "Only use id once the right file is certain: a wrong id ends the episode.",
                ),
            )
        )
    return sentences


# -- LM-written reflections ----------------------------------------------------------------------------

_LM_INSTRUCTIONS = (
    "You coach an agent in a text game. Write a short analysis (two or three sentences) of the state "
    "below for the agent: where the goal is, why the recommended action helps{after}. Name actions by "
    "their text, never by their number, and do not mention a 'recommended action' or an expert.\n\n"
    "State:\n{state}\n\nActions: {actions}\nRecommended action: {action}\n{facts}"
)


class LMReflectionWriter:
    """Reflections written by a language model, e.g. through an OpenAI-compatible chat endpoint.

    Args:
        complete: Sends a prompt, returns the model's reply (for instance the ``complete`` method of
            the harness's OpenAI agent, or any function of that shape).
        model: The model's name, recorded as ``template_version = "lm:<model>"``.
        fallback: Used when a reply is empty or leaks the label.
    """

    def __init__(self, complete: Callable[[str], str], model: str, fallback: ReflectionWriter | None = None):
        self.complete = complete
        self.version = f"lm:{model}"
        self.fallback = fallback or TemplateWriter()

    def write(self, context: ReflectionContext, rng: np.random.Generator) -> str:
        facts = []
        if context.lookahead is not None:
            fatal = [context.actions[i] for i, o in enumerate(context.lookahead.outcomes) if o.fatal]
            if fatal:
                facts.append(f"Actions that would end the episode: {', '.join(fatal)}.")
            if context.lookahead.expert_steps is not None:
                facts.append(f"Steps to the goal along the best route: {context.lookahead.expert_steps}.")
        after = ""
        if context.previous_wrong:
            after = f", and why the last action ('{context.previous_action}') was a mistake and what to do now"
        prompt = _LM_INSTRUCTIONS.format(
            after=after,
            state=context.state,
            actions="; ".join(context.actions),
            action=context.actions[context.expert_action],
            facts="\n".join(facts),
        )
        try:
            return check_reflection(self.complete(prompt), context.expert_action, action_names(context))
        except ValueError:
            return self.fallback.write(context, rng)


# --------------------------------------------------------------------------------------------------
# Generation.


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
        writer: Writes the reflections (default :class:`TemplateWriter`).
        rng_seed: Seeds the choice of wrong steps and of template wordings.
        look_ahead: Replay each state on a spare env to learn what every action does (see
            :func:`look_ahead`); without it wrong steps are drawn among all non-expert actions.

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
    so far, whoever chose them), as in ``benchmarks.evaluate``.

    Args:
        env_id: A registered env id.
        seeds: Reset seeds, one episode each.
        agent: Any :class:`reflect_agent.agents.Agent` built for ``env_id`` (e.g. an ``LMAgent``).
        expert_prob: Chance per step of taking the expert's action instead of the agent's.
        env_kwargs: Extra ``gym.make`` arguments (recorded in each record).
        writer: Writes the reflections (default :class:`TemplateWriter`).
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
        expert = env.unwrapped.expert_action()
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


def write_jsonl(records: Iterable[StepRecord], path: str | os.PathLike) -> Path:
    """Write records as JSON lines, atomically."""
    atomic_write(path, "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))
    return Path(path)


def read_jsonl(path: str | os.PathLike) -> list[StepRecord]:
    """Read records written by :func:`write_jsonl`."""
    with open(path, encoding="utf-8") as file:
        return [StepRecord(**json.loads(line)) for line in file if line.strip()]


@dataclass
class DataArgs:
    """Generate warm-up data from an env's expert.

    Attributes:
        env_id: A registered env id.
        out: The JSON lines file to write.
        seeds: Episodes to play, on seeds ``first_seed .. first_seed + seeds - 1``.
        first_seed: The first reset seed (keep training seeds apart from evaluation seeds).
        perturb_prob: Chance per step of a wrong step followed by the expert's recovery.
        horizon: Override the env's horizon (``None``: the registered default).
        rng_seed: Seeds wrong-step choices and template wordings.
        look_ahead: Replay states to learn what each action does (off for envs with slow resets).
        openai_model: Have this model write the reflections through an OpenAI-compatible endpoint
            (``$OPENAI_BASE_URL``, ``$OPENAI_API_KEY``); the templates cover replies that name a label.
        openai_base_url: The endpoint (default ``$OPENAI_BASE_URL``).
        env_kwargs: Extra ``gym.make`` arguments (``tasks runs/named/tasks.jsonl leaveout_prob 0.5``).
        agent: Record the states this agent visits, labelled by the expert (:func:`policy_records`, DAgger):
            an agent spec of :func:`reflect_agent.agents.make_agent`, e.g. ``lm:runs/x/policy``. ``None``:
            the expert plays, with wrong steps (:func:`expert_records`).
        expert_prob: With ``agent``, the chance per step of taking the expert's action instead.
        repeat_penalty: With an ``lm:`` agent, its ``PolicyConfig.repeat_penalty`` (``None``: a checkpoint's own).
    """

    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    out: str = "data/warmup.jsonl"
    seeds: int = 200
    first_seed: int = 0
    perturb_prob: float = 0.25
    horizon: int | None = None
    rng_seed: int = 0
    look_ahead: bool = True
    openai_model: str | None = None
    openai_base_url: str | None = None
    env_kwargs: dict[str, int | float | str] = field(default_factory=dict)
    agent: str | None = None
    expert_prob: float = 0.5
    repeat_penalty: float | None = None


def main(args: DataArgs) -> None:
    """Write the records of ``args`` and print a summary."""
    kwargs = dict(args.env_kwargs) | ({} if args.horizon is None else {"horizon": args.horizon})
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    writer: ReflectionWriter = TemplateWriter()
    if args.openai_model is not None:
        from reflect_agent.agents import OpenAIChatAgent

        agent = OpenAIChatAgent(
            model=args.openai_model,
            base_url=args.openai_base_url,
            temperature=0.7,
            max_tokens=160,
            system_prompt="You write short, concrete analyses of game states for an agent learning to play.",
        )
        writer = LMReflectionWriter(agent.complete, args.openai_model)
    common = {"env_kwargs": kwargs, "writer": writer, "rng_seed": args.rng_seed, "look_ahead": args.look_ahead}
    if args.agent is None:
        records = expert_records(args.env_id, seeds, perturb_prob=args.perturb_prob, **common)
    else:
        from reflect_agent.agents import make_agent

        env = gym.make(args.env_id, **kwargs)
        try:
            options = {} if args.repeat_penalty is None else {"repeat_penalty": args.repeat_penalty}
            agent = make_agent(args.agent, env, **options)
            records = policy_records(args.env_id, seeds, agent, expert_prob=args.expert_prob, **common)
        finally:
            env.close()
    write_jsonl(records, args.out)
    recoveries = sum(r.kind == "recovery" for r in records)
    print(f"wrote {len(records)} records ({recoveries} after a wrong step) from {args.seeds} episodes to {args.out}")


if __name__ == "__main__":
    import tyro

    main(tyro.cli(DataArgs))
