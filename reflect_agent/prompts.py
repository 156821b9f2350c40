"""The prompts of the policy and the reflector, in one configurable place.

The policy prompt follows the shape of the Reflect-RL paper: the env's state (``info["state"]``), then, when a
reflector wrote one, an analysis section, then the admissible actions under labels, then an action cue. The
policy reads its decision from the next-token logits of the labels right after the cue::

    <state>

    Analysis: <reflection>

    Available actions:
    A. move south
    B. move north

    Action:

The reflector's prompt is the state and the actions (as a bulleted list), ending in the analysis cue; it writes
the analysis that follows, and stops before it writes an action cue.

A prompt over its token limit loses part of its state (:func:`fit_state`), never the actions or the cues.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

#: Marks where :func:`fit_state` cut a state.
TRUNCATION_MARK = "[...] "

#: Label presets. ``"letters"``: " A".." Z" then " a".." z" (52 labels, single tokens for GPT-2's and
#: SmolLM2's tokenizers). ``"numbers"``: " 0".." 99" (single tokens for GPT-2's tokenizer, not for SmolLM2's,
#: which splits digits).
LABEL_PRESETS: dict[str, tuple[str, ...]] = {
    "letters": tuple(f" {c}" for c in string.ascii_uppercase + string.ascii_lowercase),
    "numbers": tuple(f" {i}" for i in range(100)),
}

#: The policy's default labels (letters, in index order), also kept out of reflections.
LETTER_LABELS: str = string.ascii_uppercase + string.ascii_lowercase


def reflector_state(state: str, previous_action: str | None) -> str:
    """The state text the reflector reads: the env's state, plus the last action when there was one.

    Warm-up data and rollouts both pass the previous action of every step after the first, so the
    reflector learns to tell a wrong last step (which the analysis discusses) from a good one.
    """
    if previous_action is None:
        return state
    return f"{state}\nLast action: {previous_action}."


@dataclass
class PromptTemplate:
    """The text around the state, reflection and actions.

    Attributes:
        version: Name of this template, recorded in data files and checkpoints; change it with the text.
        preamble: Text before the state (empty by default).
        analysis_header: Starts the analysis section; the reflection follows it after a space.
        actions_header: Starts the action list.
        action_line: One action line; ``{label}`` is the label without surrounding spaces.
        cue: Ends the policy prompt; the label token is read right after it.
        reflector_actions_header: Starts the action list in the reflector's prompt.
    """

    version: str = "reflect-rl-v1"
    preamble: str = ""
    analysis_header: str = "\n\nAnalysis:"
    actions_header: str = "\n\nAvailable actions:\n"
    action_line: str = "{label}. {action}"
    cue: str = "\n\nAction:"
    reflector_actions_header: str = "\n\nAvailable actions:\n"

    def __post_init__(self) -> None:
        if not self.cue:
            raise ValueError("PromptTemplate.cue must be non-empty: the policy reads the label token right after it.")
        if "{label}" not in self.action_line or "{action}" not in self.action_line:
            raise ValueError(
                f"PromptTemplate.action_line must contain '{{label}}' and '{{action}}', got {self.action_line!r}."
            )

    def render(self, state: str, actions: list[str], labels: list[str], reflection: str | None = None) -> str:
        """The policy prompt for one state.

        Args:
            state: The env's ``info["state"]``.
            actions: The admissible action strings (``info["actions"]``).
            labels: One label per action at least; ``labels[i]`` names ``actions[i]``.
            reflection: The reflector's analysis; ``None`` or ``""`` leaves the analysis section out.

        Returns:
            The prompt, ending with :attr:`cue`.
        """
        if len(actions) > len(labels):
            raise ValueError(
                f"The state offers {len(actions)} actions but only {len(labels)} labels exist; pass more "
                f"single-token labels (PolicyConfig.labels) or build the env with max_actions={len(labels)}."
            )
        lines = "\n".join(
            self.action_line.format(label=label.strip(), action=a) for label, a in zip(labels, actions, strict=False)
        )
        analysis = f"{self.analysis_header} {reflection.strip()}" if reflection and reflection.strip() else ""
        return f"{self.preamble}{state}{analysis}{self.actions_header}{lines}{self.cue}"

    def reflector_prompt(self, state: str, actions: list[str]) -> str:
        """The reflector's prompt: state, bulleted actions, then the analysis cue it continues."""
        lines = "\n".join(f"- {a}" for a in actions)
        return f"{self.preamble}{state}{self.reflector_actions_header}{lines}{self.analysis_header}"

    def reflector_stop_strings(self) -> list[str]:
        """Strings that end a reflection: the action cue, the action-list header and the analysis header."""
        return [s.strip() for s in (self.cue, self.actions_header, self.analysis_header) if s.strip()]


def fit_state(
    tokenizer: PreTrainedTokenizerBase, render: Callable[[str], str], state: str, limit: int
) -> tuple[str, list[int]]:
    """``render(state)`` and its token ids, with ``state`` cut so that they fit in ``limit`` tokens.

    The cut takes the oldest text first and is marked with :data:`TRUNCATION_MARK`. It spares the state's first
    paragraph (its text before the first blank line), where the envs that have paragraphs state the goal: FileQA's
    question, ALFWorld's task. Only when cutting everything after that paragraph is not enough does the cut start
    at the state's beginning.

    Raises:
        ValueError: The prompt is over ``limit`` tokens even without its state.
    """
    text = render(state)
    ids = tokenizer(text).input_ids
    excess = len(ids) - limit
    if excess <= 0:
        return text, ids
    head, blank, body = state.partition("\n\n")  # without a blank line, the first try has nothing to cut
    for kept, rest in ((head + blank, body), ("", state)):
        rest_ids = tokenizer(rest, add_special_tokens=False).input_ids
        drop = excess
        # Decoding a cut token list and re-encoding can shift a token or two, so re-check and drop more if needed.
        while len(ids) > limit and drop <= len(rest_ids):
            text = render(kept + TRUNCATION_MARK + tokenizer.decode(rest_ids[drop:]))
            ids = tokenizer(text).input_ids
            drop += len(ids) - limit + 1
        if len(ids) <= limit:
            return text, ids
    raise ValueError(
        f"The prompt without its state still has {len(ids)} tokens, over the limit of {limit}; raise "
        "max_prompt_tokens or shorten the reflections and action names."
    )


def cut_at_stops(text: str, stops: list[str]) -> str:
    """``text`` up to the first occurrence of any of ``stops``, stripped (a reflection ends before its stop)."""
    end = min((i for i in (text.find(s) for s in stops) if i >= 0), default=len(text))
    return text[:end].strip()
