"""The episode traces page: one self-contained HTML file showing every traced episode, agents side by side.

    reflect-rl traces results.traces.jsonl --results results.json --out traces.html

The harness writes each played episode as one JSON line (the trace format below); :func:`build_page` turns a list
of them into a page that opens from disk in any browser, with no network and no library: inline CSS and plain
JavaScript. It shows

- a summary table, one row per env x agent: episodes, success rate with its 95% Wilson interval, mean return,
  mean steps and the share of invalid steps, computed from the traces; when the harness's results cells are
  given, their numbers are shown instead, and a cell whose traces disagree with them (other episode or success
  counts, for instance traces left by an earlier run) says so;
- the episodes in a grid, a row per (env, seed) and a column per agent, so that the agents' plays of the same
  episode sit side by side. Each episode is a collapsed ``<details>`` headed by its success mark, return,
  steps and invalid steps; opening it shows every turn: the chosen action (flagged when invalid) and reward,
  the state, the reflection, the admissible actions and the raw model reply, each collapsible;
- filters on env, agent and outcome (success or failure), which the URL's fragment also sets
  (``traces.html#agent=expert&outcome=failure``; ``open=N`` opens the N-th episode of the traces, from 0,
  replaced lines not counted).

The turns of an episode are built only when it is first opened, from a JSON copy of the traces embedded in the
page, so a page of a thousand episodes loads as a thousand one-line summaries. All text from the traces is
escaped: in the HTML by :func:`html.escape`, in the embedded JSON by ``\\u003c``-style escapes of ``<``, ``>``
and ``&`` (so no ``</script>`` in an observation ends the data), and the script writes it as text nodes only.

Trace format, one JSON object per line and per episode::

    {"env_id": str, "agent": str, "seed": int, "success": bool, "return": float, "steps": int,
     "terminated": bool, "truncated": bool,
     "turns": [{"state": str, "actions": [str], "reflection": str | null, "reply": str | null,
                "action": int (-1: the reply named no action), "action_text": str | null,
                "reward": float, "invalid": bool}]}

A later line for the same (env, agent, seed) replaces an earlier one: a cell that is run again appends its new
traces after the old ones.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reflect_agent.stats import wilson_interval
from reflect_gym.files import atomic_write

#: The first line of every page: :func:`reflect_gym.files.same_layout` recognizes an earlier page by it.
PAGE_FIRST_LINE = "<!DOCTYPE html><!-- reflect-rl episode traces page -->"

#: The keys of an episode line and of a turn, with the JSON types each must have.
EPISODE_KEYS: dict[str, tuple[type, ...]] = {
    "env_id": (str,),
    "agent": (str,),
    "seed": (int,),
    "success": (bool,),
    "return": (int, float),
    "steps": (int,),
    "terminated": (bool,),
    "truncated": (bool,),
    "turns": (list,),
}
TURN_KEYS: dict[str, tuple[type, ...]] = {
    "state": (str,),
    "actions": (list,),
    "reflection": (str, type(None)),
    "reply": (str, type(None)),
    "action": (int,),
    "action_text": (str, type(None)),
    "reward": (int, float),
    "invalid": (bool,),
}


def _check_keys(record: Any, keys: Mapping[str, tuple[type, ...]], where: str) -> None:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    for key, types in keys.items():
        if key not in record:
            raise ValueError(
                f"{where}: the key {key!r} is missing; the trace format (reflect_agent.trace_page) needs {sorted(keys)}."
            )
        value = record[key]
        # bool is an int in Python, but a seed or an action index of true is a writer's bug, not a number.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ValueError(f"{where}: {key!r} is {value!r}, expected {expected}.")


def load_traces(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The episodes of a traces file, one per non-blank line, in file order.

    Args:
        path: A JSON-lines file of the trace format (see the module docstring).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: A line is not JSON or not an episode of the trace format; the message names its line number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No traces file at {path}; pass the .traces.jsonl that reflect-rl evaluate wrote.")
    episodes = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                episode = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not a JSON line ({error}); is {path} a traces file?") from error
            _check_keys(episode, EPISODE_KEYS, where)
            for turn_number, turn in enumerate(episode["turns"]):
                _check_keys(turn, TURN_KEYS, f"{where}, turn {turn_number}")
                if not all(isinstance(action, str) for action in turn["actions"]):
                    raise ValueError(
                        f"{where}, turn {turn_number}: 'actions' is {turn['actions']!r}, expected strings."
                    )
            episodes.append(episode)
    return episodes


def latest_episodes(traces: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``traces`` with one episode per (env, agent, seed): the last line of each, at the place of its first."""
    latest: dict[tuple[str, str, int], Mapping[str, Any]] = {}
    for episode in traces:
        key = (episode["env_id"], episode["agent"], episode["seed"])
        latest[key] = episode  # a dict keeps the position of the first insertion of a key
    return list(latest.values())


@dataclass(frozen=True)
class CellSummary:
    """The measurements of one env x agent cell, as the harness's results file stores them.

    These are the numbers of :class:`reflect_agent.evaluation.EvalResult` that a results cell keeps, read back
    from the file or recomputed from traces. They are not an ``EvalResult``, whose module imports torch, so that
    the page can be built without it.

    Attributes:
        env_id: The env.
        agent: The agent spec.
        episodes: Episodes played.
        successes: Episodes that reached their goal.
        success_rate: ``successes / episodes``.
        ci_low: Lower end of the 95% Wilson interval of the success rate.
        ci_high: Upper end of that interval.
        mean_return: Mean undiscounted return.
        mean_steps: Mean number of steps.
        invalid_rate: Share of the steps that were invalid actions.
    """

    env_id: str
    agent: str
    episodes: int
    successes: int
    success_rate: float
    ci_low: float
    ci_high: float
    mean_return: float
    mean_steps: float
    invalid_rate: float

    @classmethod
    def of_traces(cls, episodes: Sequence[Mapping[str, Any]]) -> CellSummary:
        """The summary of the traced ``episodes`` of one cell.

        Raises:
            ValueError: No episodes, or episodes of several cells.
        """
        cells = {(e["env_id"], e["agent"]) for e in episodes}
        if len(cells) != 1:
            raise ValueError(f"A cell summary needs the episodes of exactly one env x agent, got {sorted(cells)}.")
        (env_id, agent), count = cells.pop(), len(episodes)
        successes = sum(bool(e["success"]) for e in episodes)
        steps = sum(e["steps"] for e in episodes)
        invalid = sum(bool(turn["invalid"]) for e in episodes for turn in e["turns"])
        low, high = wilson_interval(successes, count)
        return cls(
            env_id=env_id,
            agent=agent,
            episodes=count,
            successes=successes,
            success_rate=successes / count,
            ci_low=low,
            ci_high=high,
            mean_return=math.fsum(e["return"] for e in episodes) / count,
            mean_steps=steps / count,
            invalid_rate=invalid / max(steps, 1),
        )

    @classmethod
    def of_result(cls, cell: Mapping[str, Any]) -> CellSummary:
        """The summary stored in a result cell of the harness's results file (one with measurements)."""
        low, high = cell["success_ci95"]
        return cls(
            env_id=cell["env"],
            agent=cell["agent"],
            episodes=cell["episodes"],
            successes=cell["successes"],
            success_rate=cell["success_rate"],
            ci_low=low,
            ci_high=high,
            mean_return=cell["mean_return"],
            mean_steps=cell["mean_steps"],
            invalid_rate=cell["invalid_action_rate"],
        )


@dataclass(frozen=True)
class SummaryRow:
    """A row of the page's summary table.

    Attributes:
        env_id: The env.
        agent: The agent spec.
        summary: The cell's measurements; ``None`` for a cell the results file records as skipped or failed.
        source: Where the numbers come from: ``"traces"`` or ``"results"``.
        note: Why a cell was not run, or how its traces disagree with its results; empty when all is well.
    """

    env_id: str
    agent: str
    summary: CellSummary | None
    source: str
    note: str = ""


def summarize(
    traces: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]] | None = None
) -> list[SummaryRow]:
    """The summary table: one row per env x agent of ``traces``, in order of first appearance.

    Args:
        traces: Episodes of the trace format (one per (env, agent, seed), see :func:`latest_episodes`).
        results: The cells of the harness's results file (:func:`reflect_agent.harness.load_results`), or
            ``None``. When given, each cell is a row with its stored numbers, in the file's order, followed by
            the cells that only the traces hold.
    """
    by_cell: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for episode in traces:
        by_cell.setdefault((episode["env_id"], episode["agent"]), []).append(episode)
    traced = {key: CellSummary.of_traces(episodes) for key, episodes in by_cell.items()}
    rows = []
    for cell in results or ():
        key = (cell["env"], cell["agent"])
        from_traces = traced.pop(key, None)
        if "skipped" in cell or "error" in cell:
            reason = f"skipped: {cell['skipped']}" if "skipped" in cell else f"failed: {cell['error']}"
            if from_traces is not None:
                reason += f"; the traces hold {from_traces.episodes} episodes of an earlier run"
            rows.append(SummaryRow(*key, summary=None, source="results", note=reason))
            continue
        stored = CellSummary.of_result(cell)
        if from_traces is None:
            note = "no traces of this cell"
        elif (from_traces.episodes, from_traces.successes) != (stored.episodes, stored.successes):
            note = f"the traces hold {from_traces.episodes} episodes with {from_traces.successes} successes"
        else:
            note = ""
        rows.append(SummaryRow(*key, summary=stored, source="results", note=note))
    note = "" if results is None else "not in the results file"
    rows += [SummaryRow(*key, summary=summary, source="traces", note=note) for key, summary in traced.items()]
    return rows


def _text(value: Any) -> str:
    """``value`` as HTML text or attribute value (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else str(value)


def _json_number(value: float) -> float | str:
    """A reward for the embedded JSON, which has no NaN or infinity: those go as their names."""
    return value if math.isfinite(value) else str(value)


def _script_json(value: Any) -> str:
    """``value`` as JSON that can sit inside a ``<script>`` element: no ``<``, ``>`` or ``&`` in it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.2em; margin: 1.4em 0 .5em; }
.source { color: #555; margin: 0; }
table { border-collapse: collapse; }
#summary th, #summary td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
#summary td.name, #summary th.name { text-align: left; }
#summary td.note { text-align: left; color: #a15c00; }
#filters { display: flex; gap: 1.2em; align-items: center; margin-bottom: .8em; flex-wrap: wrap; }
#shown { color: #555; }
#episodes th, #episodes td { border: 1px solid #ddd; padding: .3em .5em; vertical-align: top; text-align: left; }
#episodes thead th { position: sticky; top: 0; background: #f2f2f4; }
#episodes td.episode-cell { min-width: 22em; max-width: 48em; }
#episodes td.env { white-space: nowrap; }
.mark { font-weight: bold; } .ok { color: #18794e; } .fail { color: #c62828; }
details.episode > summary { cursor: pointer; }
.turn-list { margin: .4em 0 0; padding-left: 2em; }
.turn { margin-bottom: .6em; border-left: 3px solid #c8d7ee; padding-left: .5em; }
.turn.invalid { border-left-color: #c62828; }
.turn-head { display: flex; gap: 1em; flex-wrap: wrap; }
.turn-head .action { font-weight: 600; }
.flag { color: #fff; background: #c62828; border-radius: 3px; padding: 0 .4em; font-size: .85em; }
.field > summary { color: #555; cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f9; padding: .4em; margin: .2em 0; }
li.chosen { font-weight: 600; }
"""

# Plain JavaScript, no library: the filters (also read from and written to the URL's fragment) and the turns of
# an episode, built on its first opening from the embedded JSON and written as text nodes only.
_SCRIPT = """
"use strict";
(() => {
  const dataNode = document.getElementById("trace-data");
  let turnsByEpisode = null;
  const turnsOf = (index) => (turnsByEpisode ??= JSON.parse(dataNode.textContent))[index];
  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const field = (label, text, open) => {
    const details = element("details", "field");
    details.open = open;
    details.append(element("summary", "", label), element("pre", "", text));
    return details;
  };

  function renderTurns(episode) {
    const holder = episode.querySelector(".turns");
    if (holder.dataset.rendered) return;
    holder.dataset.rendered = "1";
    const list = element("ol", "turn-list");
    list.start = 0;
    for (const turn of turnsOf(Number(episode.dataset.index))) {
      const item = element("li", turn.invalid ? "turn invalid" : "turn");
      const head = element("div", "turn-head");
      const chosen = turn.action >= 0 ? `[${turn.action}] ${turn.action_text ?? ""}` : "(the reply named no action)";
      head.append(element("span", "action", chosen), element("span", "reward", `reward ${turn.reward}`));
      if (turn.invalid) head.append(element("span", "flag", "invalid"));
      item.append(head, field("state", turn.state, true));
      if (turn.reflection !== null) item.append(field("reflection", turn.reflection, true));
      const actions = element("details", "field");
      actions.append(element("summary", "", `actions (${turn.actions.length})`));
      const options = element("ol");
      options.start = 0;
      turn.actions.forEach((text, index) => options.append(element("li", index === turn.action ? "chosen" : "", text)));
      actions.append(options);
      item.append(actions);
      if (turn.reply !== null) item.append(field("reply", turn.reply, false));
      list.append(item);
    }
    holder.append(list);
  }
  // toggle does not bubble: listen in the capture phase.
  document.getElementById("episodes").addEventListener("toggle", (event) => {
    if (event.target.open && event.target.classList.contains("episode")) renderTurns(event.target);
  }, true);

  const filters = {
    env: document.getElementById("filter-env"),
    agent: document.getElementById("filter-agent"),
    outcome: document.getElementById("filter-outcome"),
  };
  const rows = Array.from(document.querySelectorAll("#episodes tbody tr"));
  const total = document.querySelectorAll("#episodes .episode").length;

  function apply() {
    const env = filters.env.value, agent = filters.agent.value, outcome = filters.outcome.value;
    let shown = 0;
    for (const th of document.querySelectorAll("#episodes th[data-agent]")) {
      th.hidden = agent !== "" && th.dataset.agent !== agent;
    }
    for (const row of rows) {
      let any = false;
      for (const cell of row.querySelectorAll("td[data-agent]")) {
        const column = agent === "" || cell.dataset.agent === agent;
        cell.hidden = !column;
        const episode = cell.querySelector(".episode");
        if (episode === null) continue;
        const match = column && (env === "" || row.dataset.env === env)
          && (outcome === "" || episode.dataset.outcome === outcome);
        episode.hidden = !match;
        if (match) { any = true; shown += 1; }
      }
      row.hidden = !any;
    }
    for (const row of document.querySelectorAll("#summary tbody tr")) {
      row.hidden = (env !== "" && row.dataset.env !== env) || (agent !== "" && row.dataset.agent !== agent);
    }
    document.getElementById("shown").textContent = `${shown} of ${total} episodes shown`;
  }

  function readFragment() {
    const wanted = new URLSearchParams(location.hash.slice(1));
    for (const [name, select] of Object.entries(filters)) {
      const value = wanted.get(name) ?? "";
      // A value the page has no option for (a stale link) leaves that filter off.
      select.value = Array.from(select.options).some((option) => option.value === value) ? value : "";
    }
    apply();
    const index = wanted.has("open") ? Number(wanted.get("open")) : NaN;
    const open = Number.isInteger(index) ? document.querySelector(`#episodes .episode[data-index="${index}"]`) : null;
    if (open !== null) {
      open.open = true;
      renderTurns(open);  // now, not on the toggle event queued for later
      open.scrollIntoView();
    }
  }

  function writeFragment() {
    const wanted = new URLSearchParams();
    for (const [name, select] of Object.entries(filters)) if (select.value !== "") wanted.set(name, select.value);
    const fragment = wanted.toString();
    history.replaceState(null, "", fragment === "" ? location.pathname + location.search : `#${fragment}`);
  }

  for (const select of Object.values(filters)) select.addEventListener("change", () => { apply(); writeFragment(); });
  window.addEventListener("hashchange", readFragment);
  readFragment();
})();
"""


def _summary_table(rows: Sequence[SummaryRow]) -> list[str]:
    head = (
        "<table id='summary'><thead><tr><th class='name'>env</th><th class='name'>agent</th><th>episodes</th>"
        "<th>success (95% CI)</th><th>mean return</th><th>mean steps</th><th>invalid rate</th><th>source</th>"
        "<th class='name'>note</th></tr></thead><tbody>"
    )
    lines = [head]
    for row in rows:
        cells = [f"<td class='name'>{_text(row.env_id)}</td>", f"<td class='name'>{_text(row.agent)}</td>"]
        summary = row.summary
        if summary is None:
            cells += ["<td></td>"] * 5
        else:
            cells += [
                f"<td>{summary.episodes}</td>",
                f"<td>{_number(summary.success_rate, 2)} [{_number(summary.ci_low, 2)}, {_number(summary.ci_high, 2)}]"
                "</td>",
                f"<td>{_number(summary.mean_return, 3)}</td>",
                f"<td>{_number(summary.mean_steps, 2)}</td>",
                f"<td>{_number(summary.invalid_rate, 3)}</td>",
            ]
        cells += [f"<td>{_text(row.source)}</td>", f"<td class='note'>{_text(row.note)}</td>"]
        lines.append(f"<tr data-env='{_text(row.env_id)}' data-agent='{_text(row.agent)}'>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return lines


def _select(name: str, values: Iterable[str]) -> str:
    options = "".join(f"<option value='{_text(value)}'>{_text(value)}</option>" for value in values)
    return f"<label>{name} <select id='filter-{name}'><option value=''>all</option>{options}</select></label>"


def _episode(index: int, episode: Mapping[str, Any]) -> str:
    invalid = sum(bool(turn["invalid"]) for turn in episode["turns"])
    ending = "terminated" if episode["terminated"] else "truncated" if episode["truncated"] else "not ended"
    if episode["success"]:
        outcome, mark = "success", "<span class='mark ok' title='success'>&#10003;</span>"
    else:
        outcome, mark = "failure", "<span class='mark fail' title='failure'>&#10007;</span>"
    heading = (
        f"{mark} return {_number(episode['return'], 3)} &middot; {episode['steps']} "
        f"step{'' if episode['steps'] == 1 else 's'} &middot; "
        f"{invalid} invalid &middot; {ending}"
    )
    return (
        f"<details class='episode' data-index='{index}' data-outcome='{outcome}'><summary>{heading}</summary>"
        "<div class='turns'></div></details>"
    )


def build_page(
    traces: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]] | None = None,
    *,
    title: str = "Episode traces",
) -> str:
    """The traces page of ``traces``: one self-contained HTML document.

    Args:
        traces: Episodes of the trace format (:func:`load_traces`); of several lines for the same (env, agent,
            seed) the last is shown.
        results: The cells of the harness's results file, whose numbers the summary table then shows; ``None``:
            the summary is computed from the traces.
        title: The page's title and heading (escaped).

    Returns:
        The page, starting with :data:`PAGE_FIRST_LINE`.
    """
    episodes = latest_episodes(traces)
    replaced = len(traces) - len(episodes)
    env_ids = list(dict.fromkeys(e["env_id"] for e in episodes))
    agents = list(dict.fromkeys(e["agent"] for e in episodes))
    slots: dict[tuple[str, int], dict[str, int]] = {}
    for index, episode in enumerate(episodes):
        slots.setdefault((episode["env_id"], episode["seed"]), {})[episode["agent"]] = index
    order = sorted(slots, key=lambda slot: (env_ids.index(slot[0]), slot[1]))

    lines = [
        PAGE_FIRST_LINE,
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        f"<p class='source'>{len(episodes)} episodes, {len(env_ids)} envs, {len(agents)} agents"
        + (f"; {replaced} earlier lines replaced by later ones of the same episode" if replaced else "")
        + ". Summary numbers: "
        + ("the results file (where it has the cell)." if results is not None else "computed from the traces.")
        + "</p>",
        "<h2>Summary</h2>",
        *_summary_table(summarize(episodes, results)),
        "<h2>Episodes</h2>",
        "<form id='filters' onsubmit='return false'>",
        _select("env", env_ids),
        _select("agent", agents),
        _select("outcome", ["success", "failure"]),
        f"<span id='shown'>{len(episodes)} of {len(episodes)} episodes shown</span></form>",
        "<table id='episodes'><thead><tr><th>env</th><th>seed</th>"
        + "".join(f"<th data-agent='{_text(agent)}'>{_text(agent)}</th>" for agent in agents)
        + "</tr></thead><tbody>",
    ]
    for env_id, seed in order:
        played = slots[env_id, seed]
        cells = "".join(
            f"<td class='episode-cell' data-agent='{_text(agent)}'>"
            + (_episode(played[agent], episodes[played[agent]]) if agent in played else "")
            + "</td>"
            for agent in agents
        )
        lines.append(
            f"<tr data-env='{_text(env_id)}' data-seed='{seed}'><td class='env'>{_text(env_id)}</td><td>{seed}</td>{cells}</tr>"
        )
    data = [
        [
            {
                "state": turn["state"],
                "actions": turn["actions"],
                "reflection": turn["reflection"],
                "reply": turn["reply"],
                "action": turn["action"],
                "action_text": turn["action_text"],
                "reward": _json_number(turn["reward"]),
                "invalid": turn["invalid"],
            }
            for turn in episode["turns"]
        ]
        for episode in episodes
    ]
    lines += [
        "</tbody></table>",
        f"<script type='application/json' id='trace-data'>{_script_json(data)}</script>",
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(lines) + "\n"


def write_page(
    traces_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    results: Sequence[Mapping[str, Any]] | None = None,
    *,
    overwrite: bool = False,
) -> int:
    """Read a traces file and write its page to ``out`` (atomically).

    Args:
        traces_path: The traces file (see :func:`load_traces`).
        out: The page to write; an existing file is replaced only when it is an earlier traces page, or with
            ``overwrite``.
        results: The results cells whose numbers the summary shows (see :func:`build_page`).
        overwrite: Replace an existing ``out`` that reflect-rl did not write.

    Returns:
        The number of episodes on the page.

    Raises:
        reflect_gym.files.ForeignPathError: ``out`` exists, is not a traces page and ``overwrite`` is not set.
    """
    traces = load_traces(traces_path)
    page = build_page(traces, results, title=f"Episode traces: {Path(traces_path).name}")
    # A model's reply may hold a lone surrogate (JSON allows "\\ud800"), which UTF-8 cannot encode: it becomes "?".
    atomic_write(out, page.encode("utf-8", errors="replace"), overwrite=overwrite)
    return len(latest_episodes(traces))
