"""reflect_agent: LM policies, reflectors and trainers for the ReflectRL environments (needs the ``agent`` extra).

The public names are imported lazily, so ``import reflect_agent`` does not load torch and transformers until a
name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "load_model": "reflect_agent.models",
    "apply_lora": "reflect_agent.models",
    "load_lora": "reflect_agent.models",
    "load_tokenizer": "reflect_agent.models",
    "PromptTemplate": "reflect_agent.prompts",
    "PolicyConfig": "reflect_agent.policy",
    "PolicyBatch": "reflect_agent.policy",
    "LMPolicy": "reflect_agent.policy",
    "ReflectorConfig": "reflect_agent.reflector",
    "Reflector": "reflect_agent.reflector",
    "CandidateScoringDecider": "reflect_agent.deciders",
    "GenerateParseDecider": "reflect_agent.deciders",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reflect_agent' has no attribute {name!r}")
