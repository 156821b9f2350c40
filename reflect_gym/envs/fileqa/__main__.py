"""Command line for FileQA tasks.

    python -m reflect_gym.envs.fileqa build --repo DIR [--repo DIR ...] --out tasks.jsonl [--test-fraction 0.3]
    python -m reflect_gym.envs.fileqa import --tasks data.json --repos DIR --out tasks.jsonl [--split train]
    python -m reflect_gym.envs.fileqa default [--rebuild]
    python -m reflect_gym.envs.fileqa stats tasks.jsonl

``build`` writes questions for any folders (see :mod:`reflect_gym.envs.fileqa.tasks`); ``import`` converts
a task file of the original Reflect-RL code; ``default`` builds (once) and locates the default corpus;
every command prints the number of tasks per split, kind and depth. Use the file with
``gym.make("ReflectRL/FileQA-v0", tasks="tasks.jsonl")``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from reflect_gym.envs.fileqa.corpus import corpus_version, default_tasks_path
from reflect_gym.envs.fileqa.filesystem import RepositoryError
from reflect_gym.envs.fileqa.tasks import (
    KINDS,
    SPLITS,
    Task,
    TaskError,
    build_tasks,
    count_tasks,
    import_reflect_rl,
    load_tasks,
    save_tasks,
)


def format_counts(tasks: Iterable[Task]) -> str:
    """A table of task counts: a row per split and kind, a column per depth, with totals."""
    counts = count_tasks(tasks)
    depths = sorted({depth for _, _, depth in counts}) or [0]
    header = f"{'split':<6} {'kind':<5} " + " ".join(f"{'depth ' + str(d):>8}" for d in depths) + f" {'total':>7}"
    lines = [header]
    for split in SPLITS:
        for kind in (*KINDS, "all"):
            row = [
                sum(n for (s, k, d), n in counts.items() if s == split and kind in (k, "all") and d == depth)
                for depth in depths
            ]
            if kind != "all" and not any(row):
                continue
            lines.append(f"{split:<6} {kind:<5} " + " ".join(f"{n:>8}" for n in row) + f" {sum(row):>7}")
    lines.append(
        f"{'all':<6} {'all':<5} "
        + " ".join(f"{sum(n for (_, _, d), n in counts.items() if d == depth):>8}" for depth in depths)
        + f" {sum(counts.values()):>7}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reflect_gym.envs.fileqa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write questions for repository folders")
    build.add_argument("--repo", action="append", required=True, help="a repository folder (repeat for several)")
    build.add_argument("--out", required=True, help="the JSON-lines file to write")
    build.add_argument("--test-fraction", type=float, default=0.3, help="share of repositories in the test split")
    build.add_argument(
        "--test-repo",
        action="append",
        default=None,
        help="put this repository (folder name) in test; the others in train",
    )
    importer = commands.add_parser("import", help="convert a task file of the original Reflect-RL code")
    importer.add_argument("--tasks", required=True, help="the original JSON list of tasks")
    importer.add_argument("--repos", required=True, help="the folder holding the repositories named by 'root'")
    importer.add_argument("--out", required=True, help="the JSON-lines file to write")
    importer.add_argument(
        "--split", choices=SPLITS, default=None, help="one split for all tasks (default: by repository)"
    )
    default = commands.add_parser("default", help="build (once) and locate the default corpus")
    default.add_argument("--rebuild", action="store_true", help="delete the cached corpus and build it again")
    stats = commands.add_parser("stats", help="count the tasks of a file")
    stats.add_argument("path")
    args = parser.parse_args(argv)

    try:
        if args.command == "build":
            splits = None
            if args.test_repo:
                names = [repo.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] for repo in args.repo]
                splits = {name: "test" if name in args.test_repo else "train" for name in names}
            tasks = build_tasks(args.repo, splits=splits, test_fraction=args.test_fraction)
            save_tasks(tasks, args.out)
            print(f"Wrote {len(tasks)} tasks to {args.out}")
        elif args.command == "import":
            tasks = import_reflect_rl(args.tasks, args.repos, split=args.split)
            save_tasks(tasks, args.out)
            print(f"Wrote {len(tasks)} tasks to {args.out}")
        elif args.command == "default":
            path = default_tasks_path(rebuild=args.rebuild)
            tasks = load_tasks(path)
            print(f"Default corpus {corpus_version()}: {path}")
        else:
            tasks = load_tasks(args.path)
    except (RepositoryError, TaskError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_counts(tasks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
