"""Data parallelism across processes, GPUs and nodes, on the process group that ``accelerate launch`` starts.

A run launched by ``accelerate launch`` (torchrun underneath) is one process per GPU, or several on a CPU (the
gloo backend): every process holds a whole replica of the policy, plays its own share of the episodes, and the
replicas stay equal because every process adds the same summed gradients with the same optimizer. A plain
``python -m ...`` (or a launch of one process) is one process: :meth:`Processes.start` then returns
:class:`Processes` of one, whose collectives return their input, and ``torch.distributed`` is never started.

The process group is accelerate's (:class:`accelerate.PartialState`, which also picks each process's GPU and the
backend: NCCL on CUDA, gloo on a CPU); the collectives are ``torch.distributed``'s. The shipped launch configs are
in ``configs/accelerate/`` and ``docs/scaling.md`` says how they are used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

T = TypeVar("T")

#: Environment variables in which a launcher (torchrun, MPI) gives the number of processes it started.
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")

#: What ``accelerate launch`` exports for a DeepSpeed or FSDP config, with the engine's name.
SHARDED_ENGINES = {"ACCELERATE_USE_DEEPSPEED": "DeepSpeed", "ACCELERATE_USE_FSDP": "FSDP"}


def launched_processes() -> int:
    """The number of processes a launcher started for this job (1 without a launcher)."""
    for name in WORLD_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return int(value)
    return 1


def sharded_engine() -> str | None:
    """``"DeepSpeed"`` or ``"FSDP"`` when ``accelerate launch`` was given such a config, else ``None``."""
    for variable, name in SHARDED_ENGINES.items():
        if os.environ.get(variable, "").lower() == "true":
            return name
    return None


def check_precision(autocast: bool, flag: str) -> None:
    """Refuse an accelerate config's mixed precision that a trainer would not apply.

    The RL trainer's precision is its own setting (``flag``, recorded in its checkpoints), so a launch config that
    asks for another one is an error rather than silently ignored.

    Raises:
        ValueError: The launch asks for fp16 or fp8, or for bf16 while ``autocast`` is off.
    """
    asked = os.environ.get("ACCELERATE_MIXED_PRECISION", "no").lower()
    if asked in ("no", "") or (asked == "bf16" and autocast):
        return
    if asked == "bf16":
        raise ValueError(
            f"The accelerate config asks for bf16 mixed precision, but {flag} is off. Pass {flag} (bf16 autocast, "
            "recorded in the checkpoints), or launch with mixed_precision: 'no'."
        )
    raise ValueError(
        f"The accelerate config asks for {asked} mixed precision; this trainer runs fp32 or bf16 autocast only. "
        f"Launch with mixed_precision: 'bf16' and {flag}, or with mixed_precision: 'no'."
    )


@dataclass(frozen=True)
class Processes:
    """The processes of a data-parallel job, as seen from one of them.

    Attributes:
        rank: This process's index, 0 for the main process.
        count: The number of processes (1: a single process, and every collective returns its input).
        device: Where collectives move tensors: the process's GPU with NCCL, the CPU with gloo.
    """

    rank: int = 0
    count: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.rank < self.count:
            raise ValueError(f"rank must lie in [0, count) and count be >= 1, got rank {self.rank} of {self.count}.")

    @classmethod
    def start(cls, *, cpu: bool) -> Processes:
        """Join the launched job's process group (started by accelerate on first use); one process without a launcher.

        Args:
            cpu: Train on the CPU (gloo); otherwise each process takes its GPU (NCCL), which later ``"cuda"``
                tensors and models then land on.
        """
        if launched_processes() <= 1:
            return cls()
        from accelerate import PartialState

        state = PartialState(cpu=cpu)
        return cls(state.process_index, state.num_processes, str(state.device))

    @property
    def is_main(self) -> bool:
        """Whether this is the main process, the one that writes checkpoints, metrics and plots."""
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's contiguous share of ``items``; shares differ in length by at most one, earlier ones
        longer (a share may be empty)."""
        base, extra = divmod(len(items), self.count)
        first = self.rank * base + min(self.rank, extra)
        return list(items[first : first + base + (self.rank < extra)])

    def shard_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """This process's contiguous share of the 1-D tensor ``rows``, as :meth:`shard` cuts it."""
        return torch.tensor_split(rows, self.count)[self.rank] if self.count > 1 else rows

    def gather(self, value: T) -> list[T]:
        """Every process's ``value`` (picklable), in rank order, on every process."""
        if self.count == 1:
            return [value]
        values: list[Any] = [None] * self.count
        torch.distributed.all_gather_object(values, value)
        return values

    def broadcast(self, value: T) -> T:
        """The main process's ``value`` (picklable), on every process."""
        if self.count == 1:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def wait(self) -> None:
        """Block until every process gets here."""
        if self.count > 1:
            torch.distributed.barrier()

    def sum(self, values: Sequence[float]) -> list[float]:
        """``values`` added up element-wise over the processes (the same list on every process)."""
        if self.count == 1:
            return list(values)
        total = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(total)
        return total.tolist()

    def max(self, value: float) -> float:
        """The largest ``value`` over the processes."""
        if self.count == 1:
            return value
        largest = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(largest, op=torch.distributed.ReduceOp.MAX)
        return largest.item()

    def reduce_gradients(self, parameters: Iterable[torch.nn.Parameter], *, average: bool) -> None:
        """Replace each parameter's gradient by the sum (or the mean) of its gradients over the processes.

        A parameter without a gradient on any process keeps none (so the optimizer leaves it alone, as it would in
        one process); one with a gradient on some processes counts zero on the others.
        """
        if self.count == 1:
            return
        parameters = list(parameters)
        if not parameters:
            return
        grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float() for p in parameters]
        present = torch.tensor([p.grad is not None for p in parameters], dtype=torch.float32, device=grads[0].device)
        flat = torch.cat([*grads, present])  # (sum of numels + P,): one collective for both
        torch.distributed.all_reduce(flat)
        present = flat[-len(parameters) :].tolist()
        if average:
            flat /= self.count
        offset = 0
        for parameter, seen in zip(parameters, present, strict=True):
            size = parameter.numel()
            if seen:
                parameter.grad = flat[offset : offset + size].view_as(parameter).to(parameter.dtype).clone()
            offset += size
