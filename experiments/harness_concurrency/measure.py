"""Decisions per second of the OpenAI-compatible agent in the harness at several concurrencies, against a loopback
stub server that answers every request after a fixed delay, as a remote API or a GPU server does.

python -m experiments.harness_concurrency.measure [--delay 0.2] [--episodes 128] [--concurrency 1 4 16]

The stub (:class:`tests.agent.chat_stub.StubChatServer` with :func:`~tests.agent.chat_stub.hashed_reply`, a
deterministic model that now and then names no action) runs in a process of its own, so that its threads do not
share the harness's interpreter lock, and binds 127.0.0.1 only. Each concurrency runs ``reflect-rl evaluate`` on
the same seeds into its own results and traces files; a run's results are identical to the first's when its
cell's measurements (all but time) and its traces file are. ``decisions per step`` is what the one episode
runner allows: the turns per decision, fewer than the concurrency while the last episodes finish.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

#: The measurements of a cell that must not depend on the concurrency.
SAME = ("success_rate", "mean_return", "mean_steps", "invalid_action_rate", "successes", "steps", "decisions")


def serve(delay: float, connection: Connection) -> None:
    """Run the stub server in this process: send its URL, then answer ``"stats"`` with ``(requests, most in
    flight)`` (resetting the latter) until ``"stop"``."""
    from tests.agent.chat_stub import StubChatServer, hashed_reply

    server = StubChatServer(hashed_reply, delay=delay)
    connection.send(server.base_url)
    while (command := connection.recv()) != "stop":
        if command == "stats":
            with server.lock:
                connection.send((len(server.requests), server.max_in_flight))
                server.max_in_flight = 0
    server.close()


def measure(env: str, episodes: int, concurrencies: list[int], delay: float, folder: Path) -> list[dict[str, Any]]:
    """One row per concurrency: decisions/s, its ratio to the first concurrency's, and whether the results match."""
    from reflect_agent.cli import main
    from reflect_agent.harness import load_results, traces_path

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve, args=(delay, theirs), daemon=True)
    process.start()
    base_url = ours.recv()
    rows: list[dict[str, Any]] = []
    try:
        for concurrency in concurrencies:
            out = folder / f"concurrency{concurrency}.json"
            ours.send("stats")
            before, _ = ours.recv()
            with contextlib.redirect_stdout(io.StringIO()):  # the harness's table: this script prints its own
                status = main(
                    ["evaluate", "--env", env, "--agent", "openai:stub-model", "--openai-base-url", base_url]
                    + ["--concurrency", str(concurrency), "--episodes", str(episodes), "--out", str(out)]
                    + ["--no-progress"]
                )
            if status != 0:
                raise RuntimeError(f"reflect-rl evaluate at concurrency {concurrency} exited with {status}.")
            ours.send("stats")
            after, in_flight = ours.recv()
            (cell,) = load_results(out)
            traces = traces_path(out).read_bytes()
            first = rows[0] if rows else None
            rate = cell["decisions_per_second"]
            rows.append(
                {
                    "concurrency": concurrency,
                    "decisions": cell["decisions"],
                    "requests": after - before,
                    "max_in_flight": in_flight,
                    "agent_seconds": cell["decisions"] / rate,
                    "decisions_per_second": rate,
                    "ratio": rate / first["decisions_per_second"] if first else 1.0,
                    "same_results": first is None
                    or (all(cell[k] == first["cell"][k] for k in SAME) and traces == first["traces"]),
                    "cell": cell,
                    "traces": traces,
                }
            )
    finally:
        ours.send("stop")
        process.join(timeout=10)
    return rows


def decisions_per_step(env: str, episodes: int, concurrency: int) -> float:
    """The turns per decision that the episode runner gives an agent of this concurrency on these seeds, with the
    stub's replies but no server (the ceiling of the speed-up)."""
    from reflect_agent.agents import play
    from reflect_agent.episodes import Decision, Turn, make_envs
    from reflect_gym.wrappers import parse_action
    from tests.agent.chat_stub import hashed_reply

    decisions: list[int] = []

    class Counting:
        name = "hashed"
        batch_size = concurrency

        def reset(self, seed: int | None = None) -> None:
            pass

        def decide(self, turns: list[Turn], envs: object) -> Decision:
            decisions.append(len(turns))
            replies = [hashed_reply({"messages": [{"content": t.observation}]}) for t in turns]
            return Decision([parse_action(r, t.actions, reply=True) for r, t in zip(replies, turns, strict=True)])

    envs = make_envs(f"ReflectRL/{env}", concurrency)
    play(Counting(), envs, range(episodes))
    envs.close()
    return sum(decisions) / len(decisions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="DangerousTaxi-v0")
    parser.add_argument("--episodes", type=int, default=128)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the stub takes to answer a request")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "measure.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(args.env, args.episodes, args.concurrency, args.delay, Path(folder))
    lines = [
        f"{args.env}, {args.episodes} episodes (seeds 0-{args.episodes - 1}), stub answering after {args.delay:g} s",
        "",
        "| concurrency | decisions | most in flight | decisions per step | decisions/s | x sequential | same results |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        row["decisions_per_step"] = decisions_per_step(args.env, args.episodes, row["concurrency"])
        lines.append(
            f"| {row['concurrency']} | {row['decisions']} | {row['max_in_flight']} | {row['decisions_per_step']:.2f} | "
            f"{row['decisions_per_second']:.2f} | {row['ratio']:.2f} | {'yes' if row['same_results'] else 'NO'} |"
        )
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept = [{k: v for k, v in row.items() if k not in ("cell", "traces")} for row in rows]
    settings = {"env": args.env, "episodes": args.episodes, "delay": args.delay}
    args.out.write_text(json.dumps({**settings, "rows": kept}, indent=2) + "\n")


if __name__ == "__main__":
    main()
