"""DangerousTaxi: Gymnasium's Taxi in words, where a wasted move ends the episode."""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from gymnasium.envs.toy_text.taxi import MAP, TaxiEnv

from reflect_gym.core import InvalidActionMode, TextEnv

Stage = Literal["pickup", "dropoff", "full"]
STAGES: tuple[str, ...] = ("pickup", "dropoff", "full")

#: Taxi's actions, in Taxi's order, as words.
ACTIONS: tuple[str, ...] = (
    "move south",
    "move north",
    "move east",
    "move west",
    "pick up passenger",
    "drop off passenger",
)
_PICKUP, _DROPOFF = 4, 5
_IN_TAXI = 4
_DEPOT_NAMES = ("red", "green", "yellow", "blue")
_STEP_REWARD = -1 / 20
_GOAL_REWARD = 1.0
_DANGER_PENALTY = -10 / 20
_UNREACHABLE = 10**6


class _TaxiTables:
    """Taxi's deterministic transitions and, per stage, each state's distance to the goal."""

    def __init__(self) -> None:
        taxi = TaxiEnv()
        self.locs: list[tuple[int, int]] = [tuple(loc) for loc in taxi.locs]
        self.decode = [tuple(taxi.decode(s)) for s in range(500)]
        # next_state[s, a]; Taxi-v4 without rain or fickleness has exactly one transition per (s, a).
        self.next_state = np.array([[taxi.P[s][a][0][1] for a in range(6)] for s in range(500)], dtype=np.int64)
        self.delivered = np.array([[taxi.P[s][a][0][3] for a in range(6)] for s in range(500)], dtype=bool)
        self.distance = {stage: self._distances(stage) for stage in STAGES}
        self.expert = {stage: self._expert_table(stage) for stage in STAGES}
        # The dropoff stage starts where the pickup expert, driven from a full-task start, lifts the passenger.
        self.pickup_end = np.array([self._follow_expert(s, "pickup") for s in range(500)], dtype=np.int64)

    def succeeds(self, stage: str, state: int, action: int) -> bool:
        """Whether ``action`` in ``state`` reaches the goal of ``stage``."""
        if stage == "pickup":
            return action == _PICKUP and self.decode[state][2] != _IN_TAXI and self.next_state[state, action] != state
        return bool(self.delivered[state, action])

    def _expert_table(self, stage: str) -> np.ndarray:
        """Per state, the first action in Taxi's order on a shortest path to the goal; never wasted."""
        distance = self.distance[stage]
        table = np.zeros(500, dtype=np.int64)
        for state in range(500):
            best_cost = _UNREACHABLE + 1
            for action in range(6):
                if self.succeeds(stage, state, action):
                    table[state] = action
                    break
                after = self.next_state[state, action]
                if after != state and distance[after] + 1 < best_cost:
                    table[state], best_cost = action, distance[after] + 1
        return table

    def _follow_expert(self, state: int, stage: str) -> int:
        """The state in which the expert of ``stage`` reaches its goal, starting from ``state``."""
        if self.distance[stage][state] >= _UNREACHABLE:
            return state
        while True:
            action = int(self.expert[stage][state])
            if self.succeeds(stage, state, action):
                return int(self.next_state[state, action])
            state = int(self.next_state[state, action])

    def _distances(self, stage: str) -> np.ndarray:
        """Fewest steps from each state to the stage's goal, by repeated relaxation (500 x 6, tiny)."""
        distance = np.full(500, _UNREACHABLE, dtype=np.int64)
        changed = True
        while changed:
            changed = False
            for state in range(500):
                for action in range(6):
                    if self.succeeds(stage, state, action):
                        candidate = 1
                    else:
                        after = self.next_state[state, action]
                        if after == state:
                            continue
                        candidate = 1 + distance[after]
                    if candidate < distance[state]:
                        distance[state] = candidate
                        changed = True
        return distance


@functools.cache
def _tables() -> _TaxiTables:
    return _TaxiTables()


@functools.cache
def _start_states(stage: str) -> np.ndarray:
    """Every state an episode of ``stage`` can start in (Taxi's start distribution; dropoff: after pickup)."""
    tables = _tables()
    starts = [
        ((row * 5 + column) * 5 + passenger) * 4 + destination
        for row in range(5)
        for column in range(5)
        for passenger in range(4)
        for destination in range(4)
        if passenger != destination
    ]
    if stage == "dropoff":
        starts = [int(tables.pickup_end[state]) for state in starts]
    return np.array(sorted(set(starts)), dtype=np.int64)


class DangerousTaxiEnv(TextEnv):
    """Taxi as text, where an action that changes nothing ends the episode.

    ## Description
    Gymnasium's Taxi (``Taxi-v4``: the 5x5 map with four depots R, G, Y, B), following the Reflect-RL
    paper's DangerousTaxi: a taxi must pick up a passenger waiting at one depot and drop them off at
    another. Any *wasted* action, one that leaves the state unchanged (driving into a wall, picking up
    where no passenger waits, dropping off with no passenger aboard), ends the episode with a penalty.

    ## Observation Space
    A ``str`` (:class:`reflect_gym.core.PromptText`, ``max_length=1024``): the task, the map, the
    positions in words, then the numbered actions. Example (stage ``full``)::

        Drive the taxi to the passenger, pick them up, then drop them off at the destination.
        A move into a wall (|) or a pick-up or drop-off that does nothing ends the episode.
        Map (T: taxi, @: taxi carrying the passenger, P: passenger, D: destination):
        +---------+
        |P: | : :D|
        | : | : : |
        | : : :T: |
        | | : | : |
        |Y| : |B: |
        +---------+
        Taxi: row 2, column 3 (row 0 is the top, column 0 the left).
        Passenger: waiting at the red depot R, row 0, column 0.
        Destination: the green depot G, row 0, column 4.

        0. move south
        1. move north
        2. move east
        3. move west
        4. pick up passenger
        5. drop off passenger

    The cell marker wins in this order: taxi (``T`` or ``@``), passenger ``P``, destination ``D``, the
    depot's letter. ``structured_observation()`` returns Taxi's own state index (``Discrete(500)``).

    ## Action Space
    ``Discrete(6)``, Taxi's actions in Taxi's order, all six always admissible.

    ## Rewards
    Taxi's rewards divided by 20, as in the paper: each step -0.05; reaching the stage's goal +1
    (a delivery in ``full`` and ``dropoff``, the pick-up in ``pickup``); a wasted action -0.5 (Taxi's
    illegal-action penalty) and the episode ends. A drop-off at a depot that is not the destination
    is legal in Taxi (the passenger waits there) and costs a step.

    ## Episode End
    Terminated on success or on a wasted action; truncated after ``horizon`` steps.

    ## Information
    The ReflectRL contract's keys (``actions``, ``action_mask``, ``state``, ``invalid_action``,
    ``success``). ``state_facts()`` (see :mod:`reflect_gym.core`) returns the positions the text
    describes, cells as ``[row, column]`` with row 0 the top and column 0 the left:

    - ``taxi``: the taxi's cell.
    - ``passenger_aboard``: whether the passenger is in the taxi.
    - ``passenger_depot``, ``passenger``: the name (``"red"``, ``"green"``, ``"yellow"``, ``"blue"``)
      and cell of the depot where the passenger waits; ``None`` while aboard.
    - ``destination_depot``, ``destination``: the destination depot's name and cell.

    ## Arguments
    - ``stage``: ``"pickup"`` (success once the passenger is in the taxi), ``"dropoff"`` (the episode
      starts with the passenger aboard, in the state the expert reaches from a random start), or
      ``"full"``.
    - ``horizon``: steps before truncation (default 15, the paper's). Start states are drawn from
      Taxi's start distribution, redrawn until the expert can reach the goal within ``horizon`` steps,
      so every episode is solvable.
    - ``invalid_action``, ``invalid_action_penalty``: see :class:`reflect_gym.core.TextEnv` (all six
      actions are always admissible here, so only out-of-list indices matter).
    - ``render_mode``: ``None`` or ``"ansi"`` (the map and positions).

    ``reset(options={"state": s})`` starts the episode in Taxi state ``s`` (the index that
    ``structured_observation()`` returns) instead of a drawn one, e.g. to evaluate a policy on every
    state; ``s`` must reach the stage's goal within ``horizon`` steps.

    ## Registered Configurations
    ``ReflectRL/DangerousTaxi-v0`` (``full``), ``ReflectRL/DangerousTaxi-Pickup-v0``,
    ``ReflectRL/DangerousTaxi-Dropoff-v0``.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        stage: Stage = "full",
        horizon: int = 15,
        invalid_action: InvalidActionMode = "penalty",
        invalid_action_penalty: float = _DANGER_PENALTY,
        render_mode: str | None = None,
    ):
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}.")
        super().__init__(
            max_actions=len(ACTIONS),
            max_length=1024,
            horizon=horizon,
            invalid_action=invalid_action,
            invalid_action_penalty=invalid_action_penalty,
            render_mode=render_mode,
        )
        shortest = int(min(_tables().distance[stage][_start_states(stage)]))
        if horizon < shortest:
            raise ValueError(
                f"horizon={horizon} is too short for stage {stage!r}: its shortest episode takes {shortest} steps. "
                f"Use horizon >= {shortest}."
            )
        self.stage = stage
        self.structured_observation_space = spaces.Discrete(500)
        self._tables = _tables()
        self._distance = self._tables.distance[stage]
        self._expert = self._tables.expert[stage]
        self._taxi_state = 0
        self._texts: dict[int, str] = {}

    # -- structured state, for classical baselines ------------------------------------------------

    def structured_observation(self) -> int:
        """Taxi's state index ``((row * 5 + column) * 5 + passenger) * 4 + destination``."""
        return self._taxi_state

    def state_facts(self) -> dict[str, Any]:
        """The taxi's, the passenger's and the destination's places (see the Information section)."""
        row, column, passenger, destination = self._tables.decode[self._taxi_state]
        locs = self._tables.locs
        aboard = passenger == _IN_TAXI
        return {
            "taxi": [int(row), int(column)],
            "passenger_aboard": bool(aboard),
            "passenger_depot": None if aboard else _DEPOT_NAMES[passenger],
            "passenger": None if aboard else [int(c) for c in locs[passenger]],
            "destination_depot": _DEPOT_NAMES[destination],
            "destination": [int(c) for c in locs[destination]],
        }

    # -- TextEnv hooks --------------------------------------------------------------------------

    def _reset_state(self, options: dict[str, Any] | None) -> None:
        if options and "state" in options:
            self._taxi_state = self._checked_start(options["state"])
            return
        while True:
            row, column, passenger, offset = self.np_random.integers((5, 5, 4, 3))
            destination = (passenger + 1 + offset) % 4  # uniform over the other three depots
            state = int(((row * 5 + column) * 5 + passenger) * 4 + destination)
            if self.stage == "dropoff":
                state = int(self._tables.pickup_end[state])
            if self._distance[state] <= self.horizon:
                break
        self._taxi_state = state

    def _checked_start(self, state: Any) -> int:
        if not isinstance(state, (int, np.integer)) or not 0 <= state < 500:
            raise ValueError(f"options['state'] must be a Taxi state index in [0, 500), got {state!r}.")
        if self._distance[state] > self.horizon:
            steps = "never" if self._distance[state] >= _UNREACHABLE else f"in {self._distance[state]} steps"
            raise ValueError(
                f"Taxi state {state} reaches the goal of stage {self.stage!r} {steps}, beyond horizon={self.horizon}; "
                "pick another state or a longer horizon."
            )
        return int(state)

    def _admissible_actions(self) -> list[str]:
        return list(ACTIONS)

    def _state_text(self) -> str:
        text = self._texts.get(self._taxi_state)
        if text is None:
            text = self._texts[self._taxi_state] = self._describe(self._taxi_state)
        return text

    def _apply(self, index: int) -> tuple[float, bool, bool]:
        state = self._taxi_state
        if self._tables.succeeds(self.stage, state, index):
            self._taxi_state = int(self._tables.next_state[state, index])
            return _GOAL_REWARD, True, True
        after = int(self._tables.next_state[state, index])
        if after == state:
            return _DANGER_PENALTY, True, False
        self._taxi_state = after
        return _STEP_REWARD, False, False

    def start_states(self) -> list[int]:
        """The Taxi states an episode of this stage can start in (within ``horizon`` of the goal).

        Dropoff episodes start where a pick-up leaves the taxi: at the passenger's depot, with one of three
        destinations, so twelve states.
        """
        return [int(state) for state in _start_states(self.stage) if self._distance[state] <= self.horizon]

    def steps_to_goal(self, state: int | None = None) -> int:
        """The expert's number of steps from ``state`` (default: the current one) to the stage's goal."""
        return int(self._distance[self._taxi_state if state is None else state])

    def expert_action(self) -> int:
        """The first action, in Taxi's order, on a shortest path to the stage's goal; never wasted."""
        return int(self._expert[self._taxi_state])

    def shortest_path_actions(self) -> list[int]:
        """Every action that reaches the stage's goal or a state one step closer to it (the expert's among them)."""
        state, tables = self._taxi_state, self._tables
        return [
            action
            for action in range(len(ACTIONS))
            if tables.succeeds(self.stage, state, action)
            or (
                tables.next_state[state, action] != state
                and self._distance[tables.next_state[state, action]] == self._distance[state] - 1
            )
        ]

    def wasted_actions(self) -> list[int]:
        """The actions that change nothing in the current state, and so end the episode."""
        return [
            action
            for action in range(len(ACTIONS))
            if self._tables.next_state[self._taxi_state, action] == self._taxi_state
        ]

    # -- text -----------------------------------------------------------------------------------

    def _describe(self, state: int) -> str:
        row, column, passenger, destination = self._tables.decode[state]
        locs = self._tables.locs
        grid = [list(line) for line in MAP]

        def mark(cell: tuple[int, int], symbol: str) -> None:
            grid[cell[0] + 1][2 * cell[1] + 1] = symbol

        mark(locs[destination], "D")
        if passenger != _IN_TAXI:
            mark(locs[passenger], "P")
        mark((row, column), "@" if passenger == _IN_TAXI else "T")

        if self.stage == "pickup":
            task = "Drive the taxi to the passenger and pick them up."
        elif self.stage == "dropoff":
            task = "The passenger is in the taxi: drive to the destination and drop them off."
        else:
            task = "Drive the taxi to the passenger, pick them up, then drop them off at the destination."

        def depot(index: int) -> str:
            r, c = locs[index]
            return f"the {_DEPOT_NAMES[index]} depot {MAP[r + 1][2 * c + 1]}, row {r}, column {c}"

        where = "in the taxi." if passenger == _IN_TAXI else f"waiting at {depot(passenger)}."
        lines = [
            task,
            "A move into a wall (|) or a pick-up or drop-off that does nothing ends the episode.",
            "Map (T: taxi, @: taxi carrying the passenger, P: passenger, D: destination):",
            *("".join(line) for line in grid),
            f"Taxi: row {row}, column {column} (row 0 is the top, column 0 the left).",
            f"Passenger: {where}",
            f"Destination: {depot(destination)}.",
        ]
        return "\n".join(lines)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._state
        return None
