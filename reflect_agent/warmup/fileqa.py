"""FileQA's reflection templates: what the question asks for and which command leads to the answer,
written from the env's state facts (``FileQAEnv.state_facts``: ``question`` and ``subject``)."""

from __future__ import annotations

import numpy as np

from reflect_agent.warmup.reflections import (
    ReflectionContext,
    action_names,
    capitalize,
    check_reflection,
    choose,
)


def fileqa_subject(context: ReflectionContext) -> str:
    """The ``subject`` fact: what the question asks for, as a noun phrase.

    Raises:
        ValueError: The context has no such fact.
    """
    if "subject" not in context.facts:
        raise ValueError(
            f"The FileQA templates need the state fact 'subject', which {context.env_id} did not give (it gave "
            f"{sorted(context.facts)}); fill ReflectionContext.facts with reflect_gym.core.state_facts(env)."
        )
    return str(context.facts["subject"])


def fileqa_reflection(context: ReflectionContext, rng: np.random.Generator) -> str:
    """A checked reflection from the FileQA templates.

    The subject is quoted from the question, so a digit in it (``"(4 spaces"``) is no label.
    """
    quoted = [*action_names(context), fileqa_subject(context)]
    return check_reflection(" ".join(fileqa_sentences(context, rng)), context.expert_action, quoted)


def fileqa_sentences(context: ReflectionContext, rng: np.random.Generator) -> list[str]:
    """The analysis: why a wrong last command was one, what the question asks for, the next command, and
    a warning about ``id`` on a wrong file."""
    action = context.actions[context.expert_action]
    verb, _, target = action.partition(" ")
    subject = fileqa_subject(context)
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
        sentences.append(capitalize(choose(rng, (f"{why}.", f"the last command was a mistake: {why}."))))
    sentences.append(
        choose(
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
    sentences.append(choose(rng, plan))
    if verb in ("cd", "cat") and rng.random() < 0.4:
        sentences.append(
            choose(
                rng,
                (
                    "Naming a wrong file with id would end the episode in failure.",
                    "Only use id once the right file is certain: a wrong id ends the episode.",
                ),
            )
        )
    return sentences
