"""services/map_filters.py, the server's twin of the map's filter predicates: each filter kind
on hand-made records, then the browser's own JavaScript (assets/mieruka-map.js, run in node)
against the twin, on a table of odd cases and on every layer of the default deployment."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from registry import FilterOption, FilterSpec, LayerSpec, SourceSpec
from services.map_filters import (
    ActiveFilter,
    LayerView,
    Now,
    layer_view,
    match,
    now_parts,
    search_key,
    time_dependent,
)
from services.map_state import area_members, layer_meta

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
JST = ZoneInfo("Asia/Tokyo")
MON_NOON = Now(0, 12 * 60, "2026-12-07")  # 2026-12-07 is a Monday


def spec(fid: str, kind: str, fields=(), options=()) -> FilterSpec:
    return FilterSpec(fid, kind, {"ja": fid, "en": fid}, tuple(fields), tuple(FilterOption(o, {"ja": o}) for o in options))


def layer(*filters: FilterSpec, lid: str = "t") -> LayerSpec:
    return LayerSpec(id=lid, title={"ja": lid, "en": lid}, description={}, icon="t", shape="circle", colour="#000000",
                     source=SourceSpec("bundled"), fields=(), popup=(), filters=filters, licence={}, credit={})


def passes(record: dict, on: LayerSpec, values: dict, now: Now = MON_NOON, q: str = "", areas=None,
           latest: str | None = None) -> bool:
    return match(record, layer_view(on, values, areas, q, latest), now)


# ---------- the twin on its own ----------

def test_search_key() -> None:
    assert search_key("オオサカ") == search_key("おおさか") == search_key("ｵｵｻｶ") == "おおさか"
    assert search_key("ＡＢＣ　ホイク\tルーム") == "abcほいくるーむ"
    assert search_key("㌀") == "あぱーと"  # NFKC first, then kana
    assert search_key("ヷ") == "ヷ"  # U+30F7 is past the katakana that have a hiragana
    assert search_key(None) == search_key("") == search_key(0) == search_key(False) == ""
    assert search_key(12.5) == "12.5" and search_key(True) == "true" and search_key([1, None, "x"]) == "1,,x"
    assert search_key("a\x85b\ufeffc") == "a\x85bc"  # JS \s: U+FEFF is white space, NEL is not


def test_now_parts() -> None:
    at = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)  # Tuesday 00:00 in Tokyo
    assert now_parts("Asia/Tokyo", at) == now_parts("", at) == Now(1, 0, "2026-12-08")
    assert now_parts("America/New_York", dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)) == Now(6, 180, "2026-03-08")
    with pytest.raises(ValueError):
        now_parts("Asia/Tokyo", dt.datetime(2026, 12, 7, 12, 0))


def test_layer_view_and_time_dependence() -> None:
    on = layer(spec("a", "flag", ["a"]), spec("open", "open_now", ["open_time", "close_time"]),
               spec("v", "vacancy", ["v"]), spec("when", "date_window", ["s", "e"]))
    view = layer_view(on, {"v": "1", "a": "1", "open": "", "zzz": "1"}, ["271021"], " ｶﾅ ", "2026-11")
    assert view == LayerView("かな", ("271021",), (ActiveFilter("a", "flag", ("a",), "1", "2026-11"),
                                                   ActiveFilter("v", "vacancy", ("v",), "1", "2026-11")))
    assert not time_dependent(view)
    assert time_dependent(layer_view(on, {"open": "1"}, None, "", None))
    assert time_dependent(layer_view(on, {"when": "today"}, None, "", None))
    # as JS values: true is "1", false and null are left out, a number is its text
    assert [f.value for f in layer_view(on, {"a": True, "open": False, "v": 0, "when": None}, None, None, None).filters] == ["1", "0"]


def test_flag() -> None:
    own = layer(spec("wheelchair", "flag", ["wheelchair"]))
    assert passes({"wheelchair": True}, own, {"wheelchair": "1"})
    for odd in (False, None, "yes", "true", 1, [True]):
        assert not passes({"wheelchair": odd}, own, {"wheelchair": "1"})
    assert not passes({}, own, {"wheelchair": "1"})
    hazards = layer(spec("hazard", "flag", ["flood", "tsunami"], ["flood", "tsunami"]))
    assert passes({"tsunami": True}, hazards, {"hazard": "tsunami"})
    assert not passes({"flood": True}, hazards, {"hazard": "tsunami"})
    assert passes({"flood": True}, hazards, {"hazard": "1"})  # "1" is the first field


def test_open_now() -> None:
    on = layer(spec("open_now", "open_now", ["days", "open_time", "close_time"]))
    day = {"days": [0, 1, 2, 3, 4], "open_time": "09:00", "close_time": "17:00"}
    night = {"open_time": "22:00", "close_time": "06:00"}  # no days: every day

    def at(weekday: int, hhmm: str) -> Now:
        h, m = map(int, hhmm.split(":"))
        return Now(weekday, h * 60 + m, "2026-12-07")

    assert passes(day, on, {"open_now": "1"}, at(0, "09:00"))
    assert not passes(day, on, {"open_now": "1"}, at(0, "17:00"))  # closing time is closed
    assert not passes(day, on, {"open_now": "1"}, at(5, "12:00"))  # Saturday
    assert passes(night, on, {"open_now": "1"}, at(6, "23:30")) and passes(night, on, {"open_now": "1"}, at(2, "05:59"))
    assert not passes(night, on, {"open_now": "1"}, at(2, "06:00"))
    assert passes({"open_time": "08:00", "close_time": "08:00"}, on, {"open_now": "1"}, at(3, "03:00"))  # close <= open
    assert not passes({**day, "days": []}, on, {"open_now": "1"}, at(0, "12:00"))  # [] is no day, not every day
    assert not passes({"open_time": "09:00"}, on, {"open_now": "1"})  # no closing time
    assert passes({"open_time": "9:00", "close_time": "17:00", "days": "0,1"}, on, {"open_now": "1"})  # a text: indexOf
    assert not passes({"open_time": "0900", "close_time": "1700"}, on, {"open_now": "1"})  # NaN minutes


def test_open_24h() -> None:
    on = layer(spec("h24", "open_24h", ["days", "open_time", "close_time"]))
    always = {"days": list(range(7)), "open_time": "00:00", "close_time": "24:00"}
    assert passes(always, on, {"h24": "1"})
    assert passes({"open_time": "00:00", "close_time": "23:59"}, on, {"h24": "1"})
    assert not passes({**always, "days": list(range(6))}, on, {"h24": "1"})
    assert not passes({**always, "open_time": "0:00"}, on, {"h24": "1"})
    assert not passes({**always, "close_time": "00:00"}, on, {"h24": "1"})


def test_choice_and_contains() -> None:
    choice = layer(spec("kind", "choice", ["kind"]))
    assert passes({"kind": "病院"}, choice, {"kind": "病院"})
    assert not passes({"kind": "病院 "}, choice, {"kind": "病院"}) and not passes({"kind": 1}, choice, {"kind": "1"})
    assert not passes({"kind": ["病院"]}, choice, {"kind": "病院"})
    contains = layer(spec("kind", "contains", ["kind"]))
    assert passes({"kind": ["指定緊急避難場所", "指定避難所"]}, contains, {"kind": "指定避難所"})
    assert not passes({"kind": ["指定緊急避難場所"]}, contains, {"kind": "避難所"})  # an element, not a part of one
    assert passes({"kind": "指定緊急避難場所"}, contains, {"kind": "避難"})  # a part of a text
    assert not passes({"kind": [1]}, contains, {"kind": "1"}) and not passes({"kind": None}, contains, {"kind": "1"})
    with pytest.raises(TypeError):  # as the JS: a number has no indexOf
        passes({"kind": 12}, contains, {"kind": "1"})


def test_vacancy() -> None:
    on = layer(spec("v", "vacancy", ["vacancies"], ["0", "1", "2"]))
    record = {"vacancies": {"2026-10": [0, 2, 0], "2026-11": [0, 0, None]}}
    assert not passes(record, on, {"v": "any"}, latest="2026-11")
    assert passes(record, on, {"v": "any@2026-10"}, latest="2026-11")
    assert passes(record, on, {"v": "1@2026-10"}, latest="2026-11")
    assert passes(record, on, {"v": "@2026-10"}, latest="2026-11")  # empty age: any
    assert not passes(record, on, {"v": "1"}, latest="2026-11")  # the latest month by default
    assert passes(record, on, {"v": "1"}, latest="2026-10")
    assert not passes(record, on, {"v": "9@2026-10"}, latest="2026-11")
    assert not passes(record, on, {"v": "any@2026-09"}, latest="2026-11")
    assert passes({"vacancies": {"2026-11": [0, "1"]}}, on, {"v": "1"}, latest="2026-11")  # "1" > 0
    assert not passes({}, on, {"v": "any"}, latest="2026-11")


def test_air_level() -> None:
    on = layer(spec("level", "air_level"))
    record = {"readings": {"PM2.5": {"value": 40.0, "level": 3}, "NO2": {"value": 0.01, "level": 1}}}
    assert passes(record, on, {"level": "PM2.5:2"}) and passes(record, on, {"level": "PM2.5:3"})
    assert not passes(record, on, {"level": "PM2.5:4"})
    assert passes(record, on, {"level": "NO2"}) and passes(record, on, {"level": "NO2:"})  # no level: 1
    assert not passes(record, on, {"level": "NO2:2"}) and not passes(record, on, {"level": "SO2:1"})
    assert not passes({"readings": {"PM2.5": {"level": None}}}, on, {"level": "PM2.5:1"})
    assert passes({"readings": {"PM2.5": {"level": None}}}, on, {"level": "PM2.5:0"})  # null >= 0
    assert not passes({"readings": {"PM2.5": {}}}, on, {"level": "PM2.5:0"})  # undefined >= 0 is false
    assert not passes({"readings": {"PM2.5": {"level": 3}}}, on, {"level": "PM2.5:２"})  # parseInt: NaN
    assert not passes({}, on, {"level": "PM2.5:1"})


def test_date_window() -> None:
    on = layer(spec("when", "date_window", ["start_date", "end_date"]))
    now = Now(0, 600, "2026-12-28")
    three_days = {"start_date": "2026-12-29", "end_date": "2026-12-31"}
    assert not passes(three_days, on, {"when": "today"}, now)
    assert passes(three_days, on, {"when": "week"}, now)
    assert passes({"start_date": "2027-01-03"}, on, {"when": "week"}, now)  # today + 6 days, across the year
    assert not passes({"start_date": "2027-01-04"}, on, {"when": "week"}, now)
    assert passes({"start_date": "2026-12-28"}, on, {"when": "today"}, now)  # no end: the start
    assert passes(three_days, on, {"when": "2026-12-31..2027-01-05"}, now)
    assert not passes(three_days, on, {"when": "2027-01-01.."}, now)
    assert passes(three_days, on, {"when": "..2026-12-29"}, now)
    assert not passes(three_days, on, {"when": "..2026-12-28"}, now)
    assert not passes({"end_date": "2026-12-28"}, on, {"when": "today"}, now)  # no start: never
    one_field = layer(spec("when", "date_window", ["date"]))
    assert passes({"date": "2026-12-28"}, one_field, {"when": "today"}, now)


def test_area_and_search() -> None:
    on = layer()
    record = {"name": "春日町図書館", "name_kana": "カスガチョウトショカン", "address": "大阪市都島区", "area_code": "271021"}
    assert passes(record, on, {}, areas=["271004", "271021"])
    assert not passes(record, on, {}, areas=["271004"]) and not passes(record, on, {}, areas=[])
    assert not passes({**record, "area_code": 271021}, on, {}, areas=["271021"])
    assert passes(record, on, {}, q="かすが") and passes(record, on, {}, q="ｶｽｶﾞ") and passes(record, on, {}, q="都島 区")
    assert passes(record, on, {}, q="館 かす")  # the name, kana and address are joined by a space, then spaces go
    assert not passes(record, on, {}, q="天王寺")
    assert not passes({"name": None, "address": None}, on, {}, q="null")  # JS joins null as ""


# ---------- the twin against the JavaScript ----------

# Loads mieruka-base.js and mieruka-map.js with just enough of a browser for their load time,
# then answers the JSON on stdin: m.searchKey of `keys`, m.nowParts at `clock` moments (a fixed
# Date), and for each layer m.layerView of each view and m.match of each record.
HARNESS = r"""
const fs = require("fs"), path = require("path"), vm = require("vm");
const RealDate = Date;
let fixed = null;
globalThis.Date = class extends RealDate {
  constructor(...args) { if (args.length === 0 && fixed !== null) super(fixed); else super(...args); }
};
const noop = () => {};
globalThis.window = { location: { search: "", pathname: "/map" } };
globalThis.document = { querySelectorAll: () => [], querySelector: () => null, getElementById: () => null,
                        addEventListener: noop, readyState: "complete",
                        documentElement: { lang: "ja", getAttribute: () => null, style: { setProperty: noop } } };
if (typeof navigator === "undefined") globalThis.navigator = {};  // node 20 has none: no service worker here
globalThis.MutationObserver = class { observe() {} };
for (const name of ["mieruka-base.js", "mieruka-map.js"]) {
  vm.runInThisContext(fs.readFileSync(path.join(process.argv[1], name), "utf8"), { filename: name });
}
const m = window.mieruka;
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {
  keys: input.keys.map((k) => m.searchKey(k)),
  clock: input.clock.map(([tz, at]) => { fixed = at; const parts = m.nowParts(tz); fixed = null; return parts; }),
  layers: input.layers.map((g) => g.views.map((v) => {
    const h = m.layerView(v.state, v.meta, g.layer);
    const results = g.records.map((p) => {
      try { return m.match(p, h, v.now); } catch (e) { return "throws " + e.name; }
    });
    return { view: { q: h.q, areas: h.areas, filters: h.filters }, results };
  })),
};
process.stdout.write(JSON.stringify(out));
"""


def run_js(payload: dict) -> dict:
    if NODE is None:
        pytest.skip("node is not installed: the twin is compared with the browser's JavaScript run in node")
    done = subprocess.run([NODE, "-e", HARNESS, str(ROOT / "assets")], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class Table:
    """Cases for both sides: layers, each with records and views (filter values, search, areas, now)."""

    def __init__(self) -> None:
        self.layers: list[tuple[LayerSpec, str | None, list[dict], list[tuple]]] = []

    def add(self, on: LayerSpec, records: list[dict], views: list[dict], latest: str | None = None) -> None:
        """`views`: dicts of values and optionally q, areas, now (several nows: one view each)."""
        flat = []
        for v in views:
            for now in v.get("nows", [v.get("now", MON_NOON)]):
                flat.append((v.get("values", {}), v.get("q", ""), v.get("areas"), now))
        self.layers.append((on, latest, records, flat))

    def payload(self) -> dict:
        layers = []
        for on, latest, records, views in self.layers:
            meta = layer_meta(on, "ja", "", "", (latest,) if latest else (), len(records))
            layers.append({"layer": meta, "records": records, "views": [
                {"state": {"layers": [on.id], "filters": {on.id: values}, "q": q, "area": None if areas is None else "A"},
                 "meta": {"tz": "Asia/Tokyo", "areaMembers": {} if areas is None else {"A": list(areas)}},
                 "now": asdict(now)} for values, q, areas, now in views]})
        return {"layers": layers}

    def assert_agrees(self, js: list) -> None:
        wrong, checked = [], 0
        for (on, latest, records, views), js_views in zip(self.layers, js, strict=True):
            for (values, q, areas, now), got in zip(views, js_views, strict=True):
                view = layer_view(on, values, areas, q, latest)
                mine = {"q": view.q, "areas": None if view.areas is None else list(view.areas),
                        "filters": [{**asdict(f), "fields": list(f.fields)} for f in view.filters]}
                assert mine == got["view"], (on.id, values, q, areas)
                for record, theirs in zip(records, got["results"], strict=True):
                    checked += 1
                    ours = outcome(record, view, now)
                    if ours != theirs:
                        wrong.append(f"{on.id} {record} {values} q={q!r} areas={areas} {now}: js {theirs}, python {ours}")
        assert not wrong, f"{len(wrong)} of {checked} differ:\n" + "\n".join(wrong[:25])
        assert checked


def outcome(record: dict, view: LayerView, now: Now) -> bool | str:
    try:
        return match(record, view, now)
    except TypeError:
        return "throws TypeError"


# values that records should not hold, but might
ODD = [None, True, False, 0, 1, -1, 2, 2.5, -0.0, "", "0", "1", "2", " 2 ", "2x", "0x10", "0x", "1e1", "1_0", "Infinity",
       "inf", "yes", "true", "２", "null", [], [0], [2], [1, 2], ["1"], [None], [[2]], {}, {"level": 2}, {"2": 1}]
HOURS = [("09:00", "17:00"), ("22:00", "06:00"), ("00:00", "24:00"), ("00:00", "23:59"), ("08:00", "08:00"),
         ("17:00", "09:00"), (None, "17:00"), ("09:00", None), ("9:00", "17:00"), ("09:00", "17"), ("0900", "1700"),
         ("09:00:30", "17:00"), ("", ""), (" 9: 30", "17:00"), ("２３:00", "24:00"), ("xx", "yy"), ("-1:00", "25:00"),
         (900, "17:00"), (["09:00"], "17:00"), ("09:00", True), (0, False)]
DAYS = [None, [], list(range(7)), [0, 1, 2, 3, 4], [5, 6], [1.0, 0.0], [True], ["1", "0"], "0,1,2", "", "0123456",
        0, 3, True, False, {}, [[0]], [None]]


def odd_table() -> Table:
    t = Table()
    nows = [Now(0, 0, "2026-12-07"), Now(0, 539, "2026-12-07"), Now(0, 540, "2026-12-07"), Now(0, 1019, "2026-12-07"),
            Now(0, 1020, "2026-12-07"), Now(0, 1439, "2026-12-07"), Now(5, 180, "2026-12-12"), Now(6, 720, "2026-12-13"),
            Now(1, 1440, "2026-12-08"), Now(-1, 600, "2026-12-07")]
    t.add(layer(spec("f", "flag", ["a"]), spec("h", "flag", ["a", "b"], ["a", "b"]), spec("none", "flag")),
          [{"a": x} for x in ODD] + [{"b": True}, {"a": True, "b": True}, {"undefined": True}, {}],
          [{"values": {"f": "1"}}, {"values": {"h": "b"}}, {"values": {"h": "a"}}, {"values": {"h": "1"}},
           {"values": {"h": "zzz"}}, {"values": {"none": "1"}}, {"values": {"f": True}}, {"values": {"f": False}},
           {"values": {"f": ""}}, {"values": {"f": None}}, {"values": {"f": 1}}, {"values": {"f": "1", "h": "b"}}])
    t.add(layer(spec("open", "open_now", ["days", "open_time", "close_time"]),
                spec("h24", "open_24h", ["days", "open_time", "close_time"])),
          [{"days": d, "open_time": o, "close_time": c} for d in DAYS for o, c in HOURS] + [{}],
          [{"values": {"open": "1"}, "nows": nows}, {"values": {"h24": "1"}},
           {"values": {"h24": "1", "open": "1"}, "nows": nows[:3]}])
    t.add(layer(spec("c", "choice", ["c"]), spec("k", "contains", ["c"])),
          [{"c": x} for x in ODD + ["病院", "病院 ", "ﾋﾞｮｳｲﾝ", "指定緊急避難場所・指定避難所", ["指定避難所", None], ["a", 1],
                                  "1,2", [["1"]]]] + [{}],
          [{"values": {"c": v}} for v in ("病院", "1", "true", "0", "null", "[object Object]")]
          + [{"values": {"k": v}} for v in ("指定避難所", "1", "2", "避難", "e", "null", ",", "病院")])
    month_values = [None, {}, [], "2026-11", 7, {"2026-11": [0, 0, 1]}, {"2026-11": [0, 0, 0]}, {"2026-11": []},
                    {"2026-11": [None, "1", " 2 "]}, {"2026-11": "0102"}, {"2026-11": {"1": 3}}, {"2026-11": 5},
                    {"2026-11": True}, {"2026-11": 0}, {"2026-11": ""}, {"null": [1]}, [[1]],
                    {"2026-10": [1], "2026-11": [0]}, {"2026-11": [[1]]}, {"2026-11": [-1, "x", {}]},
                    {"2026-11": ["0x1", "1e-1", "Infinity"]}, {"2026-11": [0, [2]]}, {"2026-11": [False, True]}]
    vacancy = layer(spec("v", "vacancy", ["v"], ["0", "1", "2"]))
    vacancy_views = [{"values": {"v": v}} for v in ("any", "any@2026-10", "1", "2@2026-11", "0@2026-10", "@2026-10", "x",
                                                     "-1", "5", "1@", " 1", "1.9", "any@2026-11@x", "@", "-0")]
    t.add(vacancy, [{"v": x} for x in month_values], vacancy_views, latest="2026-11")
    t.add(layer(spec("v", "vacancy", ["v"]), lid="no-months"), [{"v": x} for x in month_values], vacancy_views)
    readings = [None, {}, [], "PM2.5", 3, {"PM2.5": {"level": 1}}, {"PM2.5": {"level": 3}}, {"PM2.5": {"level": None}},
                {"PM2.5": {}}, {"PM2.5": {"level": "2"}}, {"PM2.5": {"level": [2]}}, {"PM2.5": {"level": "x"}},
                {"PM2.5": 3}, {"PM2.5": "x"}, {"PM2.5": {"level": True}}, {"PM2.5": {"level": -1}}, [1],
                {"NO2": {"level": 4}}, {"PM2.5": {"level": 2.5}}, {"PM2.5": [2]}, {"0": {"level": 9}}]
    t.add(layer(spec("level", "air_level")), [{"readings": x} for x in readings],
          [{"values": {"level": v}} for v in ("PM2.5:1", "PM2.5:2", "PM2.5", "PM2.5:", "PM2.5:0", "PM2.5:-1", "PM2.5:x",
                                               "PM2.5: 2", "PM2.5:２", "NO2:4", "PM2.5:2:9", "PM2.5:2.9", "0:1", ":1")])
    spans = [("2026-12-08", None), ("2026-12-01", "2026-12-10"), ("2026-12-10", "2026-12-20"), ("2026-11-01", "2026-11-30"),
             (None, "2026-12-08"), ("", ""), ("2026-12-15", "2026-12-01"), (20261208, None), (["2026-12-08"], None),
             ("2026-12-08T10:00", None), ("2026/12/08", None), (True, None), ("2027-01-01", None), ("2026-12-31", 0),
             ({}, None), ("2026-12-08", ["2026-12-09", "x"]), ("2026-12-0８", None), ("9999-99-99", None)]
    nows = [Now(1, 600, "2026-12-08"), Now(3, 600, "2026-12-31"), Now(4, 600, "2028-02-25")]
    windows = ("today", "week", "2026-12-01..2026-12-31", "..2026-12-08", "2026-12-09..", "2026-12-08", "..", "x..y",
               "2027-01-01..2026-12-01", "2026-12-08...2026-12-09")
    t.add(layer(spec("when", "date_window", ["s", "e"])), [{"s": s, "e": e} for s, e in spans],
          [{"values": {"when": w}, "nows": nows} for w in windows])
    t.add(layer(spec("when", "date_window", ["s"]), lid="one-date"), [{"s": s, "e": e} for s, e in spans],
          [{"values": {"when": w}, "nows": nows[:1]} for w in windows])
    texts = [{"name": "大阪城トイレ", "name_kana": "オオサカジョウトイレ", "address": "大阪府大阪市中央区", "area_code": "271284"},
             {"name": "ＡＢＣ　ﾎｲｸ", "area_code": "271021"}, {"name": None, "name_kana": None, "address": "X"},
             {"name": 123}, {"name": ["a", None, "b"]}, {"name": {}}, {"name": True}, {"name": 1.5e-7}, {"name": 1e21},
             {"name": "İstanbul"}, {"name": "ΟΔΟΣ"}, {"name": "a\x85b"}, {"name": "a\ufeffb"}, {"name": "㍻"}, {},
             {"area_code": 271004}, {"area_code": "271004"}, {"area_code": None}, {"area_code": ["271004"]}]
    t.add(layer(spec("f", "flag", ["a"])), texts,
          [{"q": q} for q in ("おおさか", "オオサカ", "ｵｵｻｶ", "ＡＢＣ", "abc ほいく", "null", "undefined", "[object", "object",
                              "123", "a,,b", "true", "1.5e-7", "1e+21", "i̇", "οδος", "ab", "a\x85b", "へいせい", "　",
                              "x", "大阪市 中央")]
          + [{"areas": a} for a in ([], ["271004"], ["271021", "271004"], ["271284"])]
          + [{"areas": ["271284"], "q": "トイレ"}, {"areas": ["271284"], "q": "トイレ", "values": {"f": "1"}}])
    return t


KEYS = [None, "", 0, 1, False, True, [], [1, None], {}, "カタカナ", "ｶﾀｶﾅ", "ＡＢＣ", "ヷヸヹヺ", "ヵヶ", "ァ", "゠", "ー", "㌀",
        "Ⅻ", "ﬁ", " a\tb\nc\u3000d\u00a0e\u2028f\ufeffg\x85h\u1680i\u180ej\x1ck", "ΟΔΟΣ", "İ", 1.5, 1e21, 1e-7, 1e-6,
        123456789012345680000, -0.0, 0.1 + 0.2, "😀カ", "Straße", "ǅ", "\u212a"]
CLOCK = [("Asia/Tokyo", dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)),
         ("", dt.datetime(2026, 12, 7, 14, 59, 59, tzinfo=dt.UTC)),
         ("America/New_York", dt.datetime(2026, 3, 8, 6, 59, tzinfo=dt.UTC)),
         ("America/New_York", dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)),
         ("Pacific/Kiritimati", dt.datetime(2026, 12, 31, 10, 30, tzinfo=dt.UTC)),
         ("UTC", dt.datetime(2028, 2, 29, 23, 59, tzinfo=dt.UTC)),
         ("Asia/Tokyo", dt.datetime(2026, 12, 7, 23, 45, tzinfo=JST))]


def test_agrees_with_the_javascript_on_odd_cases() -> None:
    table = odd_table()
    payload = table.payload()
    payload["keys"] = KEYS
    payload["clock"] = [[tz, at.timestamp() * 1000] for tz, at in CLOCK]
    js = run_js(payload)
    assert [search_key(k) for k in KEYS] == js["keys"]
    assert [asdict(now_parts(tz, at)) for tz, at in CLOCK] == js["clock"]
    table.assert_agrees(js["layers"])


@pytest.fixture(scope="module")
def deployment_context(tmp_path_factory):
    from services.context import build_context
    from settings import Settings

    return build_context(Settings.from_env({"MIERUKA_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}))


def filter_values(spec: FilterSpec, snapshot, today: dt.date) -> list[str]:
    """A handful of values of a filter, as the URL gives them (services/map_state.py)."""
    if spec.kind == "flag":
        return [o.value for o in spec.options] or ["1"]
    if spec.kind in ("open_now", "open_24h"):
        return ["1"]
    if spec.kind in ("choice", "contains"):
        return list(tuple(o.value for o in spec.options) or snapshot.options.get(spec.id, ()))[:6]
    if spec.kind == "vacancy":
        months = snapshot.months
        return ["any", "0", "3", f"any@{months[0]}", f"2@{months[len(months) // 2]}", f"5@{months[-1]}"]
    if spec.kind == "air_level":
        levels = len(snapshot.layer.readings.levels)
        return [f"{p.id}:{n}" for p in snapshot.layer.readings.pollutants for n in range(1, levels + 1)]
    if spec.kind == "date_window":
        return ["today", "week", f"{today}..{today + dt.timedelta(days=30)}", f"..{today}",
                f"{today + dt.timedelta(days=10)}.."]
    raise AssertionError(f"no values for filter kind {spec.kind}")


def test_agrees_with_the_javascript_on_every_layer(deployment_context) -> None:
    ctx = deployment_context
    today = ctx.layers.as_of()
    nows = [now_parts(ctx.deployment.timezone, dt.datetime.combine(today + dt.timedelta(days=d), dt.time(h, m), JST))
            for d, h, m in ((0, 12, 30), (1, 3, 0), (2, 23, 30), (5, 8, 59))]
    members = area_members(ctx.areas)
    city = next(code for code, codes in members.items() if len(codes) > 1)
    table = Table()
    for lid in ctx.deployment.layer_ids:
        snapshot = ctx.layers.snapshot(lid)
        records = [{k: v for k, v in r.items() if v is not None} for r in snapshot.records]  # nulls are not sent
        views = []
        for spec_ in snapshot.layer.filters:
            timed = spec_.kind in ("open_now", "date_window")
            views += [{"values": {spec_.id: v}, "nows": nows if timed else nows[:1]}
                      for v in filter_values(spec_, snapshot, today)]
        every = {s.id: filter_values(s, snapshot, today)[0] for s in snapshot.layer.filters}
        views.append({"values": every, "nows": nows})
        named = next(r for r in records if r.get("name_kana") or r.get("address"))
        kana, address, name = named.get("name_kana") or "", named.get("address") or "", str(named["name"])
        words = [kana[:3], search_key(kana)[:3], address[3:7], name[:2], "ｱ", "zzz"]
        views += [{"q": w} for w in words if w]
        code = named.get("area_code")
        views += [{"areas": members[city]}, {"areas": members.get(code, [code])},
                  {"areas": members[city], "q": name[:2], "values": every}]
        table.add(snapshot.layer, records, views, latest=snapshot.months[-1] if snapshot.months else None)
    payload = table.payload()
    payload.update(keys=[], clock=[])
    table.assert_agrees(run_js(payload)["layers"])
