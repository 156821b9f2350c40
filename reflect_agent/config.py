"""Configuration of a Reflect-RL training run: one dataclass per component, and presets.

:class:`TrainConfig` holds the run (env, vector env, iterations, checkpoints, logging) and nests the
policy's :class:`~reflect_agent.policy.PolicyConfig`, the reflector's
:class:`~reflect_agent.reflector.ReflectorConfig`, the update's :class:`RLConfig` and the
:class:`~reflect_agent.curriculum.CurriculumConfig`. Entry points parse them with tyro.

Presets: :func:`paper_preset` (GPT-2 XL policy and reflector, LoRA, learning rate 2e-4, horizon 15,
as in the paper; meant for a GPU), :func:`qwen_preset` (the same recipe on Qwen2.5-0.5B/1.5B-Instruct) and
:func:`cpu_preset` (SmolLM2-135M, small batches, bf16 autocast where the CPU runs bf16 in hardware). Under
``accelerate launch`` a preset's ``num_envs`` is the global batch, shared by the processes
(:func:`check_processes`); ``docs/scaling.md`` gives each GPU preset's memory per GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from reflect_agent.curriculum import CurriculumConfig
from reflect_agent.models import load_model, lora_target_modules, native_bf16
from reflect_agent.policy import PolicyConfig
from reflect_agent.reflector import ReflectorConfig

#: The critic-free advantage estimators, which compare the episodes of a group (see :mod:`reflect_agent.groups`).
GROUP_ESTIMATORS = ("grpo", "rloo", "gigpo")

#: Evaluation episodes use reset seeds from here up, apart from training and warm-up seeds (below it).
EVAL_SEED_OFFSET = 1_000_000


def top_layers_lora_targets(model_spec: str, layers: int) -> list[str]:
    """The full names of the default LoRA target modules in the last ``layers`` transformer blocks.

    Pass them as ``PolicyConfig.lora_target_modules`` (or to ``apply_lora``): gradients then flow through
    the top blocks only, so a LoRA training step costs little more than a forward pass plus the backward
    of those blocks. The model is loaded once on the CPU to read its module names.
    """
    model, _ = load_model(model_spec, device="cpu")
    suffixes = set(lora_target_modules(model))
    blocks: dict[str, int] = {}
    for name, _ in model.named_modules():
        parts = name.split(".")
        numbers = [int(p) for p in parts if p.isdigit()]
        if parts[-1] in suffixes and numbers:
            blocks[name] = numbers[0]
    if not blocks:
        raise ValueError(f"{model_spec!r} has no numbered blocks with LoRA target modules {sorted(suffixes)}.")
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}.")
    first = max(blocks.values()) + 1 - layers
    return [name for name, block in blocks.items() if block >= first]


def evaluation_kwargs(env_kwargs: dict[str, Any], eval_env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``gym.make`` arguments of evaluation envs: ``env_kwargs`` updated by ``eval_env_kwargs``, whose ``None``
    values drop the argument, so the env takes its default."""
    merged = {**env_kwargs, **eval_env_kwargs}
    return {key: value for key, value in merged.items() if value is not None}


def check_groups(num_envs: int, group_size: int, rl: RLConfig, replay_episodes: int, prefix: str = "") -> None:
    """Refuse group settings that cannot work, naming the fields with ``prefix`` (``"rl."`` for the main job).

    Raises:
        ValueError: ``num_envs`` is not a multiple of ``group_size``; a group estimator without groups (``group_size``
            1) or with replayed episodes, which have no group to be compared with.
    """
    if group_size < 1 or num_envs % group_size:
        raise ValueError(
            f"{prefix}num_envs ({num_envs}) must be a multiple of {prefix}group_size ({group_size}): each iteration "
            f"plays num_envs / group_size seeds, group_size episodes each."
        )
    if rl.critic_free and group_size < 2:
        raise ValueError(
            f"advantage {rl.advantage!r} compares the episodes of a group: set {prefix}group_size >= 2 (got "
            f"{group_size}), or use advantage 'mc' or 'gae'."
        )
    if rl.critic_free and replay_episodes:
        raise ValueError(
            f"advantage {rl.advantage!r} has no group for a replayed episode to be compared with: set "
            f"{prefix}replay_episodes 0 (got {replay_episodes}), or use advantage 'mc' or 'gae'."
        )


def check_processes(num_envs: int, group_size: int, processes: int, prefix: str = "") -> None:
    """Refuse a launch of ``processes`` processes whose shares of the envs would not hold whole groups.

    Each process plays ``num_envs / processes`` envs, whole groups of ``group_size`` episodes from one seed, so that
    a group is never split across processes (its episodes are compared with each other).

    Raises:
        ValueError: ``num_envs`` is not a multiple of ``group_size * processes``.
    """
    share = group_size * processes
    if num_envs % share == 0:
        return
    counts = [count for count in range(1, num_envs // group_size + 1) if num_envs % (group_size * count) == 0]
    raise ValueError(
        f"{prefix}num_envs ({num_envs}) cannot be shared by {processes} processes in whole groups of "
        f"{prefix}group_size ({group_size}): each process plays num_envs / processes envs and a group never splits "
        f"across processes, so num_envs must be a multiple of group_size x processes ({share}). Set {prefix}num_envs "
        f"to a multiple of {share}, or launch {' or '.join(map(str, counts))} processes."
    )


@dataclass
class RLConfig:
    """The policy update: returns, advantages and the loss.

    Attributes:
        algorithm: ``"ppo"`` (clipped ratio of new to old log-probabilities, value loss, entropy bonus)
            or ``"pg"`` (REINFORCE: ``-advantage * log-probability``, one pass over the batch).
        advantage: ``"mc"``: Monte-Carlo returns without discount, as in the paper (minus the value
            head's estimate when ``value_baseline``); ``"gae"``: generalized advantage estimation. Critic-free,
            for group rollouts (``TrainConfig.group_size`` >= 2; :mod:`reflect_agent.groups`): ``"grpo"``
            (the episode's return against its group's), ``"rloo"`` (against the other episodes of its group),
            ``"gigpo"`` (GRPO plus step-level credit from anchor states). They train no value head.
        gamma: Discount (1: none, the paper's); also of GiGPO's step returns.
        gae_lambda: GAE's lambda.
        value_baseline: With ``"mc"``: subtract the value estimate from the return.
        normalize_advantages: Scale the batch's advantages to zero mean and unit variance (``mc`` and ``gae``;
            the group estimators normalize within groups).
        scale_by_std: Group estimators: divide by the group's standard deviation (GRPO's; off, Dr. GRPO's).
        step_coef: ``gigpo``: weight of the step term (the GiGPO paper's omega, 1).
        drop_uniform_groups: Group estimators: leave out of the update the groups whose decisions all have zero
            advantage (every episode got the same return), which teach nothing but cost forward passes.
        drop_groups_without_success: Group estimators: also leave out the groups in which no episode succeeded.
            Where every step costs (FileQA, DangerousTaxi), the returns of failed episodes still differ, a quick
            failure earning more than a long one, so without this option groups that failed throughout teach the
            policy to fail fast.
        kl_coef: Weight of a penalty on the KL divergence from the policy RL started from (k3 estimate on the
            sampled actions); 0: none.
        track_kl: Measure that divergence each iteration (``kl/start_policy``) even without a penalty; costs one
            forward pass per decision.
        keep_frozen_activations: Keep, from the rollout, the hidden states that the policy's frozen leading blocks
            (those before the first LoRA adapter) compute for each decision, so that the update and the KL to the
            start policy run only the blocks after them: the same result up to float rounding, for less compute
            (:mod:`reflect_agent.frozen_blocks`). Costs one float per token and hidden unit of CPU memory per
            decision of the iteration. Single-process runs only (processes do not exchange them).
        bootstrap_truncation: Add the value of the last observation to the return of an episode cut
            by the horizon (never to one that terminated).
        update_epochs: Passes over the batch per iteration (``"pg"`` uses one).
        minibatch_size: Decisions per optimizer step.
        micro_batch_size: Decisions per forward pass; gradients accumulate over a minibatch.
        learning_rate: AdamW learning rate of the LoRA adapters and the value head.
        weight_decay: AdamW weight decay.
        max_grad_norm: Gradient clipping norm.
        clip_coef: PPO's ratio clip.
        clip_coef_high: The upper clip, if it should differ (DAPO's clip-higher); ``None``: ``clip_coef``.
        clip_value: Clip the value update around the rollout's estimate as PPO2 does.
        vf_coef: Weight of the value loss.
        ent_coef: Weight of the entropy bonus.
        target_kl: Stop the epochs early once the approximate KL to the rollout policy exceeds this.
        divergence_limit: The update stops the run with a ``DivergenceError`` when a loss, the gradient norm (before
            clipping), the approximate KL or the largest trainable weight is not finite or beyond this (a healthy
            run stays orders of magnitude below: LoRA weights near 1, gradient norms near 1).
    """

    algorithm: Literal["ppo", "pg"] = "ppo"
    advantage: Literal["mc", "gae", "grpo", "rloo", "gigpo"] = "mc"
    gamma: float = 1.0
    gae_lambda: float = 0.95
    value_baseline: bool = True
    normalize_advantages: bool = True
    bootstrap_truncation: bool = True
    scale_by_std: bool = True
    step_coef: float = 1.0
    drop_uniform_groups: bool = True
    drop_groups_without_success: bool = False
    kl_coef: float = 0.0
    track_kl: bool = True
    keep_frozen_activations: bool = True
    update_epochs: int = 2
    minibatch_size: int = 16
    micro_batch_size: int = 8
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    clip_coef: float = 0.2
    clip_coef_high: float | None = None
    clip_value: bool = False
    vf_coef: float = 0.5
    ent_coef: float = 0.01
    target_kl: float | None = None
    divergence_limit: float = 1e4

    def __post_init__(self) -> None:
        if not self.divergence_limit > 0:
            raise ValueError(f"divergence_limit must be positive, got {self.divergence_limit}.")
        if self.algorithm not in ("ppo", "pg"):
            raise ValueError(f"algorithm must be 'ppo' or 'pg', got {self.algorithm!r}.")
        if self.advantage not in ("mc", "gae", *GROUP_ESTIMATORS):
            raise ValueError(
                f"advantage must be one of mc, gae, {', '.join(GROUP_ESTIMATORS)}; got {self.advantage!r}."
            )
        if self.kl_coef < 0 or self.step_coef < 0:
            raise ValueError(f"kl_coef and step_coef must be >= 0, got {self.kl_coef} and {self.step_coef}.")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gamma and gae_lambda must lie in [0, 1], got {self.gamma} and {self.gae_lambda}.")
        if min(self.update_epochs, self.minibatch_size, self.micro_batch_size) < 1:
            raise ValueError(
                "update_epochs, minibatch_size and micro_batch_size must be >= 1, got "
                f"{self.update_epochs}, {self.minibatch_size}, {self.micro_batch_size}."
            )
        if self.micro_batch_size > self.minibatch_size:
            raise ValueError(
                f"micro_batch_size ({self.micro_batch_size}) must not exceed minibatch_size ({self.minibatch_size})."
            )
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}.")

    @property
    def critic_free(self) -> bool:
        """Whether the advantage estimator compares episodes of a group instead of asking the value head."""
        return self.advantage in GROUP_ESTIMATORS

    @property
    def clip_range(self) -> tuple[float, float]:
        """PPO's ratio bounds ``(1 - clip_coef, 1 + clip_coef_high)``."""
        high = self.clip_coef if self.clip_coef_high is None else self.clip_coef_high
        return 1 - self.clip_coef, 1 + high


@dataclass
class TrainConfig:
    """A Reflect-RL training run.

    Attributes:
        name: The run's folder under ``output_dir`` (metrics, curve, checkpoints).
        output_dir: Parent folder of the runs.
        env_id: The env trained on (the curriculum's stages replace it when given).
        env_kwargs: Extra ``gym.make`` arguments of the training envs (e.g. ``leaveout_prob 0.5``).
        eval_env_kwargs: Extra ``gym.make`` arguments of evaluation envs (e.g. ``split test`` for
            FileQA's held-out tasks), over ``env_kwargs``; ``None`` drops an argument of ``env_kwargs``
            (``tasks None``: train on a tasks file, evaluate on the default corpus). Evaluation also uses
            seeds from :data:`EVAL_SEED_OFFSET` up.
        horizon: Override the env's horizon (``None``: the registered default, 15 in the paper's envs).
        num_envs: Episodes per iteration, one per env. Under ``accelerate launch`` this is the global batch: each of
            the N processes plays ``num_envs / N`` envs (see :mod:`reflect_agent.distributed`).
        group_size: Episodes played from each reset seed per iteration (a group rollout: ``num_envs / group_size``
            seeds); the group estimators of :class:`RLConfig` need at least 2.
        vectorization: ``"sync"`` or ``"async"`` (one process per env).
        iterations: Training iterations (rollout, then update).
        seed: Seeds torch, NumPy and Python, and through them the training episodes' reset seeds.
        use_reflector: Show the frozen reflector's analysis to the policy (Reflect-RL); ``False``
            trains without reflection.
        policy: The policy.
        reflector: The reflector (frozen during RL).
        rl: The update.
        curriculum: Stages and when to move on.
        replay_capacity: Successful episodes kept for replay (0: no replay; the paper: 50).
        replay_episodes: Replayed episodes added to each iteration's batch (one extra batch).
        checkpoint_every: Save a checkpoint every this many iterations (0: only at the end).
        keep_checkpoints: Newest checkpoints kept on disk.
        resume: Continue from the newest checkpoint in the run's folder, if there is one. Only the settings
            in :data:`reflect_agent.ppo.RESUMABLE_CHANGES` (``iterations``, evaluation, logging, checkpointing,
            the device) may differ from the checkpoint's; any other change is an error. A damaged checkpoint is passed
            over for the newest intact one, with a warning.
        overwrite: Delete what an earlier run left in the run's folder (checkpoints, metrics, plots) and start
            over. Without it (or ``resume``) a run folder that holds a run is refused, so that a rerun cannot prune
            or cut a finished run.
        eval_every: Evaluate on held-out seeds every this many iterations (0: never during training).
        eval_episodes: Episodes per evaluation.
        wandb_project: Also log to this wandb project (offline unless ``WANDB_API_KEY`` is set).
        progress: Show a progress bar.
        threads: ``torch.set_num_threads`` (``None``: torch's default). On a CPU shared with other
            work, 1 avoids oversubscription, which can slow every operation many times over.
    """

    name: str = "reflect-rl"
    output_dir: str = "runs"
    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    env_kwargs: dict[str, int | float | str] = field(default_factory=dict)
    eval_env_kwargs: dict[str, int | float | str | None] = field(default_factory=dict)
    horizon: int | None = None
    num_envs: int = 8
    group_size: int = 1
    vectorization: Literal["sync", "async"] = "sync"
    iterations: int = 20
    seed: int = 0
    use_reflector: bool = True
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    reflector: ReflectorConfig = field(default_factory=ReflectorConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    replay_capacity: int = 50
    replay_episodes: int = 4
    checkpoint_every: int = 5
    keep_checkpoints: int = 2
    resume: bool = False
    overwrite: bool = False
    eval_every: int = 0
    eval_episodes: int = 32
    wandb_project: str | None = None
    progress: bool = True
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("policy", "reflector", "rl", "curriculum"):
            value = getattr(self, name)
            if isinstance(value, dict):  # rebuilt from a checkpoint's JSON
                kind = {"policy": PolicyConfig, "reflector": ReflectorConfig, "rl": RLConfig}.get(
                    name, CurriculumConfig
                )
                setattr(self, name, kind(**value))
        if self.num_envs < 1 or self.iterations < 0:
            raise ValueError(f"num_envs must be >= 1 and iterations >= 0, got {self.num_envs} and {self.iterations}.")
        check_groups(self.num_envs, self.group_size, self.rl, self.replay_episodes)
        if self.resume and self.overwrite:
            raise ValueError(
                "resume continues the run in the run's folder and overwrite deletes it; pass one of them, not both."
            )
        if self.vectorization not in ("sync", "async"):
            raise ValueError(f"vectorization must be 'sync' or 'async', got {self.vectorization!r}.")
        if self.horizon is not None and self.horizon < 1:
            raise ValueError(f"horizon must be >= 1 or None, got {self.horizon}.")
        if self.replay_capacity < 0 or self.replay_episodes < 0:
            raise ValueError(
                f"replay_capacity and replay_episodes must be >= 0, got {self.replay_capacity} and {self.replay_episodes}."
            )
        if self.checkpoint_every < 0 or self.keep_checkpoints < 1:
            raise ValueError(
                f"checkpoint_every must be >= 0 and keep_checkpoints >= 1, got {self.checkpoint_every} and "
                f"{self.keep_checkpoints}."
            )
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads}.")

    def make_kwargs(self, *, evaluation: bool = False) -> dict[str, Any]:
        """The ``gym.make`` keyword arguments of training (or evaluation) envs."""
        kwargs = evaluation_kwargs(self.env_kwargs, self.eval_env_kwargs) if evaluation else dict(self.env_kwargs)
        if self.horizon is not None:
            kwargs["horizon"] = self.horizon
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable copy (recorded in checkpoints and metrics)."""
        return dataclasses.asdict(self)


def paper_preset(env_id: str = "ReflectRL/FileQA-v0", **overrides: Any) -> TrainConfig:
    """The paper's setting: GPT-2 XL policy and reflector with LoRA, learning rate 2e-4, horizon 15.

    Needs the ``gpt2-xl`` weights (Hugging Face hub) and, in practice, a GPU (bf16 there): about 35 GiB per GPU,
    estimated in ``docs/scaling.md`` (prompts at their 1024-token cap).
    """
    config = TrainConfig(
        name="paper",
        env_id=env_id,
        horizon=15,
        num_envs=16,
        iterations=200,
        # fp32 weights (the adapters train in fp32) under bf16 autocast; the frozen reflector in bf16 on CUDA.
        policy=PolicyConfig(
            model="gpt2-xl", labels="letters", lora_r=16, lora_alpha=32, dtype="float32", autocast=True
        ),
        reflector=ReflectorConfig(model="gpt2-xl", max_new_tokens=100),
        rl=RLConfig(learning_rate=2e-4, minibatch_size=32, micro_batch_size=8, update_epochs=2),
        replay_capacity=50,
        replay_episodes=8,
        checkpoint_every=10,
    )
    return dataclasses.replace(config, **overrides)


def cpu_preset(env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0", **overrides: Any) -> TrainConfig:
    """A setting for a small CPU: SmolLM2-135M policy and reflector, small batches, bf16 autocast where the device
    runs bf16 in hardware (:func:`reflect_agent.models.native_bf16`), else fp32."""
    bf16 = native_bf16()
    config = TrainConfig(
        name="cpu",
        env_id=env_id,
        horizon=15,
        num_envs=8,
        iterations=10,
        policy=PolicyConfig(model="smollm2", autocast=bf16, max_prompt_tokens=768),
        reflector=ReflectorConfig(model="smollm2", max_new_tokens=64, autocast=bf16, max_prompt_tokens=768),
        rl=RLConfig(learning_rate=2e-4, minibatch_size=16, micro_batch_size=8, update_epochs=1),
        replay_capacity=50,
        replay_episodes=2,
        checkpoint_every=5,
    )
    return dataclasses.replace(config, **overrides)


#: The Qwen2.5 instruct models of :func:`qwen_preset`, by size.
QWEN_MODELS = {"0.5b": "Qwen/Qwen2.5-0.5B-Instruct", "1.5b": "Qwen/Qwen2.5-1.5B-Instruct"}


def qwen_preset(size: str = "1.5b", env_id: str = "ReflectRL/FileQA-v0", **overrides: Any) -> TrainConfig:
    """The paper's recipe with a current small instruct model: Qwen2.5-0.5B- or 1.5B-Instruct as policy and
    reflector, LoRA (r 16) on every block, fp32 adapters under bf16 autocast, horizon 15, 16 episodes per iteration.

    Needs the model's weights (Hugging Face hub) and a GPU per process. ``docs/scaling.md`` gives the estimated
    memory per GPU (about 14 GiB for 0.5B and 31 GiB for 1.5B, prompts at their 1024-token cap).

    Raises:
        ValueError: ``size`` is not one of :data:`QWEN_MODELS`.
    """
    if size not in QWEN_MODELS:
        raise ValueError(f"size must be one of {', '.join(QWEN_MODELS)}, got {size!r}.")
    model = QWEN_MODELS[size]
    config = TrainConfig(
        name=f"qwen{size}",
        env_id=env_id,
        horizon=15,
        num_envs=16,
        iterations=200,
        policy=PolicyConfig(model=model, labels="letters", lora_r=16, lora_alpha=32, dtype="float32", autocast=True),
        reflector=ReflectorConfig(model=model, max_new_tokens=100),
        rl=RLConfig(learning_rate=1e-4, minibatch_size=32, micro_batch_size=8, update_epochs=2),
        replay_capacity=50,
        replay_episodes=8,
        checkpoint_every=10,
    )
    return dataclasses.replace(config, **overrides)
