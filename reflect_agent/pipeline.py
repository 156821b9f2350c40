"""The two-player recipe as one job: warm-up data, zero-shot, SFT of reflector and policy, online RL, evaluation.

    reflect-rl train                          # the cpu preset: SmolLM2 on BabyAI GoToRedBall, group RL
    reflect-rl train --preset fileqa --rl.iterations 8

Stages (all under ``<output_dir>/<name>/``):

1. Warm-up data from the env's expert, with wrong steps and recoveries (``warmup.jsonl``).
2. Zero-shot evaluation of the untouched model on held-out seeds (or FileQA's test split).
3. SFT of the reflector (LoRA) on the expert's analyses, and of the policy (LoRA) on the expert's labels with
   those analyses in its prompts (or, with ``warmup.policy_reads="reflector"``, the warmed-up reflector's analyses
   of the same states).
4. Online RL (:class:`reflect_agent.ppo.ReflectRLTrainer`) with the frozen reflector.
5. Evaluation on the same held-out episodes; a table (``results.md``), the numbers (``results.json``) and a plot
   (``results.png``: success per stage with 95% intervals, and the RL curve).

:class:`PipelineConfig` is one tree: the run, the agent (:class:`AgentConfig`), the warm-up
(:class:`WarmupConfig`), online RL (:class:`OnlineConfig`) and the held-out evaluation (:class:`HeldOutConfig`).
Presets live in :mod:`reflect_agent.presets`.

``variant`` picks the ablation's arms: ``reflect-rl`` (the above), ``sft-rl`` (no reflector), ``sft`` (warm-up
only) and ``rl`` (no warm-up). ``artifacts_dir`` shares warm-up data and SFT results between runs. Run an
interrupted job again to continue it: warm-up data and finished SFT results are reused, an unfinished SFT resumes
from its last checkpoint, and RL continues from its newest checkpoint (with a larger ``rl.iterations`` a finished
run trains on). Evaluations start over. Each kept artifact records the settings that made it
(``<artifact>.settings.json``); a rerun with other settings is refused with the settings that differ, and
``--overwrite`` rebuilds what they change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from reflect_agent.checkpoint import atomic_write_json, seed_everything
from reflect_agent.config import (
    EVAL_SEED_OFFSET,
    RLConfig,
    TrainConfig,
    check_groups,
    evaluation_kwargs,
    top_layers_lora_targets,
)
from reflect_agent.curriculum import CurriculumConfig
from reflect_agent.distributed import launched_processes
from reflect_agent.evaluation import EvalResult, evaluate, reference_successes
from reflect_agent.models import native_bf16
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import ReflectRLTrainer, changed_settings
from reflect_agent.prompts import PromptTemplate, reflector_state
from reflect_agent.reflector import Reflector, ReflectorConfig
from reflect_agent.report import results_plot, results_table
from reflect_agent.sft import SFTConfig, checkpoints_next_to, sft_policy, sft_reflector, summary, trained_settings
from reflect_agent.warmup import StepRecord, expert_records, read_jsonl, write_jsonl
from reflect_gym.files import atomic_write, check_replaceable, make_folder

Variant = Literal["reflect-rl", "sft-rl", "sft", "rl"]


@dataclass
class AgentConfig:
    """The LM both players start from, and how the policy reads and decides.

    Attributes:
        model: Base model of the policy and the reflector (``"smollm2"``, ``"tiny"``, a folder, a hub id).
        init_policy: With ``variant="rl"``, start RL from this saved policy (a folder written by ``LMPolicy.save``)
            instead of the base model. Its own model, decider, template and prompt limit are used; the settings
            here then apply only to the zero-shot evaluation.
        decider: ``labels`` (single-prompt enumeration) or ``scoring`` (each action's text scored after the
            prompt, all actions in one forward pass; SFT learns the text).
        template: The prompts' text around state, analysis and actions.
        max_prompt_tokens: Prompt limit of the policy, and of the reflector unless ``reflector_prompt_tokens`` is set
            (longer states are cut, their first paragraph kept).
        reflector_prompt_tokens: The reflector's prompt limit (``None``: ``max_prompt_tokens``). The reflector's prompt
            has no analysis in it, and its SFT and generation cost grow with it.
        max_new_tokens: Token limit of a reflection.
        lora_layers: Put LoRA adapters on the last this many transformer blocks only (``None``: all).
        policy_lora: Train the policy through LoRA adapters; off, SFT and RL update every weight of the LM (the
            reflector keeps its adapter).
        temperature: Softmax temperature of the policy's actions in RL (evaluations are greedy).
        repeat_penalty: ``PolicyConfig.repeat_penalty`` of every policy of the run, the zero-shot one included.
        autocast: bf16 autocast for the forward passes of policy and reflector (the SFT passes have their own
            ``SFTConfig.autocast``). :func:`run` turns every one of them off, and says so, where the device does not
            run bf16 in hardware (:func:`reflect_agent.models.native_bf16`): emulated bf16 is several times slower
            than fp32.
    """

    model: str = "smollm2"
    init_policy: str | None = None
    decider: Literal["labels", "scoring"] = "labels"
    template: PromptTemplate = field(default_factory=PromptTemplate)
    max_prompt_tokens: int = 192
    reflector_prompt_tokens: int | None = None
    max_new_tokens: int = 100
    lora_layers: int | None = 10
    policy_lora: bool = True
    temperature: float = 1.0
    repeat_penalty: float = 0.0
    autocast: bool = True

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}; evaluations are greedy already.")

    @property
    def reflector_tokens(self) -> int:
        """The reflector's prompt limit: ``reflector_prompt_tokens``, else ``max_prompt_tokens``."""
        return self.reflector_prompt_tokens or self.max_prompt_tokens


@dataclass
class WarmupConfig:
    """Warm-up data from the expert, and the SFT of both players on it.

    Attributes:
        episodes: Expert episodes of warm-up data (per curriculum stage).
        perturb_prob: Chance per step of a wrong step followed by the expert's recovery.
        look_ahead: Replay states to learn what each action does, for the analyses (off for envs with slow
            resets, like ALFWorld).
        policy_sft: The policy's warm-up.
        reflector_sft: The reflector's warm-up.
        policy_reads: The analyses in the policy's SFT prompts: ``"expert"``, the warm-up data's own (what the
            reflector learns to write); ``"reflector"``, what the warmed-up reflector writes for the same states,
            so the policy learns from the analyses it will be given, right or wrong (a reflector that names the
            expert's action half the time teaches a policy trained on the expert's analyses to follow it blindly:
            ``experiments/policy_reads_reflector``). Costs a reflection per warm-up state.
    """

    episodes: int = 40
    perturb_prob: float = 0.25
    look_ahead: bool = True
    policy_reads: Literal["expert", "reflector"] = "expert"
    policy_sft: SFTConfig = field(
        default_factory=lambda: SFTConfig(
            epochs=2.0, batch_size=8, learning_rate=3e-3, autocast=True, reflection_prob=0.8, logging_steps=20
        )
    )
    reflector_sft: SFTConfig = field(
        default_factory=lambda: SFTConfig(epochs=1.0, batch_size=8, learning_rate=1e-3, autocast=True)
    )


@dataclass
class OnlineConfig:
    """Online RL with the frozen reflector.

    Attributes:
        iterations: RL iterations (0: stop after the warm-up and evaluate it). A run folder with RL checkpoints
            continues from the newest; its other settings must be the same.
        num_envs: Episodes per RL iteration (and the evaluation batch size).
        group_size: Episodes per reset seed in an iteration (a group rollout); the group estimators of ``update``
            (``grpo``, ``rloo``, ``gigpo``) need at least 2.
        replay_episodes: Successful episodes replayed per iteration (0 with a group estimator).
        update: The policy update.
        curriculum: RL stages (warm-up data comes from each of them); none: ``env_id`` alone.
    """

    iterations: int = 4
    num_envs: int = 8
    group_size: int = 1
    replay_episodes: int = 2
    update: RLConfig = field(
        default_factory=lambda: RLConfig(learning_rate=2e-4, minibatch_size=16, micro_batch_size=8, update_epochs=1)
    )
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)

    def __post_init__(self) -> None:
        if self.iterations < 0 or self.num_envs < 1:
            raise ValueError(
                f"rl.iterations must be >= 0 and rl.num_envs >= 1, got {self.iterations} and {self.num_envs}."
            )
        check_groups(self.num_envs, self.group_size, self.update, self.replay_episodes, prefix="rl.")


@dataclass
class HeldOutConfig:
    """The held-out evaluation, the same episodes for every stage and variant.

    Attributes:
        episodes: Held-out episodes per evaluation (seeds from ``EVAL_SEED_OFFSET`` up).
        env_kwargs: ``gym.make`` arguments of evaluation envs over the run's ``env_kwargs`` (``split test`` for
            FileQA); ``None`` drops an argument (``tasks None``: evaluate on FileQA's default corpus).
        zero_shot: Evaluate the untouched model first.
        after_sft: Also evaluate between warm-up and RL.
        num_envs: Episodes played at once (the batch of the policy's and the reflector's forward passes);
            ``None``: ``rl.num_envs``. Larger batches cost less per episode; greedy results can differ only where
            two actions nearly tie, through the batch's rounding.
    """

    episodes: int = 32
    env_kwargs: dict[str, int | float | str | None] = field(default_factory=dict)
    zero_shot: bool = True
    after_sft: bool = False
    num_envs: int | None = None

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"eval.episodes must be at least 1, got {self.episodes}.")
        if self.num_envs is not None and self.num_envs < 1:
            raise ValueError(f"eval.num_envs must be at least 1 (or None: rl.num_envs), got {self.num_envs}.")


@dataclass
class PipelineConfig:
    """Warm up, train and evaluate an LM agent on one ReflectRL task family.

    Attributes:
        env_id: The task evaluated (and trained on, without a curriculum).
        name: The run's folder under ``output_dir``.
        output_dir: Parent folder of runs.
        artifacts_dir: Where warm-up data and SFT results are kept and reused (default: the run's folder).
        variant: ``reflect-rl`` | ``sft-rl`` | ``sft`` | ``rl`` (see the module docstring).
        env_kwargs: Extra ``gym.make`` arguments of training envs and warm-up data.
        horizon: The envs' horizon, for training, warm-up data and evaluation (``None``: the registered default).
        agent: The LM and how it decides.
        warmup: Warm-up data and SFT.
        rl: Online RL.
        eval: The held-out evaluation.
        seed: Seeds everything.
        threads: ``torch.set_num_threads`` (``None``: torch's default; 1 helps on a shared, busy CPU).
        progress: Show progress bars.
        overwrite: Rebuild warm-up data, SFT results and RL checkpoints that were made with other settings. Without
            it such an artifact is an error that names the settings that differ (see :func:`reusable`).
    """

    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    name: str = "main"
    output_dir: str = "runs"
    artifacts_dir: str | None = None
    variant: Variant = "reflect-rl"
    env_kwargs: dict[str, int | float | str] = field(default_factory=dict)
    horizon: int | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    warmup: WarmupConfig = field(default_factory=WarmupConfig)
    rl: OnlineConfig = field(default_factory=OnlineConfig)
    eval: HeldOutConfig = field(default_factory=HeldOutConfig)
    seed: int = 0
    threads: int | None = None
    progress: bool = True
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.variant != "rl" and self.warmup.episodes < 1:
            raise ValueError(
                f"warmup.episodes must be >= 1 for variant {self.variant!r}, got {self.warmup.episodes}; only "
                "variant 'rl' trains without warm-up data."
            )
        if self.variant == "rl" and self.rl.iterations == 0:
            raise ValueError(
                "variant 'rl' with rl.iterations=0 trains nothing; set --rl.iterations >= 1 or pick another variant."
            )
        if self.agent.init_policy is not None and self.variant != "rl":
            raise ValueError(
                "agent.init_policy starts RL from a saved policy instead of a warm-up, so it takes --variant rl, "
                f"not {self.variant!r}."
            )
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads}.")

    @property
    def reflects(self) -> bool:
        """Whether this variant uses the reflector."""
        return self.variant == "reflect-rl"

    @property
    def held_out_seeds(self) -> range:
        """The reset seeds of the held-out episodes."""
        return range(EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + self.eval.episodes)

    @property
    def train_kwargs(self) -> dict[str, Any]:
        """The ``gym.make`` arguments of training envs and warm-up data: ``env_kwargs`` and the horizon."""
        return {**self.env_kwargs, **({} if self.horizon is None else {"horizon": self.horizon})}

    @property
    def eval_kwargs(self) -> dict[str, Any]:
        """The ``gym.make`` arguments of evaluation envs."""
        return evaluation_kwargs(self.train_kwargs, self.eval.env_kwargs)


class StaleArtifactError(ValueError):
    """A kept artifact (warm-up data, an SFT result, RL checkpoints) was made with other settings than the run's."""


def as_settings(value: Any) -> Any:
    """``value`` (dataclasses, tuples and all) as the JSON value it is saved as."""
    return json.loads(json.dumps(value, default=_dataclass_dict))


def _dataclass_dict(value: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(value):
        raise TypeError(f"{type(value).__name__} is not a setting (a dataclass or JSON value).")
    return dataclasses.asdict(value)


def reusable(artifact: Path, settings: dict[str, Any], *, overwrite: bool, partial: Path | None = None) -> bool:
    """Whether ``artifact`` exists and was made with ``settings``, which ``<artifact>.settings.json`` records.

    The record is written before the artifact is built, so an artifact is never kept under another run's record.
    An artifact made with other settings (or by an older reflect-rl, without a record), and the ``partial`` work
    towards one (an interrupted SFT's checkpoints), are deleted with ``overwrite`` and refused without it.

    Raises:
        StaleArtifactError: ``artifact`` or ``partial`` was made with other settings and ``overwrite`` is not set;
            the message names each setting that differs.
    """
    record = artifact.with_name(artifact.name + ".settings.json")
    saved = json.loads(record.read_text()) if record.is_file() else None
    if saved == settings:
        return os.path.lexists(artifact)
    stale = [path for path in (artifact, partial) if path is not None and os.path.lexists(path)]
    if stale and not overwrite:
        if saved is None:
            reason = "no record of the settings that made it (an older reflect-rl wrote it)"
        else:
            reason = "other settings: " + "; ".join(
                f"{key}: {old!r} -> {new!r}" for key, old, new in changed_settings(saved, settings)
            )
        raise StaleArtifactError(
            f"{stale[0]} was made with {reason}. Pass --overwrite to rebuild it, or use another --name (or "
            "--artifacts-dir) for a run with these settings."
        )
    for path in stale:
        check_replaceable(path)  # only the project's own files are deleted
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    atomic_write_json(record, settings)
    return False


def warmup_settings(config: PipelineConfig) -> dict[str, Any]:
    """What the warm-up data depends on."""
    return as_settings(
        {
            "env_ids": list(config.rl.curriculum.stages or (config.env_id,)),
            "episodes": config.warmup.episodes,
            "perturb_prob": config.warmup.perturb_prob,
            "look_ahead": config.warmup.look_ahead,
            "env_kwargs": config.train_kwargs,
            "seed": config.seed,
        }
    )


def warmup_records(config: PipelineConfig, artifacts: Path) -> list[StepRecord]:
    """The warm-up records (from every curriculum stage), generated once per artifacts folder and settings."""
    path = artifacts / "warmup.jsonl"
    if reusable(path, warmup_settings(config), overwrite=config.overwrite):
        return read_jsonl(path)
    records: list[StepRecord] = []
    for env_id in config.rl.curriculum.stages or (config.env_id,):
        records += expert_records(
            env_id,
            range(config.warmup.episodes),
            perturb_prob=config.warmup.perturb_prob,
            env_kwargs=config.train_kwargs,
            rng_seed=config.seed,
            look_ahead=config.warmup.look_ahead,
        )
    if not records:
        raise ValueError(
            f"The expert's {config.warmup.episodes} warm-up episodes of {config.env_id} gave no steps to learn from; "
            "raise --warmup.episodes."
        )
    write_jsonl(records, path)
    return records


def lora_targets(agent: AgentConfig) -> list[str] | None:
    """The LoRA target modules (``None``: the architecture's defaults in every block)."""
    return None if agent.lora_layers is None else top_layers_lora_targets(agent.model, agent.lora_layers)


def policy_config(agent: AgentConfig) -> PolicyConfig:
    """The policy's configuration."""
    return PolicyConfig(
        model=agent.model,
        autocast=agent.autocast,
        max_prompt_tokens=agent.max_prompt_tokens,
        template=agent.template,
        decider=agent.decider,
        repeat_penalty=agent.repeat_penalty,
        lora=agent.policy_lora,
        lora_target_modules=lora_targets(agent) if agent.policy_lora else None,
    )


def reflector_settings(config: PipelineConfig) -> dict[str, Any]:
    """What the warmed-up reflector depends on."""
    agent = config.agent
    return as_settings(
        {
            "warmup": warmup_settings(config),
            "model": agent.model,
            "lora_layers": agent.lora_layers,
            "max_prompt_tokens": agent.reflector_tokens,
            "template": agent.template,
            "sft": trained_settings(config.warmup.reflector_sft),
        }
    )


def policy_settings(config: PipelineConfig) -> dict[str, Any]:
    """What the warmed-up policy depends on (not the repeat penalty and temperature, which each run sets)."""
    sft = config.warmup.policy_sft
    policy = as_settings(policy_config(config.agent))
    del policy["repeat_penalty"], policy["temperature"]
    settings = {
        "warmup": warmup_settings(config),
        "policy": policy,
        "sft": trained_settings(sft if config.reflects else dataclasses.replace(sft, reflection_prob=0.0)),
    }
    if reads_reflector(config):
        settings["reads"] = reflector_settings(config)
    return as_settings(settings)


def reads_reflector(config: PipelineConfig) -> bool:
    """Whether the policy's SFT prompts hold the warmed-up reflector's analyses (``warmup.policy_reads``)."""
    return (
        config.reflects and config.warmup.policy_reads == "reflector" and config.warmup.policy_sft.reflection_prob > 0
    )


def trained_reflector(
    config: PipelineConfig, records: list[StepRecord], artifacts: Path, timings: dict[str, float]
) -> Reflector:
    """The reflector, warmed up once per artifacts folder and settings (its LoRA adapter is reused after)."""
    agent, adapter = config.agent, artifacts / "reflector_adapter"
    settings = reflector_settings(config)
    if not reusable(adapter, settings, overwrite=config.overwrite, partial=checkpoints_next_to(adapter)):
        start = time.perf_counter()
        _, result = sft_reflector(
            agent.model,
            records,
            config.warmup.reflector_sft,
            adapter,
            lora_target_modules=lora_targets(agent),
            max_prompt_tokens=agent.reflector_tokens,
            template=agent.template,
            checkpoint_dir=checkpoints_next_to(adapter),
            progress=config.progress,
        )
        shutil.rmtree(checkpoints_next_to(adapter), ignore_errors=True)
        timings["sft_reflector_s"] = time.perf_counter() - start
        print(f"reflector SFT: {summary(result)}", flush=True)
    return Reflector.from_config(
        ReflectorConfig(
            model=agent.model,
            adapter=str(adapter),
            max_new_tokens=agent.max_new_tokens,
            max_prompt_tokens=agent.reflector_tokens,
            template=agent.template,
            autocast=agent.autocast,
        )
    )


def warmed_up_policy(
    config: PipelineConfig,
    records: list[StepRecord],
    artifacts: Path,
    timings: dict[str, float],
    reflector: Reflector | None = None,
) -> LMPolicy:
    """The policy after SFT (with reflections in its prompts for ``reflect-rl``: the expert's, or ``reflector``'s
    for the same states with ``warmup.policy_reads="reflector"``), reused once trained.

    Its folder is named after what sets it apart: ``sft_policy``, then ``_reflect``, the decider when it is not
    ``labels`` and the SFT objective when it is not ``completion`` (``sft_policy_scoring_policy-objective``).
    """
    sft = config.warmup.policy_sft
    name = "sft_policy_reflect" if config.reflects else "sft_policy"
    if config.agent.decider != "labels":
        name += f"_{config.agent.decider}"
    if sft.objective != "completion":
        name += f"_{sft.objective}-objective"
    folder = artifacts / name
    if reusable(folder, policy_settings(config), overwrite=config.overwrite, partial=checkpoints_next_to(folder)):
        return LMPolicy.load(folder, trainable=True)
    policy = LMPolicy.from_config(policy_config(config.agent))
    sft = sft if config.reflects else dataclasses.replace(sft, reflection_prob=0.0)
    if reads_reflector(config):
        if reflector is None:
            raise ValueError('warmup.policy_reads="reflector" needs the warmed-up reflector; pass reflector=...')
        start = time.perf_counter()
        records = reflector_written(records, reflector)
        timings["reflect_warmup_s"] = time.perf_counter() - start
    start = time.perf_counter()
    result = sft_policy(policy, records, sft, checkpoint_dir=checkpoints_next_to(folder), progress=config.progress)
    timings["sft_policy_s"] = time.perf_counter() - start
    print(f"policy SFT: {summary(result)}", flush=True)
    policy.save(folder)
    shutil.rmtree(checkpoints_next_to(folder), ignore_errors=True)
    return policy


def reflector_written(records: list[StepRecord], reflector: Reflector) -> list[StepRecord]:
    """``records`` with the analyses ``reflector`` writes for their states in place of the expert's."""
    written = reflector.reflect(
        [reflector_state(r.state, r.previous_action) for r in records], [r.actions for r in records]
    )
    version = f"lm:{reflector.config.model}"
    return [
        dataclasses.replace(r, reflection=text, template_version=version)
        for r, text in zip(records, written, strict=True)
    ]


def held_out(config: PipelineConfig, policy: LMPolicy, reflector: Reflector | None) -> EvalResult:
    """Greedy evaluation on the held-out episodes (the same ones for every stage and variant)."""
    return evaluate(
        policy,
        reflector,
        config.env_id,
        config.held_out_seeds,
        num_envs=config.eval.num_envs or config.rl.num_envs,
        env_kwargs=config.eval_kwargs,
    )


def online_rl(
    config: PipelineConfig, policy: LMPolicy, reflector: Reflector | None
) -> tuple[ReflectRLTrainer, list[dict[str, Any]]]:
    """Train ``policy`` online (resuming from the run's newest RL checkpoint, when it started from the same policy
    and reflector); the trainer and its curve."""
    # The trainer checks its own settings on resume; what it started from is checked here.
    if config.agent.init_policy is not None:
        start = {"init_policy": str(Path(config.agent.init_policy).resolve())}
    elif config.variant == "rl":
        start = {"policy": as_settings(policy_config(config.agent))}
    else:
        start = policy_settings(config)
    reusable(
        Path(config.output_dir) / config.name / "checkpoints",
        {"start": start, "reflector": reflector_settings(config) if config.reflects else None},
        overwrite=config.overwrite,
    )
    policy.config = dataclasses.replace(policy.config, temperature=config.agent.temperature)
    train = TrainConfig(
        name=config.name,
        output_dir=config.output_dir,
        env_id=config.env_id,
        env_kwargs=dict(config.env_kwargs),
        eval_env_kwargs=dict(config.eval.env_kwargs),
        horizon=config.horizon,
        num_envs=config.rl.num_envs,
        group_size=config.rl.group_size,
        iterations=config.rl.iterations,
        seed=config.seed,
        use_reflector=config.reflects,
        policy=policy.config,
        rl=config.rl.update,
        curriculum=config.rl.curriculum,
        replay_episodes=config.rl.replay_episodes,
        checkpoint_every=1,
        resume=True,
        progress=config.progress,
        threads=config.threads,
    )
    trainer = ReflectRLTrainer(train, policy=policy, reflector=reflector)
    return trainer, trainer.train()


def in_hardware_precision(config: PipelineConfig) -> PipelineConfig:
    """``config`` with bf16 autocast off (the agent's and both SFT passes') where the device the run's models load on
    does not run bf16 in hardware, saying so; otherwise ``config`` itself."""
    asked = {
        "agent": config.agent.autocast,
        "policy SFT": config.warmup.policy_sft.autocast,
        "reflector SFT": config.warmup.reflector_sft.autocast,
    }
    if not any(asked.values()) or native_bf16():
        return config
    print(
        f"bf16 autocast off ({', '.join(name for name, on in asked.items() if on)}): this device emulates bf16, "
        "several times slower than fp32",
        flush=True,
    )
    warmup = dataclasses.replace(
        config.warmup,
        policy_sft=dataclasses.replace(config.warmup.policy_sft, autocast=False),
        reflector_sft=dataclasses.replace(config.warmup.reflector_sft, autocast=False),
    )
    return dataclasses.replace(config, agent=dataclasses.replace(config.agent, autocast=False), warmup=warmup)


def run(config: PipelineConfig) -> dict[str, Any]:
    """Run the stages of ``config``; return (and write) the results.

    Raises:
        ValueError: Launched in several processes (``accelerate launch``): the job runs in one; its stages have
            their own data-parallel commands (docs/scaling.md).
    """
    if launched_processes() > 1:
        raise ValueError(
            f"reflect-rl train runs in one process, and it was launched in {launched_processes()}. Run it with plain "
            "python, or launch its stages data-parallel: reflect-rl sft and python -m reflect_agent.ppo under "
            "accelerate launch (docs/scaling.md)."
        )
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    config = in_hardware_precision(config)
    seed_everything(config.seed)
    run_dir = make_folder(Path(config.output_dir) / config.name)
    artifacts = make_folder(Path(config.artifacts_dir)) if config.artifacts_dir else run_dir
    started = time.perf_counter()
    timings: dict[str, float] = {}
    evaluations: dict[str, EvalResult] = {}

    def record(stage: str, result: EvalResult) -> None:
        evaluations[stage] = result
        timings[f"eval_{stage.replace(' ', '_')}_s"] = result.seconds
        print(f"{stage:>10}: {result.row()} ({result.seconds:.0f} s)", flush=True)

    references = reference_successes(config.env_id, config.held_out_seeds, env_kwargs=config.eval_kwargs)
    for kind, successes in references.items():
        episodes = config.eval.episodes
        print(
            f"{kind:>10}: success {100 * successes / episodes:.1f}% ({successes}/{episodes}) on the held-out episodes"
        )

    records = [] if config.variant == "rl" else warmup_records(config, artifacts)  # "rl" warms nothing up
    if config.eval.zero_shot:
        record("zero-shot", held_out(config, LMPolicy.from_config(policy_config(config.agent)), None))

    reflector = trained_reflector(config, records, artifacts, timings) if config.reflects else None
    if config.agent.init_policy is not None:
        policy = LMPolicy.load(config.agent.init_policy, trainable=True)
    elif config.variant == "rl":
        policy = LMPolicy.from_config(policy_config(config.agent))
    else:
        policy = warmed_up_policy(config, records, artifacts, timings, reflector)
    policy.config = dataclasses.replace(policy.config, repeat_penalty=config.agent.repeat_penalty)
    trains_online = config.variant != "sft" and config.rl.iterations > 0
    if config.eval.after_sft or not trains_online:
        record("after SFT", held_out(config, policy, reflector))

    curve: list[dict[str, Any]] = []
    if trains_online:
        start = time.perf_counter()
        trainer, curve = online_rl(config, policy, reflector)
        timings["rl_s"] = time.perf_counter() - start
        record("after RL", held_out(config, trainer.policy, reflector))

    timings["total_s"] = time.perf_counter() - started
    results = {
        "config": dataclasses.asdict(config),
        "evaluations": {stage: dataclasses.asdict(result) for stage, result in evaluations.items()},
        "reference_success": {
            kind: {"successes": successes, "episodes": config.eval.episodes} for kind, successes in references.items()
        },
        "timings": timings,
        "torch_threads": torch.get_num_threads(),
    }
    title = f"{config.env_id}, {config.agent.model}, variant {config.variant}"
    table = results_table(title, config.held_out_seeds, evaluations, config.eval.env_kwargs)
    table += "\nSeconds: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f}" for k, v in timings.items()) + "\n"
    plot = results_plot(f"{config.env_id.split('/')[-1]} ({config.variant})", evaluations, curve)
    atomic_write_json(run_dir / "results.json", results)
    atomic_write(run_dir / "results.md", table)
    atomic_write(run_dir / "results.png", plot)
    print(table, flush=True)
    print(f"Results written to {run_dir}/ (results.md, results.json, results.png)", flush=True)
    return results
