"""Reflections written by a language model, e.g. through an OpenAI-compatible chat endpoint; replies
that leak the label fall back to the templates."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reflect_agent.warmup.reflections import ReflectionContext, ReflectionWriter, action_names, check_reflection
from reflect_agent.warmup.templates import TemplateWriter

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
        """The model's reflection of ``context``, or the fallback's when the reply is empty or names the label."""
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
