"""The OpenAI-compatible agent against a real server, ``transformers serve`` (the ``serve`` extra) with SmolLM2-135M
Instruct on the CPU, at several concurrencies: the same results as one request at a time?

python -m experiments.harness_concurrency.transformers_serve [--episodes 6] [--concurrency 1 4]

The server binds 127.0.0.1 and reads the model folder of :func:`reflect_agent.models.smollm2_folder` offline. It
answers one request at a time, so no speed-up is expected: the point is that concurrent requests, queued by the
server, give the same replies (greedy, temperature 0) and so the same episodes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from experiments.harness_concurrency.measure import SAME


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="DangerousTaxi-v0")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()

    from reflect_agent.cli import main as reflect_rl
    from reflect_agent.harness import load_results, traces_path
    from reflect_agent.models import smollm2_folder

    folder, port = str(smollm2_folder()), free_port()
    command = [str(Path(sys.executable).parent / "transformers"), "serve", folder, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--device", "cpu", "--dtype", "float32"]
    with tempfile.TemporaryDirectory() as scratch:
        log = (Path(scratch) / "serve.log").open("w")
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"HF_HUB_OFFLINE": "1"}
        )
        try:
            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            deadline = time.monotonic() + 180
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"transformers serve did not start: {(Path(scratch) / 'serve.log').read_text()}")
                with contextlib.suppress(OSError):
                    if no_proxy.open(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                        break
                time.sleep(1)
            rows = []
            for concurrency in args.concurrency:
                out = Path(scratch) / f"concurrency{concurrency}.json"
                with contextlib.redirect_stdout(io.StringIO()):
                    status = reflect_rl(
                        ["evaluate", "--env", args.env, "--agent", f"openai:{folder}", "--episodes", str(args.episodes)]
                        + ["--openai-base-url", f"http://127.0.0.1:{port}/v1", "--openai-timeout", "600"]
                        + ["--concurrency", str(concurrency), "--out", str(out), "--no-progress"]
                    )
                if status != 0:
                    raise RuntimeError(f"reflect-rl evaluate at concurrency {concurrency} exited with {status}.")
                (cell,) = load_results(out)
                rows.append((concurrency, cell, traces_path(out).read_bytes()))
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    _, first, first_traces = rows[0]
    print(f"{args.env}, {args.episodes} episodes, transformers serve (SmolLM2-135M-Instruct, CPU, fp32)\n")
    print("| concurrency | decisions | success | invalid rate | decisions/s | same results |")
    print("|---:|---:|---:|---:|---:|---|")
    for concurrency, cell, traces in rows:
        same = all(cell[k] == first[k] for k in SAME) and traces == first_traces
        print(
            f"| {concurrency} | {cell['decisions']} | {cell['success_rate']:.2f} | {cell['invalid_action_rate']:.3f} | "
            f"{cell['decisions_per_second']:.2f} | {'yes' if same else 'NO'} |"
        )


if __name__ == "__main__":
    main()
