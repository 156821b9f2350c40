"""Warm-up data from each env's expert: trajectories, recoveries after a wrong step, and reflections.

For every seed the expert (:func:`reflect_gym.core.expert_action`) plays one episode. With probability
``perturb_prob`` per step a *wrong* action is taken instead (one that keeps the episode going but
lengthens the way to the goal, found by looking ahead) and the expert recovers from the state it leads
to: the paper's negative examples. Each visited state becomes a :class:`StepRecord`:

* a **policy example**: prompt (state, actions and reflection, rendered by the policy itself at SFT
  time) -> the expert action's label;
* a **reflector example**: the state (with the last action, see
  :func:`reflect_agent.prompts.reflector_state`) -> a short analysis written from what the expert
  knows: where the goal is, why the expert's action helps, which actions would end the episode, and,
  after a wrong step, why it was wrong and what to do now. The wording is drawn from several templates
  with a seeded generator, actions are named by their text, numbers are spelled out, and no reflection
  ever contains the label (the action's index), which :func:`check_reflection` enforces.

Everything the analysis says comes through the env contract: the state text, the admissible actions,
the expert's action, the state's facts (:func:`reflect_gym.core.state_facts`: DangerousTaxi's positions,
FileQA's question), and look-ahead by replaying the episode from its seed on a spare env (episodes are
deterministic given the seed and the actions). Nothing is parsed out of the prompt text. Envs with slow
resets, like ALFWorld, can skip the look-ahead (``look_ahead=False``) and get analyses without its facts.

:func:`policy_records` records the states a trained agent visits instead, each labelled with the
expert's action (DAgger): the states expert data never shows, such as the agent's own wrong turns.

Optionally a language model writes the reflections instead (:class:`LMReflectionWriter`, any
OpenAI-compatible chat endpoint); replies that leak the label fall back to the templates.

Records are JSON lines carrying the env id, seed and template version, so a data set is reproducible::

    reflect-rl data --env-id ReflectRL/DangerousTaxi-Dropoff-v0 --seeds 200 --out data/taxi.jsonl

Modules: :mod:`~reflect_agent.warmup.records` (records, JSON lines), :mod:`~reflect_agent.warmup.lookahead`,
:mod:`~reflect_agent.warmup.reflections` (context, label rule, generic templates),
:mod:`~reflect_agent.warmup.taxi` and :mod:`~reflect_agent.warmup.fileqa` (family templates),
:mod:`~reflect_agent.warmup.templates` (the family registry), :mod:`~reflect_agent.warmup.lm` and
:mod:`~reflect_agent.warmup.collect` (expert and DAgger episodes).
"""

from __future__ import annotations

from reflect_agent.warmup.collect import expert_records, policy_records
from reflect_agent.warmup.lm import LMReflectionWriter
from reflect_agent.warmup.lookahead import Lookahead, Outcome, look_ahead
from reflect_agent.warmup.records import TEMPLATE_VERSION, StepRecord, read_jsonl, write_jsonl
from reflect_agent.warmup.reflections import (
    ReflectionContext,
    ReflectionWriter,
    action_names,
    check_reflection,
    contains_label,
    number_word,
)
from reflect_agent.warmup.templates import FAMILY_TEMPLATES, TemplateWriter, env_family

__all__ = [
    "FAMILY_TEMPLATES",
    "LMReflectionWriter",
    "Lookahead",
    "Outcome",
    "ReflectionContext",
    "ReflectionWriter",
    "StepRecord",
    "TEMPLATE_VERSION",
    "TemplateWriter",
    "action_names",
    "check_reflection",
    "contains_label",
    "env_family",
    "expert_records",
    "look_ahead",
    "number_word",
    "policy_records",
    "read_jsonl",
    "write_jsonl",
]
