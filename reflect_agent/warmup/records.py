"""Warm-up records: one visited state with its expert label and reflection, stored as JSON lines."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from reflect_gym.files import atomic_write

#: Version of the reflection templates and record layout; recorded in every record.
TEMPLATE_VERSION = "reflect-data-v2"


@dataclass
class StepRecord:
    """One state visited by the expert (or reached by a wrong step), with its label and reflection.

    Attributes:
        env_id: The registered env id.
        seed: The reset seed of the episode.
        step: The step index within the episode (0 = the reset state).
        kind: ``"recovery"`` right after a non-expert action (a wrong step, or the agent's own in
            :func:`reflect_agent.warmup.policy_records`), ``"expert"`` otherwise.
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


def write_jsonl(records: Iterable[StepRecord], path: str | os.PathLike) -> Path:
    """Write records as JSON lines, atomically."""
    atomic_write(path, "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))
    return Path(path)


def read_jsonl(path: str | os.PathLike) -> list[StepRecord]:
    """Read records written by :func:`write_jsonl`.

    Raises:
        ValueError: A line is not a JSON object with a record's fields; the message names the file and
            the line number.
    """
    records = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                records.append(StepRecord(**data))
            except (json.JSONDecodeError, TypeError) as error:
                raise ValueError(
                    f"{path}, line {number}: not a warm-up record ({error}); expected one JSON object per line "
                    "with StepRecord's fields, as write_jsonl writes them."
                ) from None
    return records
