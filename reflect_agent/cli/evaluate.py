"""``reflect-rl evaluate``: the evaluation harness (:mod:`reflect_agent.harness`) from the command line.

reflect-rl evaluate --env DangerousTaxi-v0 --agent random expert --episodes 20 --out results.json

Every episode is also written to results.traces.jsonl beside --out, and a page to read them to
results.traces.html (--no-traces: neither; ``reflect-rl traces`` makes the page again).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch
import tyro

from reflect_agent.harness import EvaluateArgs, format_table, resolve_env_ids, run_matrix, traces_path
from reflect_agent.trace_page import write_page
from reflect_gym.files import atomic_write

__all__ = ["EvaluateArgs", "main", "run"]


def run(args: EvaluateArgs) -> int:
    """Run the matrix of ``args``, print its table (and write it to ``--table``).

    Returns:
        0, or 1 when a cell of this run failed, or 2 for an unknown env.
    """
    try:
        env_ids = resolve_env_ids(args.env)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.torch_threads is not None:
        # On a shared CPU, fewer threads than cores avoids torch's threads waiting on each other.
        torch.set_num_threads(args.torch_threads)
    cells = run_matrix(env_ids, args)
    table = format_table(cells)
    if args.table is not None:
        atomic_write(args.table, table)
    print(table, end="")
    traces = traces_path(args.out)
    if args.traces and traces.is_file():
        page = traces.with_suffix(".html")
        write_page(traces, page, cells)
        print(f"Episodes: {traces}, to read in {page}")
    wanted = {(env_id, spec) for env_id in env_ids for spec in args.agent}
    return 1 if any("error" in c for c in cells if (c["env"], c["agent"]) in wanted) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl evaluate ARGV``."""
    return run(tyro.cli(EvaluateArgs, args=argv, prog="reflect-rl evaluate", description=__doc__))
