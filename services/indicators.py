"""Indicator snapshots and queries: long-form records (one per area, period, measure and
breakdown value) read by the dashboards and the API. The arithmetic lives in
services/indicator_math.py as pure functions; this module only selects and joins.

Sample indicators are generated in each process (deterministic per date and seed). Live
ones (file, url, ckan, ngsi-*) are fetched and mapped by the source's table by their
pipeline (data_sources/pipeline.py) and kept in the shared store as the last good data,
refreshed stale-but-safe like the map layers (services/stored.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

from data_sources import SourceError, pipeline
from data_sources.normalise import RejectReport
from data_sources.store import Snapshot, Store, open_store
from registry import Deployment, IndicatorSpec, MeasureSpec
from sample_data import generate
from sample_data.indicators import generate_indicator
from services import indicator_math as im
from services.areas import AreaTable
from services.stored import StoredViews, available, dataset_metadata, health_report
from settings import Settings

PER_CAPITA_BASE = 100_000


class NotFound(KeyError):
    """An unknown indicator id."""


class BadQuery(ValueError):
    """A query parameter the caller has to fix; str() says which and why."""


@dataclass(frozen=True)
class IndicatorSnapshot:
    indicator: IndicatorSpec
    records: tuple[dict[str, Any], ...]
    fetched_at: dt.datetime
    source_modified: dt.date  # the date the data is as of (the source's, else when it was fetched)
    sample: bool
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = field(repr=False)  # (measure, breakdown, area) → rows by period
    stations: dict[str, str] = field(default_factory=dict)  # station id → name (air)
    # the periods of each series of by_key whose periods share one format (a window of it is bisected)
    periods: dict[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)
    health: dict[str, Any] = field(default_factory=lambda: {"status": "ok", "reason": None, "age_s": None,
                                                            "code": None, "detail": None})
    report: RejectReport = field(default_factory=RejectReport)
    source_url: str | None = None
    dataset: str = ""  # its key in the shared store ("" for sample data)
    stamp: str | None = None

    @property
    def data_date(self) -> str:
        return self.source_modified.isoformat()

    @property
    def metadata(self) -> dict[str, Any]:
        """The JSON download's "metadata" member (services/stored.dataset_metadata)."""
        return dataset_metadata(self.indicator, data_date=self.data_date, source_url=self.source_url,
                                sample=self.sample)

    @property
    def count(self) -> int:
        return len(self.records)

    def series(self, measure: str, area: str, breakdown: str = "") -> list[dict[str, Any]]:
        return self.by_key.get((measure, breakdown, area), [])

    def window(self, measure: str, area: str, breakdown: str, start: str | None, end: str | None) -> list[dict[str, Any]]:
        """The series' records whose period lies in [start, end] (indicator_math.window)."""
        key = (measure, breakdown, area)
        periods = self.periods.get(key)
        series = self.by_key.get(key, [])
        return im.window(series, start, end) if periods is None else im.window_sorted(series, periods, start, end)

    def areas(self, measure: str) -> list[str]:
        return sorted({a for (m, b, a) in self.by_key if m == measure and b == ""})

    def breakdowns(self, measure: str) -> list[str]:
        seen: dict[str, None] = {}
        for (m, b, _a) in self.by_key:
            if m == measure and b:
                seen.setdefault(b, None)
        return list(seen)


class Place(NamedTuple):
    """An area's place among its peers: `place` of `of` ("municipalities" or "wards"),
    shared with `tied` areas in all (1 when it has the place alone)."""

    place: int
    of: int
    peers: str
    tied: int


@dataclass(frozen=True)
class Kpi:
    """What a KPI card shows: the headline measure for one area (the prefecture by default).

    `per_capita`: the value per 100,000 residents, for a count; `rank`: its Place among its
    peers (the municipalities, or the wards of its city) in the same period, largest first,
    per capita for a count (so that a big city is not first for being big)."""

    indicator: IndicatorSpec
    measure: MeasureSpec
    area_code: str
    period: str | None
    value: float | None
    vs_previous: im.Change
    vs_last_year: im.Change
    previous_period: str | None
    last_year_period: str | None
    spark: list[tuple[str, float | None]]
    as_of: dt.date
    per_capita: float | None = None
    rank: Place | None = None


class IndicatorService:
    def __init__(self, deployment: Deployment, areas: AreaTable, settings: Settings, store: Store | None = None,
                 clock: Callable[[], dt.datetime] | None = None, background: Callable | None = None):
        self.deployment = deployment
        self.areas = areas
        self.settings = settings
        self.store = store or open_store(settings.redis_url, settings.cache_dir / "store")
        self.views = StoredViews(self.store, clock, background)
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, dt.date], IndicatorSnapshot] = {}
        self._names: dict[tuple[str, str], str] = {}  # (area code, lang) → display name
        self._keys: dict[str, str] = {}  # indicator id → dataset_key
        # memo of population_at, keyed by the population snapshot's fetched_at
        self._population_by_area: dict[tuple[Any, str], dict[str, float]] = {}
        self._population_at: dict[tuple[Any, str, str], float | None] = {}

    def as_of(self) -> dt.date:
        return self.settings.sample_date(self.deployment.timezone)

    def indicator(self, indicator_id: str) -> IndicatorSpec:
        spec = self.deployment.indicator(indicator_id)
        if spec is None:
            raise NotFound(indicator_id)
        return spec

    def dataset_key(self, spec: IndicatorSpec) -> str:
        """The indicator's name in the shared store, under the deployment's id and the
        fingerprint of its source and measures (see LayerService.dataset_key); worked out once."""
        key = self._keys.get(spec.id)
        if key is None:
            fingerprint = spec.source.fingerprint(tuple(m.id for m in spec.measures))
            key = self._keys[spec.id] = f"{self.deployment.id}.indicator.{spec.id}.{spec.source.kind}-{fingerprint}"
        return key

    def snapshot(self, indicator_id: str) -> IndicatorSnapshot:
        """The indicator's last good data; SourceUnavailable when a live one never had any."""
        spec = self.indicator(indicator_id)
        if spec.source.kind != "bundled":
            return self.views.get(f"indicator {spec.id}", self.dataset_key(spec), spec.source.ttl,
                                  lambda: self._fetch(spec), lambda stored, health: self._derive(spec, stored, health),
                                  local=spec.source.local)
        key = (indicator_id, self.as_of())
        snap = self._snapshots.get(key)
        if snap is None:
            with self._lock:
                snap = self._snapshots.get(key)
                if snap is None:
                    rows = generate_indicator(spec.source.dataset, self.areas, key[1], self.settings.sample_seed)
                    snap = self._build(spec, rows, key[1], dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
                    self._snapshots = {k: v for k, v in self._snapshots.items() if k[0] != indicator_id}
                    self._snapshots[key] = snap
                    gc.freeze()  # long-lived data: keep the cyclic GC from walking it on every collection
        return snap

    def snapshots(self) -> list[IndicatorSnapshot]:
        """Every indicator that has data (live ones that never had any are left out; see health())."""
        return available(self.snapshot, [spec.id for spec in self.deployment.indicators])

    def refresh(self, indicator_id: str, *, accept_drift: bool = False) -> dict[str, Any]:
        """Fetch a live indicator now (the worker's job; sample ones are made per process and
        not stored); see StoredViews.refresh."""
        spec = self.indicator(indicator_id)
        return self.views.refresh(f"indicator {spec.id}", self.dataset_key(spec), spec.source.ttl,
                                  lambda: self._fetch(spec), accept_drift=accept_drift)

    def health(self) -> dict[str, dict[str, Any]]:
        """Indicator id → {"status", "reason", "age_s", "rows"} for /healthz and the notices."""
        return health_report(self.snapshot, [spec.id for spec in self.deployment.indicators])

    def _fetch(self, spec: IndicatorSpec) -> tuple[dict, dict]:
        """The live indicator's pipeline (data_sources/pipeline.py)."""
        return pipeline.indicator_payload(spec, self.deployment, self.areas, self.settings)

    def _derive(self, spec: IndicatorSpec, stored: Snapshot, health: dict[str, Any]) -> IndicatorSnapshot:
        modified = stored.meta.get("source_modified")
        fetched_at = stored.fetched_at.replace(microsecond=0)
        as_of = (dt.date.fromisoformat(modified[:10]) if modified else fetched_at.date())
        return dataclasses.replace(
            self._build(spec, stored.payload["records"], as_of, fetched_at),
            health=health, report=RejectReport.from_dict(stored.meta.get("rejects") or {}),
            source_url=stored.meta.get("source_url"), dataset=stored.dataset)

    def _build(self, spec: IndicatorSpec, rows: list[dict[str, Any]], as_of: dt.date,
               fetched_at: dt.datetime) -> IndicatorSnapshot:
        by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        records = []
        for row in rows:
            if spec.measure(row["measure"]) is None:
                continue
            area_code = row.get("station") or row["area_code"]
            record = {"area_code": area_code, "period": row["period"], "measure": row["measure"],
                      "breakdown": row.get("breakdown") or "", "value": row["value"]}
            if row.get("station"):
                record["station"] = row["station"]
                record["municipality_code"] = row["area_code"]
            records.append(record)
            by_key.setdefault((record["measure"], record["breakdown"], area_code), []).append(record)
        periods = {}
        for key, series in by_key.items():
            series.sort(key=lambda r: r["period"])
            if len({len(r["period"]) for r in series}) == 1:  # one format: sorted as text is sorted in time
                periods[key] = tuple(r["period"] for r in series)
        stations = {}
        if any(r.get("station") for r in records):
            stations = {row["局番号"]: row["測定局名"]
                        for row in generate("air-quality-stations", self.areas, as_of, self.settings.sample_seed)}
        return IndicatorSnapshot(spec, tuple(records), fetched_at, as_of, spec.source.sample,
                                 by_key, stations, periods=periods)

    # ---- queries ----

    def population(self, area_code: str) -> dict[str, float]:
        """Population by month of an area (from the population indicator)."""
        if self.deployment.indicator("population") is None:
            return {}
        return {r["period"]: r["value"] for r in self.snapshot("population").series("total", area_code)
                if r["value"] is not None}

    def population_version(self) -> dt.datetime | None:
        """The population snapshot per-capita figures divide by (its fetched_at keys the memo of
        population_at), or None when there is no population data to divide by."""
        if self.deployment.indicator("population") is None:
            return None
        try:
            return self.snapshot("population").fetched_at
        except SourceError:
            return None

    def population_at(self, area_code: str, period: str, version: dt.datetime | None) -> float | None:
        """The population a value of `period` is divided by (indicator_math.population_for),
        remembered per population snapshot (`version`, from population_version, looked up once
        per query): rankings ask for every area and period again and again."""
        if version is None:
            return None  # population unavailable: nothing to divide by
        key = (version, area_code, period)
        if key not in self._population_at:
            if len(self._population_at) > 200_000:
                self._population_at.clear()
            by_area = self._population_by_area.get((version, area_code))
            if by_area is None:
                by_area = self._population_by_area[(version, area_code)] = self.population(area_code)
            self._population_at[key] = im.population_for(period, by_area)
        return self._population_at[key]

    def area_name(self, code: str, lang: str, stations: dict[str, str] | None = None) -> str:
        name = self._names.get((code, lang))
        if name is None:
            area = self.areas.get(code)
            if area is None:
                return (stations or {}).get(code, code)
            name = self._names[(code, lang)] = self.areas.full_name(area, lang)
        return name

    def kpi(self, indicator_id: str, area_code: str | None = None) -> Kpi:
        snap = self.snapshot(indicator_id)
        spec = snap.indicator
        measure = spec.measure(spec.headline)
        area = area_code or self.deployment.prefecture["code"]
        series = [(r["period"], r["value"]) for r in snap.series(measure.id, area)]
        values = dict(series)
        period = next((p for p, v in reversed(series) if v is not None), None)
        value = values.get(period) if period else None
        previous = im.previous_period(period) if period else None
        last_year = im.same_period_last_year(period) if period else None
        per_capita, rank = None, None
        if period is not None and area != self.deployment.prefecture["code"]:
            population = self.population_version() if measure.per_capita else None

            def comparable(code: str) -> float | None:
                found = next((r["value"] for r in snap.series(measure.id, code) if r["period"] == period), None)
                if population is None:
                    return found
                return im.per_capita(found, self.population_at(code, period, population), PER_CAPITA_BASE)

            if population is not None:
                per_capita = comparable(area)
            this = self.areas.get(area)
            is_ward = this is not None and this.is_ward
            peers = self.areas.wards(this.parent_code) if is_ward else self.areas.municipalities
            if this is not None and this in peers:
                places = im.rank({a.code: comparable(a.code) for a in peers})
                ranked = sum(1 for p in places.values() if p is not None)
                if places.get(area) is not None:
                    tied = sum(1 for p in places.values() if p == places[area])
                    rank = Place(places[area], ranked, "wards" if is_ward else "municipalities", tied)
        return Kpi(spec, measure, area, period, value,
                   im.change(value, values.get(previous)), im.change(value, values.get(last_year)),
                   previous, last_year, series[-24:], snap.source_modified, per_capita, rank)

    def profile(self, area_code: str, lang: str) -> tuple[list[dict[str, Any]], list[str]]:
        """An area's latest value of every indicator, as the dashboard's cards show it, as rows
        of PROFILE_COLUMNS (changes as fractions: 0.05 = +5 %); and the indicators that have no
        data at all."""
        rows, unavailable = [], []
        for spec in self.deployment.indicators:
            try:
                snap = self.snapshot(spec.id)
            except SourceError:
                unavailable.append(spec.id)
                continue
            kpi = self.kpi(spec.id, area_code)
            m = kpi.measure
            place, of, peers, _ = kpi.rank or (None, None, None, None)
            rows.append({
                "indicator": spec.id, "title": spec.title[lang], "measure": m.id, "period": kpi.period,
                "value": kpi.value, "unit": spec_unit(m, lang, False),
                "per_capita": kpi.per_capita,
                "per_capita_unit": spec_unit(m, lang, True) if kpi.per_capita is not None else None,
                "rank": place, "of": of, "peers": peers,
                "change_vs_previous": kpi.vs_previous.relative,
                "change_vs_year_earlier": kpi.vs_last_year.relative if m.frequency != "yearly" else None,
                "sample": snap.sample,
            })
        return rows, unavailable

    def query(self, indicator_id: str, *, measure: str | None = None, areas: Iterable[str] | None = None,
              start: str | None = None, end: str | None = None, per_capita: bool = False,
              breakdown: str | None = None, lang: str = "ja") -> list[dict[str, Any]]:
        """Long-form rows: area_code, area_name, period, measure, breakdown, value, unit.

        Raises BadQuery for a parameter that cannot be honoured (unknown measure or
        area, a malformed or reversed period, per capita of a measure without it)."""
        snap = self.snapshot(indicator_id)
        spec = snap.indicator
        measures = [spec.measure(measure)] if measure else list(spec.measures)
        if measures == [None]:
            raise BadQuery(f"measure: {measure!r} is not one of {', '.join(m.id for m in spec.measures)}")
        for name, bound in (("from", start), ("to", end)):
            if bound is None:
                continue
            try:
                im.frequency(bound)
            except ValueError:
                raise BadQuery(f"{name}: {bound!r} is not a period (YYYY, YYYY-MM or YYYY-MM-DD)") from None
        if start and end and start[:len(end)] > end[:len(start)]:
            raise BadQuery(f"from {start} is after to {end}")
        if per_capita:
            lacking = [m.id for m in measures if not m.per_capita]
            if measure and lacking:
                raise BadQuery(f"per_capita: {measure!r} is not a count that can be divided by population")
            measures = [m for m in measures if m.per_capita]
            if not measures:
                raise BadQuery(f"per_capita: indicator {indicator_id!r} has no measure that can be divided by population")
        codes = None
        if areas is not None:
            present = {a for (_m, _b, a) in snap.by_key}
            codes = []
            for raw in areas:
                area = self.areas.get(raw)
                code = area.code if area else str(raw)
                if code not in present and area is None:
                    raise BadQuery(f"area: {raw!r} is not a known area code")
                codes.append(code)
        if breakdown:  # known to at least one selected measure (age bins: male/female, not total)
            known = list(dict.fromkeys(b for m in measures for b in snap.breakdowns(m.id)))
            if breakdown not in known:
                raise BadQuery(f"breakdown: {breakdown!r} is not one of {', '.join(known) or 'none'}")
        stations = snap.stations
        population = self.population_version() if per_capita else None
        rows = []
        for m in measures:
            unit = spec_unit(m, lang, per_capita)
            wanted = codes if codes is not None else snap.areas(m.id)
            breakdowns = [""] + snap.breakdowns(m.id) if breakdown is None else [breakdown]
            for code in wanted:
                name = self.area_name(code, lang, stations)
                for b in breakdowns:
                    for r in snap.window(m.id, code, b, start, end):
                        value = r["value"]
                        if per_capita:
                            value = im.per_capita(value, self.population_at(code, r["period"], population),
                                                   PER_CAPITA_BASE)
                        rows.append({"area_code": code, "area_name": name,
                                     "period": r["period"], "measure": m.id, "breakdown": b,
                                     "value": value, "unit": unit})
        return rows


CSV_COLUMNS = ("area_code", "area_name", "period", "measure", "breakdown", "value", "unit")
# an area's profile (what /dashboard?area= shows), one row per indicator
PROFILE_COLUMNS = ("indicator", "title", "measure", "period", "value", "unit", "per_capita", "per_capita_unit",
                   "rank", "of", "peers", "change_vs_previous", "change_vs_year_earlier", "sample")


def csv_bytes(rows: list[dict[str, Any]], columns: tuple[str, ...] = CSV_COLUMNS) -> bytes:
    """Rows as CSV, UTF-8 with BOM (opens in Excel; breakdowns come from the source's text)."""
    from services.layers import csv_table

    return csv_table(rows, columns)


def spec_unit(measure: MeasureSpec, lang: str, per_capita: bool) -> str:
    unit = measure.unit.get(lang) or measure.unit.get("ja") or ""
    if not per_capita:
        return unit
    return f"{unit}（人口10万人あたり）" if lang == "ja" else f"{unit} per 100,000 residents"
