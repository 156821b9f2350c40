"""Reflections: what a reflection may be written from, the rule that it never names the label, and the
generic templates that need nothing but look-ahead.

A :class:`ReflectionWriter` turns a :class:`ReflectionContext` into a short analysis of one state.
:func:`check_reflection` enforces the one rule every writer keeps: a reflection names actions by their
text, never by a label (the env's index or the policy's letter), since the reflector would otherwise
teach the policy to copy a label. Numbers are spelled out (:func:`number_word`) so that no digit of a
template reads as a label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from reflect_agent.prompts import LETTER_LABELS
from reflect_agent.warmup.lookahead import Lookahead

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
    facts: dict[str, Any] = field(default_factory=dict)
    """The state's facts from the env contract (:func:`reflect_gym.core.state_facts`): the only place a
    family's templates read positions, the question or the goal from."""


def action_names(context: ReflectionContext) -> list[str]:
    """The action texts a reflection of ``context`` may quote: the admissible ones and the last one taken."""
    return [*context.actions, *([context.previous_action] if context.previous_action else [])]


class ReflectionWriter(Protocol):
    """Writes the reflection of one state; :class:`reflect_agent.warmup.TemplateWriter` and
    :class:`reflect_agent.warmup.LMReflectionWriter`."""

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


# --------------------------------------------------------------------------------------------------
# Helpers of every family's templates.


def choose(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One of ``options``, drawn with ``rng`` (one integer draw, whatever the options)."""
    return options[int(rng.integers(len(options)))]


def join_quoted(names: list[str]) -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``."""
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def capitalize(text: str) -> str:
    """``text`` with its first character upper-cased and the rest untouched."""
    return text[:1].upper() + text[1:]


def danger_sentence(context: ReflectionContext, rng: np.random.Generator, describe: Callable[[str], str]) -> str | None:
    """A warning about the actions that would end the episode, or ``None`` when there are none.

    Args:
        context: The state; without look-ahead nothing is known to be fatal.
        rng: Draws the wording.
        describe: Writes the warning for a single fatal action, given its text.
    """
    if context.lookahead is None:
        return None
    fatal = [context.actions[i] for i, o in enumerate(context.lookahead.outcomes) if o.fatal]
    if not fatal:
        return None
    if len(fatal) == 1 and rng.random() < 0.6:
        return capitalize(describe(fatal[0]))
    shown = fatal if len(fatal) <= 3 else list(rng.choice(fatal, size=3, replace=False))
    return choose(
        rng,
        (
            f"Avoid {join_quoted(shown)}: each would end the episode here.",
            f"Careful: {join_quoted(shown)} would end the episode from this state.",
            f"Here {join_quoted(shown)} would be fatal, so they are out.",
        ),
    )


# --------------------------------------------------------------------------------------------------
# Generic templates: any env, from look-ahead facts alone.


def generic_reflection(context: ReflectionContext, rng: np.random.Generator) -> str:
    """A checked reflection from the generic templates (any env; no facts needed)."""
    return check_reflection(" ".join(generic_sentences(context, rng)), context.expert_action, action_names(context))


def generic_sentences(context: ReflectionContext, rng: np.random.Generator) -> list[str]:
    """The generic analysis: why a wrong last step did not help, the way to the goal, and what to avoid."""
    action = context.actions[context.expert_action]
    steps = context.lookahead.expert_steps if context.lookahead else None
    sentences = []
    if context.previous_wrong:
        why = "."
        if steps is not None and context.previous_steps is not None and steps >= context.previous_steps:
            why = f": it left the goal {number_word(steps)} steps away instead of {number_word(context.previous_steps - 1)}."
        sentences.append(
            choose(
                rng,
                (
                    f"The last action, '{context.previous_action}', did not help{why}",
                    f"'{context.previous_action}' was a wasted step{why}",
                ),
            )
        )
    if steps == 1:
        sentences.append(
            choose(
                rng, (f"'{action}' reaches the goal right now.", f"One step is left: '{action}' completes the task.")
            )
        )
    elif steps is not None:
        sentences.append(
            choose(
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
            choose(
                rng,
                (
                    f"The best next step is '{action}'.",
                    f"'{action}' brings the task closer to done.",
                    f"Progress comes from '{action}' at this point.",
                ),
            )
        )
    danger = danger_sentence(context, rng, lambda name: f"'{name}' would end the episode.")
    if danger is not None and rng.random() < 0.8:
        sentences.append(danger)
    return sentences
