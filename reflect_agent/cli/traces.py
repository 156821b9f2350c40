"""``reflect-rl traces``: the episode traces page, one HTML file that opens from disk (:mod:`reflect_agent.trace_page`).

    reflect-rl traces results.traces.jsonl                                  # writes results.traces.html
    reflect-rl traces results.traces.jsonl --results results.json --out traces.html

The page shows a summary table per env x agent (from ``--results`` when given, else computed from the traces)
and every episode, agents side by side, with filters on env, agent and outcome. An existing ``--out`` that is not
a traces page is refused (``--overwrite`` replaces it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from reflect_agent.trace_page import write_page
from reflect_gym.files import ForeignPathError


@dataclass
class TracesArgs:
    """Write the episode traces page of a traces file.

    Attributes:
        traces: The episode traces, JSON lines (``reflect-rl evaluate`` writes ``RESULTS.traces.jsonl``).
        out: The page to write; ``None``: the traces file's path with ``.html`` for its ``.jsonl``.
        results: The results JSON of ``reflect-rl evaluate``, whose numbers the summary table then shows.
        overwrite: Replace an existing ``out`` that is not a traces page.
    """

    traces: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="TRACES.jsonl")]
    out: str | None = None
    results: str | None = None
    overwrite: bool = False

    @property
    def out_path(self) -> Path:
        """Where the page goes."""
        return Path(self.out) if self.out is not None else Path(self.traces).with_suffix(".html")


def run(args: TracesArgs) -> int:
    """Write the page of ``args`` and print where it went.

    Returns:
        0, or 2 when the traces or results file is missing or not of its format, or ``out`` is a file reflect-rl
        did not write (the reason goes to stderr).
    """
    cells = None
    try:
        if args.results is not None:
            # Imported here: the harness pulls in torch, which a page without results does not need.
            from reflect_agent.harness import load_results

            if not Path(args.results).is_file():
                raise FileNotFoundError(f"No results file at {args.results}; pass reflect-rl evaluate's --out.")
            cells = load_results(Path(args.results))
        episodes = write_page(args.traces, args.out_path, cells, overwrite=args.overwrite)
    except (FileNotFoundError, ForeignPathError, ValueError) as error:
        print(f"reflect-rl traces: {error}", file=sys.stderr)
        return 2
    print(f"{episodes} episodes: page written to {args.out_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl traces ARGV``."""
    return run(tyro.cli(TracesArgs, args=argv, prog="reflect-rl traces", description=__doc__))


if __name__ == "__main__":
    sys.exit(main())
