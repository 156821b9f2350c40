"""Curriculum stages: a list of env ids played in order, switched by schedule or by success rate.

The paper trains FileQA from shallow to deep folders and DangerousTaxi from picking up, to dropping
off, to the full task. :data:`CURRICULA` names those sequences; any list of registered ids works.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

#: Named stage sequences, easiest first.
CURRICULA: dict[str, tuple[str, ...]] = {
    "taxi": ("ReflectRL/DangerousTaxi-Pickup-v0", "ReflectRL/DangerousTaxi-Dropoff-v0", "ReflectRL/DangerousTaxi-v0"),
    "fileqa": ("ReflectRL/FileQA-Depth1-v0", "ReflectRL/FileQA-Depth2-v0", "ReflectRL/FileQA-v0"),
}


@dataclass
class CurriculumConfig:
    """How training moves through its stages.

    Attributes:
        stages: Env ids, easiest first; a name from :data:`CURRICULA` (``"taxi"``, ``"fileqa"``) as the
            only item stands for its sequence. Empty: train on the run's ``env_id`` alone.
        switch: ``"schedule"`` (a fixed number of iterations per stage) or ``"success"`` (move on once
            the success rate over the last ``window`` iterations reaches ``success_threshold``).
        stage_iterations: With ``"schedule"``: iterations spent in each stage but the last (which runs
            to the end of training).
        success_threshold: With ``"success"``: the success rate, in [0, 1], that ends a stage.
        window: With ``"success"``: iterations averaged; a stage lasts at least this long.
    """

    stages: tuple[str, ...] = ()
    switch: Literal["schedule", "success"] = "success"
    stage_iterations: tuple[int, ...] = ()
    success_threshold: float = 0.8
    window: int = 3

    def __post_init__(self) -> None:
        if len(self.stages) == 1 and self.stages[0] in CURRICULA:
            self.stages = CURRICULA[self.stages[0]]
        self.stages = tuple(self.stages)
        self.stage_iterations = tuple(self.stage_iterations)
        if self.switch not in ("schedule", "success"):
            raise ValueError(f"switch must be 'schedule' or 'success', got {self.switch!r}.")
        if self.switch == "schedule" and len(self.stages) > 1 and len(self.stage_iterations) != len(self.stages) - 1:
            raise ValueError(
                f"A schedule over {len(self.stages)} stages needs {len(self.stages) - 1} stage_iterations "
                f"(one per stage but the last), got {list(self.stage_iterations)}."
            )
        if any(n < 1 for n in self.stage_iterations):
            raise ValueError(f"stage_iterations must all be >= 1, got {list(self.stage_iterations)}.")
        if not 0.0 <= self.success_threshold <= 1.0:
            raise ValueError(f"success_threshold must lie in [0, 1], got {self.success_threshold}.")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}.")


@dataclass
class Curriculum:
    """The current stage and what decides the next one.

    Args:
        config: The stages and the switching rule.
        default_env_id: The env trained on when ``config.stages`` is empty.
    """

    config: CurriculumConfig
    default_env_id: str
    stage: int = 0
    iterations_in_stage: int = 0
    _recent: deque[float] = field(default_factory=deque, repr=False)

    @property
    def stages(self) -> tuple[str, ...]:
        """The env ids, in order (the default env alone when no stages are configured)."""
        return self.config.stages or (self.default_env_id,)

    @property
    def env_id(self) -> str:
        """The env id of the current stage."""
        return self.stages[self.stage]

    @property
    def is_last(self) -> bool:
        """Whether the current stage is the final one."""
        return self.stage == len(self.stages) - 1

    def update(self, success_rate: float) -> bool:
        """Record one iteration's success rate; move to the next stage when due. Return whether it moved."""
        self.iterations_in_stage += 1
        self._recent.append(float(success_rate))
        while len(self._recent) > self.config.window:
            self._recent.popleft()
        if self.is_last:
            return False
        if self.config.switch == "schedule":
            due = self.iterations_in_stage >= self.config.stage_iterations[self.stage]
        else:
            full = len(self._recent) == self.config.window
            due = full and sum(self._recent) / len(self._recent) >= self.config.success_threshold
        if due:
            self.stage += 1
            self.iterations_in_stage = 0
            self._recent.clear()
        return due

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serializable snapshot (the stage ids are kept to check the configuration on load)."""
        return {
            "stages": list(self.stages),
            "stage": self.stage,
            "iterations_in_stage": self.iterations_in_stage,
            "recent": list(self._recent),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`state_dict`."""
        if list(state["stages"]) != list(self.stages):
            raise ValueError(
                f"The checkpoint's curriculum stages {state['stages']} differ from this run's {list(self.stages)}; "
                "resume with the same configuration."
            )
        self.stage = int(state["stage"])
        self.iterations_in_stage = int(state["iterations_in_stage"])
        self._recent = deque(float(x) for x in state["recent"])
