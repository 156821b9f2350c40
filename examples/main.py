"""The main job: warm up and train a Reflect-RL agent with SmolLM2 on this CPU, evaluated before and after.

    python -m examples.main                      # DangerousTaxi dropoff, about 15 minutes on 2 cores

Stages (all under ``runs/<name>/``):

1. Warm-up data from the env's expert, with wrong steps and recoveries (``warmup.jsonl``).
2. Zero-shot evaluation of the untouched model on held-out seeds (or FileQA's test split).
3. SFT of the reflector (LoRA) on the expert's analyses, and of the policy (LoRA) on the expert's
   labels with those analyses in its prompts.
4. Online RL (PPO, Monte-Carlo returns, replay of successes) with the frozen reflector.
5. Evaluation on the same held-out episodes; a table (``results.md``), the numbers (``results.json``)
   and a plot (``results.png``: success before and after with 95% intervals, and the RL curve).

The defaults are sized to finish within 20 minutes on a 2-core CPU (14 min 45 s measured): 40 expert
episodes of warm-up data, LoRA on the last 10 blocks, one SFT pass for the reflector and two for the
policy, four RL iterations of eight episodes, and prompts cut to their last 192 tokens (on DangerousTaxi
that keeps the coordinates of the taxi and the destination, the analysis and the actions, and drops the
map). That budget is too small for SmolLM2 to learn DangerousTaxi: 0/32 held-out episodes before and
after. ``benchmarks/results/train_taxi_dropoff/`` has longer runs and what they reached.

``--variant`` picks the ablation's arms: ``reflect-rl`` (the above), ``sft-rl`` (no reflector),
``sft`` (warm-up only) and ``rl`` (no warm-up). ``--artifacts-dir`` shares data and SFT results
between runs (``examples.ablation`` uses it), reusing whatever is already there. ``--variant rl
--init-policy FOLDER`` trains on from a saved policy (another run's, e.g. on other tasks) instead of the base model.

Run an interrupted command again to continue it: the warm-up data and finished SFT results are reused,
and an unfinished SFT resumes from its last checkpoint (``<folder>.checkpoints``, every
``--policy-sft.save-steps`` / ``--reflector-sft.save-steps`` steps). RL saves a checkpoint after every
iteration (``<run>/checkpoints/``) and continues from the newest one; with a larger ``--iterations`` the same
command trains a finished run on. Evaluations start over.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from reflect_agent.checkpoint import atomic_write_json
from reflect_agent.config import EVAL_SEED_OFFSET, RLConfig, TrainConfig, evaluation_kwargs, top_layers_lora_targets
from reflect_agent.curriculum import CurriculumConfig
from reflect_agent.evaluation import EvalResult, evaluate
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import ReflectRLTrainer, seed_everything
from reflect_agent.prompts import PromptTemplate
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.sft import SFTConfig, checkpoints_next_to, sft_policy, sft_reflector, summary
from reflect_agent.warmup import expert_records, read_jsonl, write_jsonl
from reflect_gym.files import atomic_write, make_folder

Variant = Literal["reflect-rl", "sft-rl", "sft", "rl"]


@dataclass
class MainArgs:
    """Warm up, train and evaluate an LM agent on one ReflectRL task family.

    Attributes:
        env_id: The task evaluated (and trained on, without a curriculum).
        name: The run's folder under ``output_dir``.
        output_dir: Parent folder of runs.
        artifacts_dir: Where warm-up data and SFT results are kept and reused (default: the run's folder).
        init_policy: With ``variant="rl"``, start RL from this saved policy (a folder written by ``LMPolicy.save``,
            such as ``runs/<name>/checkpoints/iter_000028/policy``) instead of the base model. Its own model, decider,
            template and prompt limit are used; ``model``, ``decider``, ``template``, ``max_prompt_tokens`` and the
            LoRA settings then apply only to the zero-shot evaluation.
        model: Base model of the policy and the reflector (``"smollm2"``, ``"tiny"``, ...).
        variant: ``reflect-rl`` | ``sft-rl`` | ``sft`` | ``rl`` (see the module docstring).
        env_kwargs: Extra ``gym.make`` arguments of training envs and warm-up data.
        eval_env_kwargs: Extra ``gym.make`` arguments of evaluation envs (``split test`` for FileQA); ``None``
            drops an argument of ``env_kwargs`` (``tasks None``: evaluate on FileQA's default corpus).
        data_episodes: Expert episodes of warm-up data (per curriculum stage).
        perturb_prob: Chance per step of a wrong step followed by the expert's recovery.
        look_ahead: Replay states to learn what each action does, for the analyses (turn off for envs
            with slow resets, like ALFWorld).
        policy_sft: The policy's warm-up.
        reflector_sft: The reflector's warm-up.
        max_new_tokens: Token limit of a reflection.
        max_prompt_tokens: Prompt limit of policy and reflector (longer states are cut, their first paragraph kept).
        decider: How the policy picks an action: ``labels`` (single-prompt enumeration) or ``scoring`` (each
            action's text scored after the prompt, all actions in one forward pass; SFT learns the text).
        template: The prompts' text around state, analysis and actions (``--template.action-line
            "{action} -> {label}"`` puts each label after its action).
        lora_layers: Put LoRA adapters on the last this many transformer blocks only (``None``: all);
            SFT and RL steps then skip the backward pass through the blocks below.
        policy_lora: Train the policy through LoRA adapters; off, SFT and RL update every weight of
            the LM (the reflector keeps its adapter; see ``benchmarks/results/train_taxi_dropoff/`` for
            both on DangerousTaxi).
        rl: The online update.
        temperature: Softmax temperature of the policy's actions in RL (sampling and the PPO update);
            below 1, rollouts stay closer to the warm-up's greedy choices. Evaluations are greedy.
        repeat_penalty: ``PolicyConfig.repeat_penalty`` of every policy of the run, the zero-shot one
            included: nats taken off an action's score for each time the episode already took it.
        curriculum: RL stages (warm-up data comes from each of them); none: ``env_id`` alone.
        iterations: RL iterations (0: stop after the warm-up and evaluate it, as ``sft`` does). A run folder
            with RL checkpoints continues from the newest; its other settings must be the same.
        num_envs: Episodes per RL iteration (and evaluation batch size).
        replay_episodes: Successful episodes replayed per iteration.
        eval_episodes: Held-out episodes per evaluation.
        eval_zero_shot: Evaluate the untouched model first.
        eval_after_sft: Also evaluate between warm-up and RL.
        autocast: bf16 autocast for the forward passes (policy, reflector, SFT).
        seed: Seeds everything.
        threads: ``torch.set_num_threads`` (``None``: torch's default; 1 helps on a shared, busy CPU).
        progress: Show progress bars.
    """

    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    name: str = "main"
    output_dir: str = "runs"
    artifacts_dir: str | None = None
    init_policy: str | None = None
    model: str = "smollm2"
    variant: Variant = "reflect-rl"
    env_kwargs: dict[str, int | float | str] = field(default_factory=dict)
    eval_env_kwargs: dict[str, int | float | str | None] = field(default_factory=dict)
    data_episodes: int = 40
    perturb_prob: float = 0.25
    look_ahead: bool = True
    policy_sft: SFTConfig = field(
        default_factory=lambda: SFTConfig(
            epochs=2.0, batch_size=8, learning_rate=3e-3, autocast=True, reflection_prob=0.8, logging_steps=20
        )
    )
    reflector_sft: SFTConfig = field(
        default_factory=lambda: SFTConfig(epochs=1.0, batch_size=8, learning_rate=1e-3, autocast=True)
    )
    max_new_tokens: int = 100
    max_prompt_tokens: int = 192
    decider: Literal["labels", "scoring"] = "labels"
    template: PromptTemplate = field(default_factory=PromptTemplate)
    lora_layers: int | None = 10
    policy_lora: bool = True
    rl: RLConfig = field(
        default_factory=lambda: RLConfig(learning_rate=2e-4, minibatch_size=16, micro_batch_size=8, update_epochs=1)
    )
    temperature: float = 1.0
    repeat_penalty: float = 0.0
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    iterations: int = 4
    num_envs: int = 8
    replay_episodes: int = 2
    eval_episodes: int = 32
    eval_zero_shot: bool = True
    eval_after_sft: bool = False
    autocast: bool = True
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    @property
    def reflects(self) -> bool:
        """Whether this variant uses the reflector."""
        return self.variant == "reflect-rl"


def warmup_records(args: MainArgs, artifacts: Path) -> list:
    """The warm-up records (from every curriculum stage), generated once per artifacts folder."""
    path = artifacts / "warmup.jsonl"
    if path.is_file():
        return read_jsonl(path)
    records = []
    for env_id in args.curriculum.stages or (args.env_id,):
        records += expert_records(
            env_id,
            range(args.data_episodes),
            perturb_prob=args.perturb_prob,
            env_kwargs=dict(args.env_kwargs),
            rng_seed=args.seed,
            look_ahead=args.look_ahead,
        )
    write_jsonl(records, path)
    return records


def lora_targets(args: MainArgs) -> list[str] | None:
    """The LoRA target modules of ``args`` (``None``: the architecture's defaults in every block)."""
    return None if args.lora_layers is None else top_layers_lora_targets(args.model, args.lora_layers)


def policy_config(args: MainArgs) -> PolicyConfig:
    """The policy's configuration for ``args``."""
    return PolicyConfig(
        model=args.model,
        autocast=args.autocast,
        max_prompt_tokens=args.max_prompt_tokens,
        template=args.template,
        decider=args.decider,
        repeat_penalty=args.repeat_penalty,
        lora=args.policy_lora,
        lora_target_modules=lora_targets(args) if args.policy_lora else None,
    )


def trained_reflector(args: MainArgs, records: list, artifacts: Path, timings: dict[str, float]) -> Reflector:
    """The reflector, warmed up once per artifacts folder (its LoRA adapter is reused after)."""
    adapter = artifacts / "reflector_adapter"
    if not adapter.is_dir():
        start = time.perf_counter()
        _, result = sft_reflector(
            args.model,
            records,
            args.reflector_sft,
            adapter,
            lora_target_modules=lora_targets(args),
            max_prompt_tokens=args.max_prompt_tokens,
            template=args.template,
            checkpoint_dir=checkpoints_next_to(adapter),
            progress=args.progress,
        )
        shutil.rmtree(checkpoints_next_to(adapter), ignore_errors=True)
        timings["sft_reflector_s"] = time.perf_counter() - start
        print(f"reflector SFT: {summary(result)}", flush=True)
    config = ReflectorConfig(
        model=args.model,
        adapter=str(adapter),
        max_new_tokens=args.max_new_tokens,
        max_prompt_tokens=args.max_prompt_tokens,
        template=args.template,
        autocast=args.autocast,
    )
    return Reflector.from_config(config)


def warmed_up_policy(args: MainArgs, records: list, artifacts: Path, timings: dict[str, float]) -> LMPolicy:
    """The policy after SFT (with reflections in its prompts for ``reflect-rl``), reused once trained.

    Its folder is named after what sets it apart: ``sft_policy``, then ``_reflect``, the decider when it is not
    ``labels`` and the SFT objective when it is not ``completion`` (``sft_policy_scoring_policy-objective``).
    """
    name = "sft_policy_reflect" if args.reflects else "sft_policy"
    if args.decider != "labels":
        name += f"_{args.decider}"
    if args.policy_sft.objective != "completion":
        name += f"_{args.policy_sft.objective}-objective"
    folder = artifacts / name
    if folder.is_dir():
        return LMPolicy.load(folder, trainable=True)
    policy = LMPolicy.from_config(policy_config(args))
    sft = args.policy_sft if args.reflects else dataclasses.replace(args.policy_sft, reflection_prob=0.0)
    start = time.perf_counter()
    result = sft_policy(policy, records, sft, checkpoint_dir=checkpoints_next_to(folder), progress=args.progress)
    timings["sft_policy_s"] = time.perf_counter() - start
    print(f"policy SFT: {summary(result)}", flush=True)
    policy.save(folder)
    shutil.rmtree(checkpoints_next_to(folder), ignore_errors=True)
    return policy


def held_out(args: MainArgs, policy: LMPolicy, reflector: Reflector | None) -> EvalResult:
    """Greedy evaluation on the held-out episodes (the same ones for every stage and variant)."""
    return evaluate(
        policy,
        reflector,
        args.env_id,
        range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.eval_episodes),
        num_envs=args.num_envs,
        env_kwargs=evaluation_kwargs(args.env_kwargs, args.eval_env_kwargs),
    )


def reference_success(args: MainArgs, spec: str) -> tuple[int, int]:
    """Successes of a reference agent (``"random"`` or ``"expert"``) on the held-out episodes."""
    import gymnasium as gym

    from reflect_agent.agents import count_successes, make_agent

    env = gym.make(args.env_id, **evaluation_kwargs(args.env_kwargs, args.eval_env_kwargs))
    seeds = range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + args.eval_episodes)
    successes = count_successes(env, make_agent(spec, env), seeds)
    env.close()
    return successes, len(seeds)


def run(args: MainArgs) -> dict[str, Any]:
    """Run the stages of ``args``; return (and write) the results."""
    if args.variant == "rl" and args.iterations == 0:
        raise ValueError(
            "variant 'rl' with iterations=0 trains nothing; set --iterations >= 1 or pick another variant."
        )
    if args.init_policy is not None and args.variant != "rl":
        raise ValueError(
            f"init_policy starts RL from a saved policy instead of a warm-up, so it takes --variant rl, not "
            f"{args.variant!r}."
        )
    if args.temperature <= 0:
        raise ValueError(f"temperature must be positive, got {args.temperature}; evaluations are greedy already.")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    run_dir = Path(args.output_dir) / args.name
    artifacts = Path(args.artifacts_dir) if args.artifacts_dir else run_dir
    make_folder(run_dir)
    make_folder(artifacts)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    evaluations: dict[str, EvalResult] = {}

    def record(stage: str, result: EvalResult) -> None:
        evaluations[stage] = result
        timings[f"eval_{stage.replace(' ', '_')}_s"] = result.seconds
        print(f"{stage:>10}: {result.row()} ({result.seconds:.0f} s)", flush=True)

    references = {spec: reference_success(args, spec) for spec in ("random", "expert")}
    for spec, (successes, episodes) in references.items():
        print(
            f"{spec:>10}: success {100 * successes / episodes:.1f}% ({successes}/{episodes}) on the held-out episodes"
        )

    records = [] if args.variant == "rl" else warmup_records(args, artifacts)  # "rl" warms nothing up
    if args.eval_zero_shot:
        record("zero-shot", held_out(args, LMPolicy.from_config(policy_config(args)), None))

    reflector = trained_reflector(args, records, artifacts, timings) if args.reflects else None
    if args.init_policy is not None:
        policy = LMPolicy.load(args.init_policy, trainable=True)
    elif args.variant == "rl":
        policy = LMPolicy.from_config(policy_config(args))
    else:
        policy = warmed_up_policy(args, records, artifacts, timings)
    policy.config = dataclasses.replace(policy.config, repeat_penalty=args.repeat_penalty)
    trains_online = args.variant != "sft" and args.iterations > 0
    if args.eval_after_sft or not trains_online:
        record("after SFT", held_out(args, policy, reflector))

    curve: list[dict[str, Any]] = []
    if trains_online:
        policy.config = dataclasses.replace(policy.config, temperature=args.temperature)
        config = TrainConfig(
            name=args.name,
            output_dir=args.output_dir,
            env_id=args.env_id,
            env_kwargs=dict(args.env_kwargs),
            eval_env_kwargs=dict(args.eval_env_kwargs),
            num_envs=args.num_envs,
            iterations=args.iterations,
            seed=args.seed,
            use_reflector=args.reflects,
            policy=policy.config,
            rl=args.rl,
            curriculum=args.curriculum,
            replay_episodes=args.replay_episodes,
            checkpoint_every=1,
            resume=True,
            progress=args.progress,
            threads=args.threads,
        )
        start = time.perf_counter()
        trainer = ReflectRLTrainer(config, policy=policy, reflector=reflector)
        curve = trainer.train()
        timings["rl_s"] = time.perf_counter() - start
        record("after RL", held_out(args, trainer.policy, reflector))

    timings["total_s"] = time.perf_counter() - started
    results = {
        "args": dataclasses.asdict(args),
        "evaluations": {stage: dataclasses.asdict(result) for stage, result in evaluations.items()},
        "reference_success": {spec: {"successes": k, "episodes": n} for spec, (k, n) in references.items()},
        "timings": timings,
        "torch_threads": torch.get_num_threads(),
    }
    atomic_write_json(run_dir / "results.json", results)
    atomic_write(run_dir / "results.md", results_table(args, evaluations, timings))
    atomic_write(run_dir / "results.png", results_plot(args, evaluations, curve))
    print(results_table(args, evaluations, timings), flush=True)
    print(f"Results written to {run_dir}/ (results.md, results.json, results.png)", flush=True)
    return results


def results_table(args: MainArgs, evaluations: dict[str, EvalResult], timings: dict[str, float]) -> str:
    """A Markdown table of the evaluations, with the run's timings below."""
    lines = [
        f"## {args.env_id}, {args.model}, variant {args.variant}",
        "",
        f"Held-out episodes: {args.eval_episodes} (seeds from {EVAL_SEED_OFFSET}"
        + (f", env kwargs {dict(args.eval_env_kwargs)}" if args.eval_env_kwargs else "")
        + "), greedy actions. Zero-shot: the untouched model, no reflection.",
        "",
        "| stage | success | 95% interval | mean return | mean length |",
        "|---|---|---|---|---|",
    ]
    for stage, r in evaluations.items():
        lines.append(
            f"| {stage} | {100 * r.success_rate:.1f}% ({r.successes}/{r.episodes}) | "
            f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] | {r.mean_return:+.3f} | {r.mean_length:.1f} |"
        )
    lines += ["", "Seconds: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f}" for k, v in timings.items()), ""]
    return "\n".join(lines)


def results_plot(args: MainArgs, evaluations: dict[str, EvalResult], curve: list[dict[str, Any]]) -> bytes:
    """PNG: held-out success per stage with 95% intervals, and the training success per RL iteration."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    bars, line = figure.subplots(1, 2)
    stages = list(evaluations)
    rates = [100 * evaluations[s].success_rate for s in stages]
    errors = [
        [rate - 100 * evaluations[s].ci_low for s, rate in zip(stages, rates, strict=True)],
        [100 * evaluations[s].ci_high - rate for s, rate in zip(stages, rates, strict=True)],
    ]
    bars.bar(stages, rates, yerr=errors, capsize=6, color=["#999999", "#6a9fd4", "#2b6cb0"][: len(stages)])
    bars.set_ylim(0, 100)
    bars.set_ylabel("held-out success (%)")
    bars.set_title(f"{args.env_id.split('/')[-1]} ({args.variant})")
    if curve:
        xs = [row["iteration"] for row in curve]
        line.plot(xs, [100 * row["env/success_rate"] for row in curve], marker="o")
    line.set_ylim(0, 100)
    line.set_xlabel("RL iteration")
    line.set_ylabel("training success (%)")
    line.set_title("online RL")
    line.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


if __name__ == "__main__":
    import tyro

    run(tyro.cli(MainArgs))
