"""``reflect-rl data``: write warm-up records (:mod:`reflect_agent.warmup`) as JSON lines.

reflect-rl data --env-id ReflectRL/DangerousTaxi-Dropoff-v0 --seeds 200 --out data/taxi.jsonl
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import tyro

from reflect_agent.agents import OpenAIChatAgent, make_agent
from reflect_agent.warmup import (
    LMReflectionWriter,
    ReflectionWriter,
    TemplateWriter,
    expert_records,
    policy_records,
    write_jsonl,
)


@dataclass
class DataArgs:
    """Generate warm-up data from an env's expert.

    Attributes:
        env_id: A registered env id.
        out: The JSON lines file to write.
        seeds: Episodes to play, on seeds ``first_seed .. first_seed + seeds - 1``.
        first_seed: The first reset seed (keep training seeds apart from evaluation seeds).
        perturb_prob: Chance per step of a wrong step followed by the expert's recovery.
        horizon: Override the env's horizon (``None``: the registered default).
        rng_seed: Seeds wrong-step choices and template wordings.
        look_ahead: Replay states to learn what each action does (off for envs with slow resets).
        openai_model: Have this model write the reflections through an OpenAI-compatible endpoint
            (``$OPENAI_BASE_URL``, ``$OPENAI_API_KEY``); the templates cover replies that name a label.
        openai_base_url: The endpoint (default ``$OPENAI_BASE_URL``).
        env_kwargs: Extra ``gym.make`` arguments (``tasks runs/named/tasks.jsonl leaveout_prob 0.5``).
        agent: Record the states this agent visits, labelled by the expert
            (:func:`reflect_agent.warmup.policy_records`, DAgger): an agent spec of
            :func:`reflect_agent.agents.make_agent`, e.g. ``lm:runs/x/policy``. ``None``: the expert
            plays, with wrong steps (:func:`reflect_agent.warmup.expert_records`).
        expert_prob: With ``agent``, the chance per step of taking the expert's action instead.
        repeat_penalty: With an ``lm:`` agent, its ``PolicyConfig.repeat_penalty`` (``None``: a checkpoint's own).
    """

    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    out: str = "data/warmup.jsonl"
    seeds: int = 200
    first_seed: int = 0
    perturb_prob: float = 0.25
    horizon: int | None = None
    rng_seed: int = 0
    look_ahead: bool = True
    openai_model: str | None = None
    openai_base_url: str | None = None
    env_kwargs: dict[str, int | float | str] = field(default_factory=dict)
    agent: str | None = None
    expert_prob: float = 0.5
    repeat_penalty: float | None = None


def run(args: DataArgs) -> int:
    """Write the records of ``args`` and print a summary."""
    kwargs = dict(args.env_kwargs) | ({} if args.horizon is None else {"horizon": args.horizon})
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    writer: ReflectionWriter = TemplateWriter()
    if args.openai_model is not None:
        chat = OpenAIChatAgent(
            model=args.openai_model,
            base_url=args.openai_base_url,
            temperature=0.7,
            max_tokens=160,
            system_prompt="You write short, concrete analyses of game states for an agent learning to play.",
        )
        writer = LMReflectionWriter(chat.complete, args.openai_model)
    common = {"env_kwargs": kwargs, "writer": writer, "rng_seed": args.rng_seed, "look_ahead": args.look_ahead}
    if args.agent is None:
        records = expert_records(args.env_id, seeds, perturb_prob=args.perturb_prob, **common)
    else:
        options = {} if args.repeat_penalty is None else {"repeat_penalty": args.repeat_penalty}
        agent = make_agent(args.agent, **options)
        records = policy_records(args.env_id, seeds, agent, expert_prob=args.expert_prob, **common)
    write_jsonl(records, args.out)
    recoveries = sum(r.kind == "recovery" for r in records)
    print(f"wrote {len(records)} records ({recoveries} after a wrong step) from {args.seeds} episodes to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl data ARGV``."""
    return run(tyro.cli(DataArgs, args=argv, prog="reflect-rl data", description=__doc__))


if __name__ == "__main__":
    sys.exit(main())
