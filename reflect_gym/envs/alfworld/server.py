"""The ALFWorld game process: plays one TextWorld game at a time for one :class:`ALFWorldEnv`.

Run as ``python -m reflect_gym.envs.alfworld.server`` by :class:`reflect_gym.envs.alfworld.process.GameProcess`,
never imported by the env itself: TextWorld's PDDL engine keeps its game in process-wide state (the
Fast Downward library), so each env plays in a process of its own, which also lets the env stop a game
that hangs.

Protocol: one JSON request per line on stdin, one JSON answer per line on the original stdout (anything
TextWorld or Fast Downward prints goes to stderr instead). Requests:

* ``{"op": "reset", "game": DIR, "cache_dir": DIR, "expert": "handcoded"|"planner", "seed": INT}``
* ``{"op": "step", "command": STR}``

Answers hold ``feedback``, ``commands`` (admissible, sorted), ``won``, ``expert`` (the expert's next
command or ``null``), plus ``game_file`` after a reset; or ``{"error": TEXT}``. The process exits at the
end of stdin, or when its answer finds no reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import traceback
import zlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import textworld
from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredExpert
from alfworld.agents.utils.misc import add_task_to_grammar
from alfworld.info import ALFRED_PDDL_PATH, ALFRED_TWL2_PATH
from textworld.envs import PddlEnv

from reflect_gym.files import atomic_directory


class _Expert(AlfredExpert):
    """ALFWorld's ``AlfredExpert``, made robust to two failings of its hand-coded expert.

    * ALFWorld 0.4 renamed the command ``put X in/on Y`` to ``move X to Y``, but ``HandCodedTWAgent``
      still updates its inventory only on commands containing ``put``; after a ``move`` it believes it
      still holds the object and, in ``pick_two_obj_and_place``, never puts the second one down. It is
      shown the old verb.
    * The hand-coded expert raises when it gives up (``HandCodedAgentFailed``, a step limit, or an
      ``IndexError`` on some states); the game goes on and the plan is empty.
    """

    def _gather_infos(self) -> None:
        if self.prev_command.startswith("move "):
            self.prev_command = "put " + self.prev_command.removeprefix("move ")
        try:
            super()._gather_infos()
        except Exception:  # third-party heuristics: any failure of theirs just means "no advice"
            self.state["extra.expert_plan"] = []


def game_file(game: Path, cache_dir: Path) -> Path:
    """The TextWorld game file of ``game``, a folder holding ``traj_data.json``.

    A ``game.tw-pddl`` already in the folder (as ``alfworld-download`` ships them) is used in place.
    Otherwise the game is built from ``initial_state.pddl``, ALFWorld's domain and its grammar (with the
    task description filled in, as ``alfworld-generate`` does) into ``cache_dir``, atomically, once.
    """
    shipped = game / "game.tw-pddl"
    if shipped.is_file():
        return shipped
    problem = (game / "initial_state.pddl").read_text()
    traj_data = json.loads((game / "traj_data.json").read_text())
    task = {"task_type": traj_data["task_type"], "pddl_params": traj_data["pddl_params"]}
    domain, grammar = Path(ALFRED_PDDL_PATH).read_text(), Path(ALFRED_TWL2_PATH).read_text()
    key = json.dumps([version("alfworld"), domain, grammar, problem, task], sort_keys=True)
    folder = cache_dir / "games" / f"{game.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    built = folder / "game.tw-pddl"
    if built.is_file():
        return built
    # ALFWorld draws the task's wording from its templates with the global `random`; seed it with the
    # game's name so that a game always reads the same, on any machine.
    random.seed(zlib.crc32(game.name.encode()))
    data = {"pddl_domain": domain, "grammar": add_task_to_grammar(grammar, traj_data), "pddl_problem": problem}
    # A concurrent build of the same game that publishes first wins; its files are the same.
    with atomic_directory(folder, keep_existing=True) as staging:
        # The hand-coded expert reads traj_data.json next to the game file.
        (staging / "traj_data.json").write_text(json.dumps(task))
        (staging / "game.tw-pddl").write_text(json.dumps(data))
    return built


class GameServer:
    """Loads, resets and steps ALFWorld games with TextWorld, ALFWorld's demangler and its expert."""

    def __init__(self) -> None:
        self._env: _Expert | None = None
        self._expert_type = ""
        self._loaded = ""

    def reset(self, game: str, cache_dir: str, expert: str, seed: int) -> dict[str, Any]:
        path = str(game_file(Path(game), Path(cache_dir)))
        if self._env is None or expert != self._expert_type:
            infos = textworld.EnvInfos(won=True, admissible_commands=True)
            self._env = _Expert(AlfredDemangler(PddlEnv(infos), shuffle=False), expert_type=expert)
            self._expert_type, self._loaded = expert, ""
        if path != self._loaded:
            self._env.load(path)
            self._loaded = path
        random.seed(seed)  # the hand-coded expert breaks ties with the global `random`
        return {"game_file": path, **self._answer(self._env.reset())}

    def step(self, command: str) -> dict[str, Any]:
        if self._env is None:
            raise RuntimeError("step before reset")
        state, _, _ = self._env.step(command)
        return self._answer(state)

    @staticmethod
    def _answer(state: textworld.GameState) -> dict[str, Any]:
        plan = state.get("extra.expert_plan") or [None]
        return {
            "feedback": state["feedback"],
            "commands": list(state["admissible_commands"]),
            "won": bool(state["won"]),
            "expert": plan[0],
        }


def main() -> None:
    """Answer requests from stdin until it closes."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the answers
    server = GameServer()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "reset":
                answer = server.reset(request["game"], request["cache_dir"], request["expert"], request["seed"])
            else:
                answer = server.step(request["command"])
        except Exception:  # reported to the env, which raises it with the game's name
            answer = {"error": traceback.format_exc(limit=4)}
        try:
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
        except BrokenPipeError:
            # The env is gone (its process was killed): no one reads the answer. Its unsent bytes go to
            # devnull, so that the exit's own flush does not print a second traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), answers.fileno())
            return


if __name__ == "__main__":
    main()
