"""The FileQA DAgger records of one SFT round: no label that repeats a move, extra returns to the root.

    python -m experiments.fileqa_dagger_mix.mix --out runs/dagger/dagger-r5.jsonl \\
        --records runs/dagger/named-dagger-all.jsonl runs/dagger/named-dagger-r2.jsonl \\
        runs/dagger/named-dagger-r3.jsonl --returns runs/dagger/all-dagger-r4.jsonl --returns-repeat 3

A FileQA policy trained on DAgger records (:func:`reflect_agent.warmup.policy_records`) learns to go back from a
folder, then enters the same folder again until the horizon. Two kinds of record stand in the way:

* When the policy leaves the answer's folder, the expert's label at the root is to enter it again. The policy,
  which cannot tell that folder from a wrong one, learns that a folder it left is worth entering again.
  :func:`repeats_a_move` finds these records, and those whose label goes up a second time; they are dropped
  from ``--records``.
* On the training tasks the policy knows the answer's folder, so the records at the root after a ``cd ..`` never
  need the history: the expert's label is the policy's own choice anyway. Records from tasks the policy has not
  learned (``--returns``: e.g. every depth-1 task of ``experiments.fileqa_named_corpus.corpus --all-tasks``) do need it.
  :func:`returned` keeps the records at the root after a ``cd ..`` whose label is a folder not entered yet,
  and ``--returns-repeat`` repeats them.

The records are read and written as :func:`reflect_agent.warmup.write_jsonl` does; the output is written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reflect_agent.warmup import StepRecord, read_jsonl, write_jsonl
from reflect_gym.envs.fileqa import command_history


def history(record: StepRecord) -> list[str]:
    """The commands of the record's history (:func:`reflect_gym.envs.fileqa.command_history`)."""
    try:
        return command_history(record.state)
    except ValueError:
        raise ValueError(
            f"Record of {record.env_id} (seed {record.seed}, step {record.step}) has no '# Command history' "
            "section: these filters read FileQA records only."
        ) from None


def label(record: StepRecord) -> str:
    """The expert's command in the record."""
    return record.actions[record.expert_action]


def repeats_a_move(record: StepRecord) -> bool:
    """Whether, after a ``cd ..``, the expert's label is a ``cd`` the history already holds: it enters a folder
    the episode has left, or goes up once more."""
    commands = history(record)
    command = label(record)
    return command.startswith("cd ") and "cd .." in commands and command in commands


def returned(record: StepRecord) -> bool:
    """Whether the record is at the root after a ``cd ..`` and its label enters a folder not entered yet."""
    commands = history(record)
    at_root = "cd .." not in record.actions
    return at_root and "cd .." in commands and label(record) not in commands


@dataclass
class Args:
    """Mix FileQA DAgger records for one SFT round."""

    out: str
    """The JSON lines file to write."""
    records: list[str] = field(default_factory=list)
    """Records files kept whole, except the labels that repeat a move."""
    returns: list[str] = field(default_factory=list)
    """Records files of which only the returns to the root are kept."""
    returns_repeat: int = 1
    """How many times the returns are written."""


def main(args: Args) -> dict[str, int]:
    if args.returns_repeat < 1:
        raise ValueError(f"--returns-repeat must be at least 1, got {args.returns_repeat}.")
    if not args.records and not args.returns:
        raise ValueError("Nothing to mix: pass --records and/or --returns files.")
    kept: list[StepRecord] = []
    dropped = 0
    for path in args.records:
        for record in read_jsonl(path):
            if repeats_a_move(record):
                dropped += 1
            else:
                kept.append(record)
    returns = [record for path in args.returns for record in read_jsonl(path) if returned(record)]
    write_jsonl(kept + returns * args.returns_repeat, args.out)
    counts = {"kept": len(kept), "dropped": dropped, "returns": len(returns)}
    print(
        f"{len(kept)} records kept, {dropped} repeated moves dropped, {len(returns)} returns x {args.returns_repeat}"
        f" -> {args.out}"
    )
    return counts


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
