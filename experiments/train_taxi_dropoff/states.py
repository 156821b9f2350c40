"""A policy's greedy choice in every DangerousTaxi state of a stage, against the shortest paths.

    python -m experiments.train_taxi_dropoff.states --policy runs/taxi-long/sft_policy --data runs/taxi-long/warmup.jsonl
    python -m experiments.train_taxi_dropoff.states --policy runs/taxi-reflect/sft_policy_reflect \
        --reflector runs/taxi-reflect/reflector_adapter --data runs/taxi-reflect/warmup.jsonl

Episode success hides where a policy goes wrong: one bad step ends a DangerousTaxi episode. This
script starts the env in each state the stage can visit (``reset(options={"state": s})``), asks the
policy for its greedy action, and counts actions that lie on a shortest path to the goal (any of them,
not only the expert's tie-break), actions that are wasted (they end the episode), and, with ``--data``,
the same split by whether the state's text appears in a warm-up file (seen in SFT or not).
``--states routes`` keeps only the states of the expert's episodes from each start state: an episode
that never strays sees only those, so they decide episode success. With
``--reflector`` the reflector writes its analysis of each state first (greedy) and the policy reads it,
as in a Reflect-RL episode; the analyses are kept in the output file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import gymnasium as gym

import reflect_gym  # noqa: F401  (registers the envs)
from reflect_gym.envs.taxi import DangerousTaxiEnv

STAGE_IDS = {
    "pickup": "ReflectRL/DangerousTaxi-Pickup-v0",
    "dropoff": "ReflectRL/DangerousTaxi-Dropoff-v0",
    "full": "ReflectRL/DangerousTaxi-v0",
}


def stage_states(env: DangerousTaxiEnv) -> list[int]:
    """The states an episode of ``env``'s stage can be in before its goal (dropoff: passenger aboard)."""
    states = []
    for state in range(500):
        aboard = (state // 4) % 5 == 4  # Taxi's encoding: ((row * 5 + column) * 5 + passenger) * 4 + destination
        if env.steps_to_goal(state) > env.horizon or (env.stage == "dropoff" and not aboard):
            continue
        if env.stage == "pickup" and aboard:
            continue
        states.append(state)
    return states


def route_states(env: DangerousTaxiEnv) -> list[int]:
    """The states of the expert's episodes from every start state of the stage, in the order it visits them.

    An episode that never strays visits only these (dropoff: 12 starts), so they decide episode success.
    """
    states: dict[int, None] = {}
    for start in env.start_states():
        env.reset(options={"state": start})
        while True:
            states[env.structured_observation()] = None
            _, _, terminated, truncated, _ = env.step(env.expert_action())
            if terminated or truncated:
                break
    return list(states)


STATE_SETS = {"all": stage_states, "routes": route_states}


def measure(
    policy, stage: str = "dropoff", data: str | None = None, batch_size: int = 16, reflector=None, states: str = "all"
) -> dict:
    """Greedy choices of ``policy`` (an :class:`reflect_agent.policy.LMPolicy`) in the states of ``stage``.

    ``states`` is ``"all"`` (:func:`stage_states`) or ``"routes"`` (:func:`route_states`).

    ``reflector`` (a :class:`reflect_agent.reflector.Reflector`, optional) writes an analysis of each state
    that the policy reads; the analyses come back under ``"reflections"``.
    """
    if states not in STATE_SETS:
        raise ValueError(f"states must be one of {sorted(STATE_SETS)}, got {states!r}.")
    env: DangerousTaxiEnv = gym.make(STAGE_IDS[stage]).unwrapped
    texts, good, wasted = [], [], []
    for state in STATE_SETS[states](env):
        _, info = env.reset(options={"state": state})
        texts.append(info["state"])
        good.append(set(env.shortest_path_actions()))
        wasted.append(set(env.wasted_actions()))
    actions = env.actions
    choices: list[int] = []
    reflections: list[str] = []
    for start in range(0, len(texts), batch_size):
        part = texts[start : start + batch_size]
        analyses = reflector.reflect(part, [actions] * len(part)) if reflector is not None else None
        choices += policy.act(part, [actions] * len(part), analyses, greedy=True)
        reflections += analyses or []
    seen = None
    if data is not None:
        seen = {json.loads(line)["state"] for line in Path(data).read_text().splitlines() if line.strip()}

    def counts(rows: list[int]) -> dict[str, int]:
        return {
            "states": len(rows),
            "shortest_path": sum(choices[i] in good[i] for i in rows),
            "wasted": sum(choices[i] in wasted[i] for i in rows),
        }

    everything = list(range(len(texts)))
    result = {"stage": stage, "states": states, "all": counts(everything)}
    if seen is not None:
        result["seen"] = counts([i for i in everything if texts[i] in seen])
        result["unseen"] = counts([i for i in everything if texts[i] not in seen])
    if reflector is not None:
        result["reflections"] = [
            {
                "state": texts[i],
                "reflection": reflections[i],
                "action": actions[choices[i]],
                "shortest_path": choices[i] in good[i],
            }
            for i in everything
        ]
    return result


@dataclass
class Args:
    """Count a policy checkpoint's shortest-path and wasted choices over every DangerousTaxi state.

    Attributes:
        policy: A policy checkpoint folder (``LMPolicy.save``), e.g. ``runs/<name>/sft_policy``.
        stage: ``pickup``, ``dropoff`` or ``full``.
        states: ``all`` the states of the stage, or only the ``routes`` the expert drives from each start
            state (what an episode that never strays sees).
        reflector: A reflector's LoRA adapter folder (``runs/<name>/reflector_adapter``), on the policy's base
            model: the policy then reads its analysis of each state.
        max_new_tokens: Token limit of one analysis.
        data: A warm-up JSON lines file: also split the counts by states seen in it.
        batch_size: States per forward pass.
        out: Write the counts here as JSON too.
    """

    policy: str
    stage: str = "dropoff"
    states: Literal["all", "routes"] = "all"
    reflector: str | None = None
    max_new_tokens: int = 64
    data: str | None = None
    batch_size: int = 16
    out: str | None = None


def main(args: Args) -> dict:
    from reflect_agent.checkpoint import atomic_write_json
    from reflect_agent.policy import LMPolicy
    from reflect_agent.reflector import Reflector, ReflectorConfig

    if args.stage not in STAGE_IDS:
        raise ValueError(f"stage must be one of {sorted(STAGE_IDS)}, got {args.stage!r}.")
    policy = LMPolicy.load(args.policy, trainable=False)
    reflector = None
    if args.reflector is not None:
        config = ReflectorConfig(
            model=policy.config.model,
            adapter=args.reflector,
            max_new_tokens=args.max_new_tokens,
            max_prompt_tokens=policy.config.max_prompt_tokens,
            autocast=policy.config.autocast,
        )
        reflector = Reflector.from_config(config)
    result = {
        "policy": args.policy,
        "reflector": args.reflector,
        **measure(policy, args.stage, args.data, args.batch_size, reflector=reflector, states=args.states),
    }
    for split in ("all", "seen", "unseen"):
        if split in result:
            c = result[split]
            print(
                f"{split:>6}: {c['states']} {args.states} states, shortest-path action in {c['shortest_path']} "
                f"({100 * c['shortest_path'] / max(c['states'], 1):.0f}%), wasted in {c['wasted']}"
            )
    if args.out:
        atomic_write_json(args.out, result)
    return result


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
