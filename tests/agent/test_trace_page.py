"""The episode traces page: every episode on it, hostile text escaped, the summary right, the filters there; and,
marked slow, the page as a real headless Chromium renders it."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reflect_agent.trace_page import PAGE_FIRST_LINE, build_page, load_traces, write_page
from reflect_gym.files import ForeignPathError

HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' </script><!--"
HOSTILE_AGENT = "openai:<img src=x onerror=alert(2)>"
TAXI, FILEQA = "ReflectRL/DangerousTaxi-v0", "ReflectRL/FileQA-Depth1-v0"


def turn(state: str, action: int, reward: float, invalid: bool = False, **extra) -> dict:
    """One turn of the trace format, with two admissible actions."""
    actions = ["go north", "go south"]
    return {
        "state": state,
        "actions": actions,
        "reflection": extra.get("reflection"),
        "reply": extra.get("reply"),
        "action": action,
        "action_text": actions[action] if action >= 0 else None,
        "reward": reward,
        "invalid": invalid,
    }


def episode(env_id: str, agent: str, seed: int, success: bool, rewards: list[float], invalid: int, **extra) -> dict:
    """An episode of the trace format whose first ``invalid`` turns are invalid actions."""
    turns = [turn(f"state {seed}.{t}", t % 2, r, invalid=t < invalid) for t, r in enumerate(rewards)]
    return {
        "env_id": env_id,
        "agent": agent,
        "seed": seed,
        "success": success,
        "return": sum(rewards),
        "steps": len(rewards),
        "terminated": success,
        "truncated": not success,
        "turns": turns,
        **extra,
    }


def hand_written_traces() -> list[dict]:
    """Two agents on three Taxi seeds, two on one FileQA seed whose observation and reply are hostile."""
    hostile_turns = [
        turn(HOSTILE, 1, 1.0, reflection=f"I saw {HOSTILE}", reply=f"Action: 1 {HOSTILE}"),
        turn("second </script> state", -1, -0.1, invalid=True, reply="no idea"),
    ]
    return [
        episode(TAXI, "random", 0, False, [-1.0, -1.0, -1.0], invalid=1),
        episode(TAXI, "random", 1, True, [-1.0, 6.0], invalid=0),
        episode(TAXI, "random", 2, False, [-10.0, -1.0, 0.5, -1.0, -1.0], invalid=2),
        episode(TAXI, "expert", 0, True, [-1.0, 20.0], invalid=0),
        episode(TAXI, "expert", 1, True, [20.0], invalid=0),
        episode(TAXI, "expert", 2, True, [-1.0, -1.0, 20.0], invalid=0),
        {**episode(FILEQA, HOSTILE_AGENT, 7, True, [1.0, -0.1], invalid=0), "turns": hostile_turns},
        episode(FILEQA, "expert", 7, True, [1.0], invalid=0),
    ]


def write_traces(path: Path, traces: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in traces))
    return path


class PageParser(HTMLParser):
    """The elements of a page (tag, attributes, text inside), as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "br", "input"):
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data

    def find(self, tag: str, **attrs) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag and all(e["attrs"].get(k) == v for k, v in attrs.items())]


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def summary_rows(parser: PageParser) -> dict[tuple[str, str], list[str]]:
    """The summary table's rows: (env, agent) -> the texts of its cells."""
    (table,) = parser.find("table", id="summary")
    start = parser.elements.index(table)
    rows: dict[tuple[str, str], list[str]] = {}
    for element in parser.elements[start:]:
        if element["tag"] == "table" and element is not table:
            break
        if element["tag"] == "tr" and "data-env" in element["attrs"]:
            cells = rows.setdefault((element["attrs"]["data-env"], element["attrs"]["data-agent"]), [])
        elif element["tag"] == "td":
            cells.append(element["text"])
    return rows


def test_the_page_holds_every_episode_in_its_env_seed_row_and_agent_column():
    traces = hand_written_traces()
    page = build_page(traces)
    assert page.startswith(PAGE_FIRST_LINE + "\n")
    parser = parse(page)
    episodes = parser.find("details")
    episodes = [e for e in episodes if e["attrs"].get("class") == "episode"]
    assert sorted(int(e["attrs"]["data-index"]) for e in episodes) == list(range(len(traces)))
    # Each episode sits in the row of its (env, seed), under its agent, with its outcome.
    where = {}
    row = cell = None
    for element in parser.elements:
        if element["tag"] == "tr" and "data-seed" in element["attrs"]:
            row = (element["attrs"]["data-env"], int(element["attrs"]["data-seed"]))
        elif element["tag"] == "td" and "data-agent" in element["attrs"]:
            cell = element["attrs"]["data-agent"]
        elif element in episodes:
            where[int(element["attrs"]["data-index"])] = (*row, cell, element["attrs"]["data-outcome"])
    expected = {
        i: (e["env_id"], e["seed"], e["agent"], "success" if e["success"] else "failure") for i, e in enumerate(traces)
    }
    assert where == expected
    headers = [e["text"] for e in parser.find("th") if "data-agent" in e["attrs"]]
    assert headers == ["random", "expert", HOSTILE_AGENT]
    assert "3 steps" in episodes[0]["text"] and "1 invalid" in episodes[0]["text"]
    # The turns travel in the embedded JSON, which gives back every state, reflection and reply as written.
    (data,) = parser.find("script", type="application/json")
    turns = json.loads(data["text"])
    assert turns == [e["turns"] for e in traces]


def test_hostile_text_is_escaped_everywhere():
    page = build_page(hand_written_traces(), title=f"traces of {HOSTILE}")
    assert "<script>alert" not in page and "<img" not in page and "<!--" not in page.split("\n", 1)[1]
    parser = parse(page)
    # Only the page's own two scripts: the data (never run) and the code.
    scripts = parser.find("script")
    assert [s["attrs"].get("type") for s in scripts] == ["application/json", None]
    assert not parser.find("img")
    # The text reads back as written: in the title, the summary, the agent column and the filter's options.
    assert parser.find("title")[0]["text"] == f"traces of {HOSTILE}"
    assert (FILEQA, HOSTILE_AGENT) in summary_rows(parser)
    (agent_filter,) = parser.find("select", id="filter-agent")
    assert HOSTILE_AGENT in [e["attrs"]["value"] for e in parser.find("option")]
    assert HOSTILE_AGENT in agent_filter["text"]
    # The embedded data ends only at its own </script>: an observation's </script> cannot close it.
    assert json.loads(scripts[0]["text"])[6][0]["state"] == HOSTILE


def test_the_summary_numbers_come_from_the_traces():
    rows = summary_rows(parse(build_page(hand_written_traces())))
    # random on Taxi: 1 success in 3, returns -3, 5 and -12.5, 10 steps of which 3 invalid.
    assert rows[TAXI, "random"][2:8] == ["3", "0.33 [0.06, 0.79]", "-3.500", "3.33", "0.300", "traces"]
    assert rows[TAXI, "expert"][2:8] == ["3", "1.00 [0.44, 1.00]", "19.000", "2.00", "0.000", "traces"]
    assert rows[FILEQA, HOSTILE_AGENT][2:8] == ["1", "1.00 [0.21, 1.00]", "0.900", "2.00", "0.500", "traces"]
    assert list(rows) == [(TAXI, "random"), (TAXI, "expert"), (FILEQA, HOSTILE_AGENT), (FILEQA, "expert")]


def test_results_cells_give_the_summary_numbers_and_disagreeing_traces_are_flagged():
    traces = hand_written_traces()
    stored = {
        "env": TAXI,
        "agent": "random",
        "episodes": 3,
        "successes": 1,
        "success_rate": 1 / 3,
        "success_ci95": [0.0615, 0.7923],
        "mean_return": -3.5,
        "mean_steps": 3.3333,
        "invalid_action_rate": 0.3,
    }
    results = [
        stored,
        {
            **stored,
            "agent": "expert",
            "episodes": 4,
            "successes": 4,
            "success_rate": 1.0,
            "success_ci95": [0.5101, 1.0],
            "mean_return": 19.25,
            "mean_steps": 2.5,
            "invalid_action_rate": 0.0,
        },
        {"env": FILEQA, "agent": "expert", "skipped": "the fileqa corpus is missing"},
        {**stored, "env": "ReflectRL/BabyAI-GoToLocal-v0"},
    ]
    rows = summary_rows(parse(build_page(traces, results)))
    assert rows[TAXI, "random"][2:] == ["3", "0.33 [0.06, 0.79]", "-3.500", "3.33", "0.300", "results", ""]
    assert rows[TAXI, "expert"][2:] == [
        "4", "1.00 [0.51, 1.00]", "19.250", "2.50", "0.000", "results", "the traces hold 3 episodes with 3 successes"
    ]  # fmt: skip
    assert rows[FILEQA, "expert"][2:] == ["", "", "", "", "", "results", (
        "skipped: the fileqa corpus is missing; the traces hold 1 episodes of an earlier run"
    )]  # fmt: skip
    assert rows["ReflectRL/BabyAI-GoToLocal-v0", "random"][-1] == "no traces of this cell"
    assert rows[FILEQA, HOSTILE_AGENT][-2:] == ["traces", "not in the results file"]


def test_a_later_line_of_the_same_episode_replaces_the_earlier():
    first = episode(TAXI, "random", 0, False, [-1.0, -1.0], invalid=0)
    rerun = episode(TAXI, "random", 0, True, [5.0], invalid=0)
    other = episode(TAXI, "random", 1, False, [-1.0], invalid=1)
    parser = parse(build_page([first, other, rerun]))
    episodes = [e for e in parser.find("details") if e["attrs"].get("class") == "episode"]
    assert [e["attrs"]["data-outcome"] for e in episodes] == ["success", "failure"]
    assert summary_rows(parser)[TAXI, "random"][2:4] == ["2", "0.50 [0.09, 0.91]"]
    assert "1 earlier lines replaced" in parser.find("p", **{"class": "source"})[0]["text"]


def test_the_filter_controls_list_the_envs_agents_and_outcomes():
    parser = parse(build_page(hand_written_traces()))
    values = {}
    for name in ("env", "agent", "outcome"):
        (select,) = parser.find("select", id=f"filter-{name}")
        start = parser.elements.index(select)
        options = []
        for element in parser.elements[start + 1 :]:
            if element["tag"] != "option":
                break
            options.append(element["attrs"]["value"])
        values[name] = options
    assert values == {
        "env": ["", TAXI, FILEQA],
        "agent": ["", "random", "expert", HOSTILE_AGENT],
        "outcome": ["", "success", "failure"],
    }
    assert parser.find("span", id="shown")[0]["text"] == "8 of 8 episodes shown"


def test_load_traces_names_the_line_and_key_that_break_the_format(tmp_path):
    path = write_traces(tmp_path / "t.jsonl", hand_written_traces()[:2])
    assert [e["seed"] for e in load_traces(path)] == [0, 1]
    broken = hand_written_traces()[0]
    del broken["turns"][1]["invalid"]
    with open(path, "a") as file:
        file.write("\n" + json.dumps(broken) + "\n")
    with pytest.raises(ValueError, match=r"t\.jsonl:4, turn 1: the key 'invalid' is missing"):
        load_traces(path)
    path.write_text('{"env_id": "x"\n')
    with pytest.raises(ValueError, match=r"t\.jsonl:1: not a JSON line"):
        load_traces(path)
    path.write_text(json.dumps({**hand_written_traces()[0], "seed": "0"}) + "\n")
    with pytest.raises(ValueError, match=r"'seed' is '0', expected int"):
        load_traces(path)
    with pytest.raises(FileNotFoundError, match="absent.jsonl"):
        load_traces(tmp_path / "absent.jsonl")


def test_write_page_writes_odd_text_and_replaces_only_its_own_pages(tmp_path):
    traces = hand_written_traces()
    traces[0]["turns"][0]["state"] = "a lone surrogate \ud800 and NaN"
    traces[0]["turns"][0]["reward"] = float("nan")
    path = write_traces(tmp_path / "t.jsonl", traces)
    out = tmp_path / "page.html"
    assert write_page(path, out) == len(traces)
    page = out.read_text(encoding="utf-8")
    (data,) = parse(page).find("script", type="application/json")
    assert json.loads(data["text"])[0][0]["reward"] == "nan"
    assert write_page(path, out) == len(traces)  # an earlier page: replaced
    foreign = tmp_path / "notes.html"
    foreign.write_text("<!DOCTYPE html>\nmine\n")
    with pytest.raises(ForeignPathError, match="--overwrite"):
        write_page(path, foreign)
    assert foreign.read_text() == "<!DOCTYPE html>\nmine\n"


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); the page cannot be rendered")
    return binary


def chromium(binary: str, profile: Path, *args: str) -> str:
    """Run headless Chromium with ``args``; its stdout."""
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dom(binary: str, profile: Path, page: Path, fragment: str = "") -> PageParser:
    """The page's DOM after its script ran, with ``fragment`` in its URL."""
    return parse(chromium(binary, profile, "--dump-dom", page.as_uri() + fragment))


def shown(parser: PageParser) -> tuple[str, list[int]]:
    """The episode counter and the indices of the episodes not hidden (in a row and a column not hidden)."""
    visible, hidden = [], False
    for element in parser.elements:
        if element["tag"] == "tr" and "data-seed" in element["attrs"]:
            row_hidden = "hidden" in element["attrs"]
        elif element["tag"] == "td" and "data-agent" in element["attrs"]:
            hidden = row_hidden or "hidden" in element["attrs"]
        elif element["attrs"].get("class") == "episode" and not hidden and "hidden" not in element["attrs"]:
            visible.append(int(element["attrs"]["data-index"]))
    return parser.find("span", id="shown")[0]["text"], visible


@pytest.mark.slow
def test_chromium_renders_the_page_filters_it_and_opens_an_episode_as_text(tmp_path):
    binary = chromium_binary()
    Image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    page, profile = tmp_path / "page.html", tmp_path / "profile"
    write_page(write_traces(tmp_path / "t.jsonl", hand_written_traces()), page)

    screenshot = tmp_path / "shot.png"
    chromium(binary, profile, f"--screenshot={screenshot}", "--window-size=1280,1024", page.as_uri() + "#open=6")
    with Image.open(screenshot) as image:
        assert image.format == "PNG" and image.size == (1280, 1024)
        colors = image.convert("RGB").getcolors(1 << 24)
    # Text, borders and the green and red marks: hundreds of colours; a blank or failed page has one or two.
    assert len(colors) > 50, colors
    assert max(count for count, _ in colors) < 0.95 * 1280 * 1024

    loaded = dom(binary, profile, page)
    assert list(summary_rows(loaded)) == [
        (TAXI, "random"),
        (TAXI, "expert"),
        (FILEQA, HOSTILE_AGENT),
        (FILEQA, "expert"),
    ]
    assert summary_rows(loaded)[TAXI, "random"][2:7] == ["3", "0.33 [0.06, 0.79]", "-3.500", "3.33", "0.300"]
    assert shown(loaded) == ("8 of 8 episodes shown", [0, 3, 1, 4, 2, 5, 7, 6])
    assert not [e for e in loaded.elements if e["tag"] == "li"]  # no turn is built before its episode opens

    assert shown(dom(binary, profile, page, "#agent=expert")) == ("4 of 8 episodes shown", [3, 4, 5, 7])
    taxi_failures = dom(binary, profile, page, "#env=ReflectRL%2FDangerousTaxi-v0&outcome=failure")
    assert shown(taxi_failures) == ("2 of 8 episodes shown", [0, 2])
    summary_shown = [
        (row["attrs"]["data-env"], row["attrs"]["data-agent"])
        for row in taxi_failures.find("tr")
        if "data-agent" in row["attrs"] and "hidden" not in row["attrs"]
    ]
    assert summary_shown == [(TAXI, "random"), (TAXI, "expert")]  # the summary follows the env filter

    opened = dom(binary, profile, page, "#open=6")
    turns = [e for e in opened.elements if e["tag"] == "li" and e["attrs"].get("class", "").startswith("turn")]
    assert [t["attrs"]["class"] for t in turns] == ["turn", "turn invalid"]
    assert [pre["text"] for pre in opened.find("pre")][:3] == [HOSTILE, f"I saw {HOSTILE}", f"Action: 1 {HOSTILE}"]
    assert [s["attrs"].get("type") for s in opened.find("script")] == ["application/json", None]
    assert not opened.find("img")


@pytest.mark.slow
def test_chromium_loads_a_page_of_a_thousand_episodes_without_building_their_turns(tmp_path):
    binary = chromium_binary()
    description = "a room with a long description. " * 15
    traces = []
    for agent in ("random", "expert"):
        for seed in range(500):
            turns = [turn(f"{agent} seed {seed} turn {t}: {description}", t % 2, -1.0) for t in range(20)]
            traces.append({**episode(TAXI, agent, seed, seed % 3 == 0, [-1.0] * 20, invalid=0), "turns": turns})
    page = tmp_path / "page.html"
    write_page(write_traces(tmp_path / "t.jsonl", traces), page)
    assert page.stat().st_size > 10_000_000  # the turns are all there, as data

    loaded = dom(binary, tmp_path / "profile", page, "#open=999")
    assert shown(loaded) == ("1000 of 1000 episodes shown", [i + offset for i in range(500) for offset in (0, 500)])
    turns = [e for e in loaded.elements if e["tag"] == "li" and e["attrs"].get("class") == "turn"]
    # Only the opened episode's turns are in the DOM.
    assert len(turns) == 20 and all(t["text"].count("expert seed 499 turn") == 1 for t in turns)
