"""Air-quality sample data: monitoring stations and hourly readings."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Sequence

from .columns import AIR_ITEMS, COLUMNS
from .common import Leaf, Namer, address, scatter, spread

Rows = list[dict[str, str]]

_KINDS = (("一般局", "いっぱんきょく", "General"), ("自排局", "じはいきょく", "Roadside"))
# Probability that a station of each kind measures each item (PM2.5, NO2, Ox, SPM, SO2).
_MEASURES = {
    "一般局": (0.80, 0.97, 0.85, 0.95, 0.40),
    "自排局": (0.70, 1.00, 0.10, 0.90, 0.10),
}
_JST = dt.timezone(dt.timedelta(hours=9))


def stations(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int) -> Rows:
    cols, namer, rows = COLUMNS["air-quality-stations"], Namer(), []
    serial: dict[str, int] = {}
    for leaf in spread(leaves, n):
        kind = _KINDS[0] if rng.random() < 0.75 else _KINDS[1]
        name = namer.make(rng, leaf, [kind], kind=kind)
        serial[leaf.code] = serial.get(leaf.code, 0) + 1
        items = [item for item, p in zip(AIR_ITEMS, _MEASURES[kind[0]]) if rng.random() < p]
        if not items:
            items = ["NO2"]
        lat, lon = scatter(rng, leaf, shrink=0.8)
        rows.append(dict(zip(cols, (
            f"{leaf.code[:5]}{serial[leaf.code] * 10:03d}", f"{leaf.name}{name.ja}", kind[0],
            leaf.code, leaf.name, address(rng, leaf, name.town_index).full, lat, lon, ";".join(items),
        ))))
    return rows


def _bump(h: float, centre: float, width: float) -> float:
    d = min(abs(h - centre), 24 - abs(h - centre))
    return math.exp(-(d * d) / (2 * width * width))


def readings(rng: random.Random, station_rows: Rows, as_of: dt.date) -> Rows:
    """Hourly values for the 7 days ending at ``as_of`` 23:00 JST."""
    cols = COLUMNS["air-quality-readings"]
    start = dt.datetime.combine(as_of - dt.timedelta(days=6), dt.time(0), tzinfo=_JST)
    hours = 7 * 24
    # Regional weather: one factor per day for particles / ozone, and a smooth
    # hour-to-hour AR(1) term shared by all stations.
    pm_day = [math.exp(rng.gauss(0.0, 0.35)) * (2.6 if rng.random() < 0.12 else 1.0) for _ in range(7)]
    sun_day = [rng.uniform(0.5, 1.2) for _ in range(7)]
    ar, regional = 0.0, []
    for _ in range(hours):
        ar = 0.85 * ar + rng.gauss(0.0, 0.08)
        regional.append(math.exp(ar))
    st_params = []
    for st in station_rows:
        roadside = st["測定局種別"] == "自排局"
        measured = set(st["測定項目"].split(";"))
        st_params.append((
            st["局番号"], measured,
            rng.uniform(0.85, 1.2) * (1.15 if roadside else 1.0),       # PM2.5
            rng.uniform(1.4, 1.9) if roadside else rng.uniform(0.7, 1.1),  # NO2
            rng.uniform(0.85, 1.1),                                       # Ox
            rng.uniform(0.7, 1.4),                                        # SO2
        ))
    rows: Rows = []
    gauss, rand = rng.gauss, rng.random
    for t in range(hours):
        when = start + dt.timedelta(hours=t)
        stamp = when.strftime("%Y-%m-%dT%H:00+09:00")
        h, day = when.hour, t // 24
        reg = regional[t]
        no2_shape = 1.0 + 0.45 * _bump(h, 8, 1.6) + 0.35 * _bump(h, 20, 2.0) - 0.3 * _bump(h, 14, 2.5)
        ox_shape = 0.012 + 0.05 * sun_day[day] * _bump(h, 14.5, 2.6)
        pm_shape = 1.0 + 0.12 * math.sin((h - 9) / 24 * 2 * math.pi)
        for code, measured, k_pm, k_no2, k_ox, k_so2 in st_params:
            pm = 12.0 * pm_day[day] * k_pm * pm_shape * reg * math.exp(gauss(0, 0.12))
            no2 = 0.013 * k_no2 * no2_shape * reg * math.exp(gauss(0, 0.15))
            ox = ox_shape * k_ox * (1.0 - 4.0 * max(no2 - 0.012, 0.0)) * math.exp(gauss(0, 0.1))
            spm = 0.004 + 0.0014 * pm * math.exp(gauss(0, 0.15))
            so2 = 0.0022 * k_so2 * math.exp(gauss(0, 0.2))
            values = {
                "PM2.5": str(max(1, round(pm))),
                "NO2": f"{min(max(no2, 0.002), 0.07):.3f}",
                "Ox": f"{min(max(ox, 0.003), 0.11):.3f}",
                "SPM": f"{min(max(spm, 0.003), 0.12):.3f}",
                "SO2": f"{min(max(so2, 0.001), 0.006):.3f}",
            }
            row = {"日時": stamp, "局番号": code}
            for item in AIR_ITEMS:
                row[item] = values[item] if item in measured and rand() >= 0.01 else ""
            rows.append({c: row[c] for c in cols})
    return rows
