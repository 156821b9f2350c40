"""Template reflections, with the templates of each env family chosen by an explicit registry.

:data:`FAMILY_TEMPLATES` maps an env family (the name of a registered id before its first ``-``:
``ReflectRL/FileQA-Depth1-v0`` is ``FileQA``) to the function that writes its reflections from the
state's facts (:attr:`ReflectionContext.facts`). Every other env gets the generic templates, which need
look-ahead facts only. To add a family, pass ``TemplateWriter(templates={**FAMILY_TEMPLATES, name: fn})``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from reflect_agent.warmup.fileqa import fileqa_reflection
from reflect_agent.warmup.records import TEMPLATE_VERSION
from reflect_agent.warmup.reflections import ReflectionContext, generic_reflection
from reflect_agent.warmup.taxi import taxi_reflection

#: Writes a checked reflection of a context (it must pass :func:`check_reflection`).
Template = Callable[[ReflectionContext, np.random.Generator], str]

#: The family templates, by env family; read-only (see the module docstring to add one).
FAMILY_TEMPLATES: Mapping[str, Template] = MappingProxyType(
    {"DangerousTaxi": taxi_reflection, "FileQA": fileqa_reflection}
)


def env_family(env_id: str) -> str:
    """The family of an env id: its name without namespace, configuration and version.

    ``"ReflectRL/DangerousTaxi-Dropoff-v0"`` -> ``"DangerousTaxi"``, ``"ReflectRL/FileQA-v0"`` -> ``"FileQA"``.
    """
    return env_id.rpartition("/")[2].split("-", 1)[0]


class TemplateWriter:
    """Reflections from templates: a family's own (:data:`FAMILY_TEMPLATES`) for the families it lists,
    the generic ones from look-ahead facts elsewhere.

    Args:
        templates: The registry to use instead of :data:`FAMILY_TEMPLATES`.
    """

    version = TEMPLATE_VERSION

    def __init__(self, templates: Mapping[str, Template] | None = None):
        self.templates = FAMILY_TEMPLATES if templates is None else MappingProxyType(dict(templates))

    def write(self, context: ReflectionContext, rng: np.random.Generator) -> str:
        """The reflection of ``context``, wordings drawn with ``rng``."""
        return self.templates.get(env_family(context.env_id), generic_reflection)(context, rng)
