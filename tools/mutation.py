"""``make mutation``: mutation testing, with mutmut, of the code where a silent numeric or bookkeeping error costs most.

mutmut changes one thing at a time in the functions named by :data:`SCOPE` (an operator, a constant, an argument,
a string) and runs the tests that cover it (``[tool.mutmut]`` in pyproject.toml); a change no test notices
*survives*. This script runs it, then prints each module's score (killed / mutants) with every survivor's change,
and writes the same report to ``mutants/report.md``. docs/testing.md records the scores and why each survivor is
left.

Usage: ``python tools/mutation.py [--module advantages ...] [--survivors | --report-only] [--max-children N]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Per module, the functions mutated (mutmut's names: ``x_function``, ``xǁClassǁmethod``).
SCOPE: dict[str, list[str]] = {
    # Returns, GAE and the group-relative estimators: every function.
    "advantages": ["*"],
    # Same-seed groups, anchor states, GRPO/RLOO/GiGPO advantages and their metrics: every function.
    "groups": ["*"],
    # Rollouts (vector envs, group rollouts) into the update's tensors, and replayed episodes re-scored.
    "rollout": ["*"],
    # Checkpoint folders, the keep rule, `latest`, random states.
    "checkpoint": ["*"],
    # The PPO/policy-gradient update and what feeds it; the trainer's checkpoint, resume and settings check.
    "ppo": [
        "x_compute_advantages",
        "x_reference_logprobs",
        "x_update_policy",
        "x_changed_settings",
        "xǁReflectRLTrainerǁsave_checkpoint",
        "xǁReflectRLTrainerǁ_check_resumable",
        "xǁReflectRLTrainerǁload_checkpoint",
    ],
    # The evaluation matrix's resume: which cells are kept, redone or added, and how results are saved.
    "harness": [
        "x_cell_settings",
        "x_load_results",
        "x_save_results",
        "x_run_matrix",
        "x_is_result",
        "x_not_run_reason",
    ],
}


def patterns(module: str) -> list[str]:
    """mutmut's mutant-name patterns for ``module``'s scope."""
    return [f"reflect_agent.{module}.{function}__mutmut_*" for function in SCOPE[module]]


def statuses(module: str) -> dict[str, str]:
    """Each in-scope mutant of ``module`` and its status (killed, survived, timeout, no tests, not checked...)."""
    from mutmut.stats import status_by_exit_code

    meta = ROOT / "mutants" / "reflect_agent" / f"{module}.py.meta"
    if not meta.is_file():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    wanted = patterns(module)
    return {
        name: status_by_exit_code[code]
        for name, code in sorted(codes.items())
        if any(fnmatch.fnmatch(name, pattern) for pattern in wanted)
    }


#: Statuses that count as killed: a test failed, the tests ran out of time, or the type checker refused the mutant.
KILLED = ("killed", "timeout", "caught by type check")


def change(name: str) -> str:
    """The lines a mutant changes, as ``-old`` / ``+new``."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True, text=True
    ).stdout
    lines = [line for line in shown.splitlines() if line.startswith(("+", "-")) and not line.startswith(("---", "+++"))]
    return "\n".join(f"    {line[:1]} {line[1:].strip()}" for line in lines)


def report(modules: list[str]) -> str:
    """The score table and the survivors of ``modules``, as markdown."""
    rows = [
        "| module | mutants | killed | timeout | survived | no tests | other | not checked | score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    survivors: list[str] = []
    for module in modules:
        found = statuses(module)
        count = {status: sum(s == status for s in found.values()) for status in set(found.values())}
        killed = sum(count.get(status, 0) for status in KILLED)
        named = ("killed", "timeout", "survived", "no tests", "not checked")
        other = len(found) - sum(count.get(status, 0) for status in named)  # suspicious, segfault, skipped...
        score = f"{100 * killed / len(found):.1f}%" if found else "-"
        rows.append(
            f"| {module} | {len(found)} | {count.get('killed', 0)} | {count.get('timeout', 0)} | "
            f"{count.get('survived', 0)} | {count.get('no tests', 0)} | {other} | {count.get('not checked', 0)} | "
            f"{score} |"
        )
        for name, status in found.items():
            if status not in (*KILLED, "not checked"):
                survivors.append(f"- `{name}` ({status})\n```diff\n{change(name)}\n```")
    return "\n".join(rows) + "\n\n## Survivors\n\n" + ("\n".join(survivors) or "none") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(SCOPE), help="only these modules (repeatable)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--report-only", action="store_true", help="report the last run's results without running")
    which.add_argument(
        "--survivors", action="store_true", help="check again only the last run's survivors (after adding tests)"
    )
    parser.add_argument("--max-children", type=int, default=None, help="parallel test processes (default: cores)")
    args = parser.parse_args(argv)
    modules = args.module or list(SCOPE)
    if not args.report_only:
        if args.survivors:
            names = [n for m in modules for n, status in statuses(m).items() if status not in KILLED]
        else:
            names = [pattern for module in modules for pattern in patterns(module)]
        if not names:
            print("Nothing to run: every mutant is killed.")
            return 0
        command = [sys.executable, "-m", "mutmut", "run", *names]
        if args.max_children:
            command += ["--max-children", str(args.max_children)]
        subprocess.run(command, cwd=ROOT, check=True)
    text = report(modules)
    (ROOT / "mutants").mkdir(exist_ok=True)
    (ROOT / "mutants" / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
