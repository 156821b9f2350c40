"""reflect_gym: text decision benchmarks as Gymnasium environments.

``import reflect_gym`` registers every environment under the ``ReflectRL/`` namespace; ``gym.make``
accepts ``"reflect_gym:ReflectRL/<Name>-v0"`` without a prior import. The env contract is documented
in :mod:`reflect_gym.core` and in the README. Importing this package needs gymnasium and numpy only:
minigrid and alfworld are imported by the envs that use them.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from reflect_gym.core import CHARSET, InvalidActionError, PromptText, TextEnv
from reflect_gym.wrappers import TextActions

__version__ = "0.1.0"
__all__ = ["CHARSET", "BABYAI_LEVELS", "InvalidActionError", "PromptText", "TextActions", "TextEnv", "register_envs"]

#: BabyAI levels registered as ``ReflectRL/BabyAI-<Level>-v0``.
BABYAI_LEVELS: tuple[str, ...] = (
    "GoToRedBall",
    "GoToLocal",
    "PickupLocal",
    "PutNextLocal",
    "OpenDoor",
    "GoTo",
    "Pickup",
    "Unlock",
)


def register_envs() -> None:
    """Register every ReflectRL environment with Gymnasium (idempotent)."""
    specs: list[tuple[str, str, dict]] = [
        ("DangerousTaxi-v0", "reflect_gym.envs.taxi:DangerousTaxiEnv", {"stage": "full"}),
        ("DangerousTaxi-Pickup-v0", "reflect_gym.envs.taxi:DangerousTaxiEnv", {"stage": "pickup"}),
        ("DangerousTaxi-Dropoff-v0", "reflect_gym.envs.taxi:DangerousTaxiEnv", {"stage": "dropoff"}),
        ("FileQA-v0", "reflect_gym.envs.fileqa:FileQAEnv", {}),
        ("FileQA-Depth0-v0", "reflect_gym.envs.fileqa:FileQAEnv", {"depth": 0}),
        ("FileQA-Depth1-v0", "reflect_gym.envs.fileqa:FileQAEnv", {"depth": 1}),
        ("FileQA-Depth2-v0", "reflect_gym.envs.fileqa:FileQAEnv", {"depth": 2}),
        ("ALFWorld-v0", "reflect_gym.envs.alfworld:ALFWorldEnv", {}),
    ]
    specs += [
        (f"BabyAI-{level}-v0", "reflect_gym.envs.babyai:BabyAITextEnv", {"level": level}) for level in BABYAI_LEVELS
    ]
    for name, entry_point, kwargs in specs:
        env_id = f"ReflectRL/{name}"
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, kwargs=kwargs)


register_envs()
