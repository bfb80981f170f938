"""Seeded SAMPLE series for the nine indicator dashboards (invented, not real statistics).

    rows = generate_indicator("population", areas, datetime.date(2026, 11, 25))

Every row is a dict with exactly the keys ``area_code`` (6-digit 全国地方公共団体コード;
the prefecture is its own code, e.g. "270008"), ``period``, ``measure``, ``breakdown``
("" when none) and ``value`` (a float, or None for a missing value); ``air`` rows also
carry ``station`` (a station id, "" for municipality / prefecture rows).

Periods are "YYYY-MM" (monthly), "YYYY" (yearly: the year a value refers to; for
childcare its 1 April) or "YYYY-MM-DD" (daily).  Windows end with the last complete
period before ``as_of``: the 36 months ending with the month before as_of's month,
the 10 years ending with ``as_of.year - 1`` and the 365 days ending ``as_of - 1 day``.

The figures are INVENTED.  Only their magnitudes, seasonality and trends are meant to
look plausible; the app labels them as sample data and nothing here may be presented as
a real statistic.  Output depends only on (indicator, areas, as_of, seed): each
indicator draws from ``random.Random(f"{seed}:{indicator}")`` (``air`` also reuses the
map's sample stations from ``generate("air-quality-stations", …)``).

Any prefecture: the series are for the table's own municipalities (and wards) and its
prefecture code; counts follow each area's population; prefecture-wide magnitudes
(guest nights) scale with the prefecture's population relative to Osaka's; the few
hand-made special cases (Osaka City, its central wards) apply only to Osaka's table.

Consistency: counts add up (prefecture = sum of municipalities; a designated city =
sum of its wards in ``population``); for rates and shares the prefecture value is the
mean of the municipal values weighted by ``Area.weight`` (≈ population).  About 0.5 %
of the values (at least one per indicator) are None; aggregates are computed before
that, so a sum check must skip periods with a missing component.  The prefecture's
rows of the latest period are never None.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .generator import DEFAULT_SEED, generate

if TYPE_CHECKING:  # pragma: no cover
    from services.areas import AreaTable

__all__ = [
    "AGE_BINS",
    "CRIME_TYPES",
    "INDICATORS",
    "MISSING_RATE",
    "generate_indicator",
]

INDICATORS: tuple[str, ...] = (
    "population", "health", "crime", "economy", "childcare", "tourism", "traffic", "air", "emergency",
)

#: Share of values blanked to None (at least one per indicator).
MISSING_RATE = 0.005

N_MONTHS = 36
N_YEARS = 10
N_DAYS = 365

Row = dict[str, Any]
Rows = list[Row]

#: 5-year age bins of the population pyramid.
AGE_BINS: tuple[str, ...] = tuple(f"{a}-{a + 4}" for a in range(0, 85, 5)) + ("85+",)

#: The seven 街頭犯罪 手口 and their typical share of the total.
CRIME_TYPES: tuple[str, ...] = (
    "ひったくり", "車上ねらい", "部品ねらい", "自動販売機ねらい", "自動車盗", "オートバイ盗", "自転車盗",
)
_CRIME_SHARE = (0.03, 0.13, 0.09, 0.02, 0.04, 0.09, 0.60)

# Osaka's own special cases, used only when the table is Osaka's (their codes exist in no
# other prefecture, and every use below also checks ``_Ctx.osaka``).
# Osaka City's central wards (福島, 西, 天王寺, 浪速, 北, 中央): growing, younger, smaller households.
_CENTRAL_WARDS = frozenset({"271039", "271063", "271098", "271110", "271276", "271284"})
_OSAKA_CITY = "271004"
_OSAKA = "270008"
#: Osaka's 2015 census population: prefecture-level magnitudes (guest nights) are sized
#: for it and scaled for any other prefecture by its own population.
_REFERENCE_POPULATION = 8_839_469

# Both-sex share (%) of each age bin – an ageing Japanese pyramid (bulges at 45–54
# and 70–74) – and the male share of each bin (women outlive men).
_AGE_SHARE = (3.6, 3.9, 4.1, 4.3, 5.0, 5.2, 5.3, 5.8, 6.5, 7.8, 7.4, 6.2, 5.6, 6.1, 7.4, 5.9, 4.6, 4.3)
_MALE_SHARE = (0.512, 0.512, 0.512, 0.513, 0.508, 0.505, 0.502, 0.500, 0.500, 0.500,
               0.498, 0.495, 0.490, 0.480, 0.465, 0.440, 0.400, 0.310)
_AGE_MID = tuple(2.5 + 5 * i for i in range(17)) + (90.0,)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Unit:
    """One municipality and the leaves (its wards, or itself) its counts are built from."""

    muni: Any            # Area
    leaves: tuple        # tuple[Area, ...]
    weight: float


@dataclass(frozen=True)
class _Ctx:
    pref: str
    units: tuple[_Unit, ...]
    months: tuple[tuple[int, int], ...]
    years: tuple[int, ...]
    days: tuple[dt.date, ...]
    areas: Any
    as_of: dt.date
    seed: int
    scale: float = 1.0   # the prefecture's population relative to Osaka's (1.0 for Osaka)

    @property
    def osaka(self) -> bool:
        return self.pref == _OSAKA

    def is_osaka_city(self, code: str) -> bool:
        return self.osaka and code == _OSAKA_CITY

    @property
    def month_labels(self) -> list[str]:
        return [f"{y:04d}-{m:02d}" for y, m in self.months]

    @property
    def year_labels(self) -> list[str]:
        return [f"{y:04d}" for y in self.years]


def _months(as_of: dt.date, n: int = N_MONTHS) -> tuple[tuple[int, int], ...]:
    last = as_of.year * 12 + as_of.month - 2  # the month before as_of's month, 0-based months
    return tuple((k // 12, k % 12 + 1) for k in range(last - n + 1, last + 1))


def _years(as_of: dt.date, n: int = N_YEARS) -> tuple[int, ...]:
    return tuple(range(as_of.year - n, as_of.year))


def _days(as_of: dt.date, n: int = N_DAYS) -> tuple[dt.date, ...]:
    return tuple(as_of - dt.timedelta(days=n - i) for i in range(n))


def _context(areas: Any, as_of: dt.date, seed: int) -> _Ctx:
    units = []
    for muni in sorted(areas.municipalities, key=lambda a: a.code):
        wards = tuple(sorted(areas.wards(muni.code), key=lambda a: a.code))
        leaves = wards or (muni,)
        weight = float(sum(max(a.weight, 0) for a in leaves)) or float(max(muni.weight, 1))
        units.append(_Unit(muni, leaves, max(weight, 1.0)))
    if not units:
        raise ValueError("area table has no municipalities")
    pref = areas.prefecture
    population = float(pref.weight or 0) or sum(u.weight for u in units)
    scale = 1.0 if pref.code == _OSAKA else population / _REFERENCE_POPULATION
    return _Ctx(pref.code, tuple(units), _months(as_of), _years(as_of), _days(as_of),
                areas, as_of, seed, scale)


def _row(area: str, period: str, measure: str, breakdown: str, value: float | None) -> Row:
    return {"area_code": area, "period": period, "measure": measure, "breakdown": breakdown,
            "value": None if value is None else float(value)}


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth below 30, a rounded normal above)."""
    if lam <= 0:
        return 0
    if lam >= 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` proportional to ``weights`` (sums exactly)."""
    wsum = sum(weights)
    quotas = [total * w / wsum for w in weights]
    counts = [int(q) for q in quotas]
    rest = total - sum(counts)
    if rest:
        order = sorted(range(len(weights)), key=lambda i: counts[i] - quotas[i])
        for i in order[:rest]:
            counts[i] += 1
    return counts


def _wmean(values: Iterable[float], weights: Iterable[float]) -> float:
    num = den = 0.0
    for v, w in zip(values, weights):
        num += v * w
        den += w
    return num / den


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _sprinkle_missing(rng: random.Random, rows: Rows, pref: str,
                      eligible: Callable[[Row], bool] | None = None, rate: float = MISSING_RATE) -> None:
    """Blank about ``rate`` of the eligible values (at least one), in place.

    The prefecture's rows of the latest period (per period format) are never blanked.
    """
    latest: dict[int, str] = {}
    for r in rows:
        n = len(r["period"])
        if r["period"] > latest.get(n, ""):
            latest[n] = r["period"]
    candidates = [r for r in rows
                  if not (r["area_code"] == pref and r["period"] == latest[len(r["period"])])
                  and (eligible is None or eligible(r))]
    if not candidates:
        return
    rand, hit = rng.random, False
    for r in candidates:
        if rand() < rate:
            r["value"], hit = None, True
    if not hit:
        rng.choice(candidates)["value"] = None


def _season(month: int, table: Sequence[float]) -> float:
    """Monthly factor from a 12-entry table, normalised to a mean of 1."""
    return table[month - 1] * 12.0 / sum(table)


def _pandemic(year: int, month: int) -> float:
    """Mobility factor for 2020–22 (1.0 outside), used for tourism, traffic and crime."""
    if year == 2020:
        return (0.95, 0.85, 0.7, 0.45, 0.4, 0.6, 0.65, 0.6, 0.65, 0.75, 0.75, 0.7)[month - 1]
    if year == 2021:
        return (0.5, 0.5, 0.65, 0.6, 0.45, 0.5, 0.65, 0.55, 0.55, 0.7, 0.8, 0.8)[month - 1]
    if year == 2022:
        return (0.7, 0.7, 0.8, 0.85, 0.85, 0.9, 0.9, 0.85, 0.9, 0.95, 0.95, 0.95)[month - 1]
    return 1.0


# --------------------------------------------------------------------------- 1 population


def _population(rng: random.Random, ctx: _Ctx) -> Rows:
    months = ctx.months
    n = len(months)
    # per leaf: totals, households, 36 sex × age counts per month
    tot: dict[str, list[int]] = {}
    hh: dict[str, list[int]] = {}
    bins: dict[str, list[list[int]]] = {}
    seasonal = {3: -0.0004, 4: 0.0005, 5: 0.0002}  # spring moves (students, new jobs)
    male = _MALE_SHARE
    for unit in ctx.units:
        for leaf in unit.leaves:
            central = ctx.osaka and leaf.code in _CENTRAL_WARDS
            rural = leaf.kind in ("town", "village")
            growth = 0.002 + rng.uniform(-0.0005, 0.0005) if central else -0.003 + rng.uniform(-0.001, 0.001)
            ratio0 = rng.uniform(2.0, 2.08) if central else rng.uniform(2.18, 2.3) if rural else rng.uniform(2.05, 2.25)
            tilt0 = rng.uniform(-0.3, -0.2) if central else rng.uniform(0.25, 0.4) if rural else rng.uniform(-0.12, 0.15)
            base = [s * (0.8 if i < 4 else 1.3 if 4 <= i < 8 else 1.0) if central else s
                    for i, s in enumerate(_AGE_SHARE)]
            walk, t_l, h_l, b_l = 0.0, [], [], []
            for i, (_, month) in enumerate(months):
                walk += rng.gauss(0.0, 0.0003)
                pop = leaf.weight * (1.0 + growth) ** (i / 12) * math.exp(walk) * (1.0 + seasonal.get(month, 0.0))
                total = max(int(round(pop)), 0)
                ratio = max(2.0, ratio0 - 0.008 * i / 12)
                tilt = tilt0 + 0.015 * i / 12  # the pyramid keeps ageing
                shares = [s * math.exp(tilt * (mid - 42.0) / 40.0) for s, mid in zip(base, _AGE_MID)]
                weights = [s * m for s, m in zip(shares, male)] + [s * (1.0 - m) for s, m in zip(shares, male)]
                t_l.append(total)
                h_l.append(int(round(total / ratio)))
                b_l.append(_allocate(total, weights) if total else [0] * len(weights))
            tot[leaf.code], hh[leaf.code], bins[leaf.code] = t_l, h_l, b_l

    def add(codes: Sequence[str]) -> tuple[list[int], list[int], list[list[int]]]:
        t = [sum(tot[c][i] for c in codes) for i in range(n)]
        h = [sum(hh[c][i] for c in codes) for i in range(n)]
        b = [[sum(bins[c][i][k] for c in codes) for k in range(2 * len(AGE_BINS))] for i in range(n)]
        return t, h, b

    rows: Rows = []
    labels = ctx.month_labels

    def emit(code: str, series: tuple[list[int], list[int], list[list[int]]]) -> None:
        t, h, b = series
        nb = len(AGE_BINS)
        for i, period in enumerate(labels):
            rows.append(_row(code, period, "total", "", t[i]))
            rows.append(_row(code, period, "households", "", h[i]))
            for k, label in enumerate(AGE_BINS):
                rows.append(_row(code, period, "male", label, b[i][k]))
            for k, label in enumerate(AGE_BINS):
                rows.append(_row(code, period, "female", label, b[i][nb + k]))

    emit(ctx.pref, add([lf.code for u in ctx.units for lf in u.leaves]))
    for unit in ctx.units:
        emit(unit.muni.code, add([lf.code for lf in unit.leaves]))
        if unit.leaves != (unit.muni,):
            for leaf in unit.leaves:
                emit(leaf.code, (tot[leaf.code], hh[leaf.code], bins[leaf.code]))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- rates


def _rate_rows(ctx: _Ctx, measure: str, periods: Sequence[str],
               values: dict[str, list[float]], digits: int = 1) -> Rows:
    """Municipal rate rows plus the weight-weighted prefecture mean, prefecture first."""
    rows: Rows = []
    weights = [u.weight for u in ctx.units]
    for i, period in enumerate(periods):
        rounded = [round(values[u.muni.code][i], digits) for u in ctx.units]
        rows.append(_row(ctx.pref, period, measure, "", round(_wmean(rounded, weights), digits)))
    for u in ctx.units:
        for i, period in enumerate(periods):
            rows.append(_row(u.muni.code, period, measure, "", round(values[u.muni.code][i], digits)))
    return rows


def _count_rows(ctx: _Ctx, measure: str, periods: Sequence[str], values: dict[str, list[int]],
                breakdown: str = "") -> Rows:
    """Municipal count rows plus their prefecture sum, prefecture first."""
    rows = [_row(ctx.pref, p, measure, breakdown, sum(values[u.muni.code][i] for u in ctx.units))
            for i, p in enumerate(periods)]
    for u in ctx.units:
        rows.extend(_row(u.muni.code, p, measure, breakdown, values[u.muni.code][i]) for i, p in enumerate(periods))
    return rows


# --------------------------------------------------------------------------- 2 health


def _health(rng: random.Random, ctx: _Ctx) -> Rows:
    values: dict[str, list[float]] = {}
    for u in ctx.units:
        level = rng.uniform(27.0, 36.0) - (2.0 if ctx.is_osaka_city(u.muni.code) else 0.0)
        slope = rng.uniform(0.3, 0.7)
        series = []
        for i, year in enumerate(ctx.years):
            dip = {2020: -4.5, 2021: -1.8}.get(year, 0.0)  # check-ups postponed in the pandemic
            series.append(_clip(level + slope * i + dip + rng.gauss(0.0, 0.4), 25.0, 45.0))
        values[u.muni.code] = series
    rows = _rate_rows(ctx, "checkup_rate", ctx.year_labels, values)
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 3 crime


_CRIME_SEASON = (0.85, 0.8, 0.95, 1.0, 1.05, 1.05, 1.15, 1.15, 1.1, 1.1, 1.0, 0.9)


def _crime(rng: random.Random, ctx: _Ctx) -> Rows:
    labels = ctx.month_labels
    by_type: dict[str, dict[str, list[int]]] = {t: {} for t in CRIME_TYPES}
    for u in ctx.units:
        code = u.muni.code
        if ctx.is_osaka_city(code):
            rate = rng.uniform(1000.0, 1150.0)
        elif u.muni.kind in ("town", "village"):
            rate = rng.uniform(400.0, 600.0)
        else:
            rate = rng.uniform(450.0, 880.0)
        trend = rng.uniform(-0.04, 0.01)
        mix = [s * rng.uniform(0.8, 1.2) for s in _CRIME_SHARE]
        if ctx.is_osaka_city(code):
            mix[0] *= 1.5  # more snatching in the city centre
        msum = sum(mix)
        mix = [m / msum for m in mix]
        for t in CRIME_TYPES:
            by_type[t][code] = []
        for i, (year, month) in enumerate(ctx.months):
            lam = (u.weight * rate / 100_000 / 12 * _season(month, _CRIME_SEASON)
                   * (1.0 + trend) ** (i / 12) * (0.85 + 0.15 * _pandemic(year, month)))
            for t, share in zip(CRIME_TYPES, mix):
                by_type[t][code].append(_poisson(rng, lam * share))
    totals = {u.muni.code: [sum(by_type[t][u.muni.code][i] for t in CRIME_TYPES) for i in range(len(labels))]
              for u in ctx.units}
    rows = _count_rows(ctx, "street_crimes", labels, totals)
    for t in CRIME_TYPES:
        rows.extend(_count_rows(ctx, "street_crimes", labels, by_type[t], breakdown=t))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 4 economy


def _economy(rng: random.Random, ctx: _Ctx) -> Rows:
    rows: Rows = []
    jobs, ci = rng.uniform(1.15, 1.3), rng.uniform(97.0, 103.0)
    drift, ar_j, ar_c = rng.uniform(-0.04, 0.01), 0.0, 0.0
    for i, period in enumerate(ctx.month_labels):
        ar_j = 0.7 * ar_j + rng.gauss(0.0, 0.012)
        ar_c = 0.8 * ar_c + rng.gauss(0.0, 0.8)
        j = _clip(jobs + drift * i / 12 + ar_j, 1.0, 1.5)
        c = _clip(ci + 0.6 * math.sin(i / 7.0) + ar_c, 85.0, 110.0)
        rows.append(_row(ctx.pref, period, "jobs_ratio", "", round(j, 2)))
        rows.append(_row(ctx.pref, period, "ci", "", round(c, 1)))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 5 childcare


def _childcare(rng: random.Random, ctx: _Ctx) -> Rows:
    labels = ctx.year_labels
    waiting: dict[str, list[int]] = {}
    use: dict[str, list[float]] = {}
    for u in ctx.units:
        code = u.muni.code
        if ctx.is_osaka_city(code):
            start = rng.uniform(280.0, 340.0)
        elif u.weight >= 200_000:
            start = rng.uniform(15.0, 60.0)
        elif u.weight >= 60_000:
            start = rng.uniform(0.0, 30.0) if rng.random() < 0.7 else 0.0
        else:
            start = rng.uniform(0.0, 6.0) if rng.random() < 0.3 else 0.0
        decay = rng.uniform(0.62, 0.8)  # nursery places keep being added
        level = rng.uniform(92.0, 99.0)
        w_l, u_l = [], []
        for i, year in enumerate(ctx.years):
            w_l.append(_poisson(rng, start * decay ** i))
            # capacity in use falls slowly as places are added and births decline
            u_l.append(_clip(level - 0.5 * i + rng.gauss(0.0, 0.8), 85.0, 102.0))
        waiting[code], use[code] = w_l, u_l
    rows = _count_rows(ctx, "waiting_children", labels, waiting)
    rows.extend(_rate_rows(ctx, "capacity_use", labels, use))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 6 tourism


_TOURISM_SEASON = (0.85, 0.82, 1.02, 1.08, 1.0, 0.86, 0.98, 1.15, 0.95, 1.06, 1.08, 1.0)


def _tourism(rng: random.Random, ctx: _Ctx) -> Rows:
    rows: Rows = []
    # Osaka's ≈ 4 million guest nights a month, scaled by the prefecture's population.
    base, growth = rng.uniform(4.0, 4.3) * 1e6 * ctx.scale, rng.uniform(0.02, 0.04)
    share0 = rng.uniform(0.38, 0.41)
    for i, ((year, month), period) in enumerate(zip(ctx.months, ctx.month_labels)):
        p = _pandemic(year, month)
        total = base * _TOURISM_SEASON[month - 1] * (1.0 + growth) ** (i / 12) * math.exp(rng.gauss(0.0, 0.02))
        total = _clip(total, 3.0e6 * ctx.scale, 5.5e6 * ctx.scale) * p
        share = share0 + 0.02 * i / 12 + (0.03 if month in (3, 4, 10, 11, 12) else 0.0) + rng.gauss(0.0, 0.01)
        share = _clip(share, 0.35, 0.5)
        if p < 1.0:  # borders closed 2020-04 … 2022-09
            share = 0.02 if (year, month) >= (2020, 4) and (year, month) < (2022, 10) else share * p
        total_i = int(round(total))
        rows.append(_row(ctx.pref, period, "guest_nights_total", "", total_i))
        rows.append(_row(ctx.pref, period, "guest_nights_foreign", "", int(round(total_i * share))))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 7 traffic


_TRAFFIC_SEASON = (0.95, 0.9, 1.0, 0.95, 0.95, 0.97, 1.02, 0.98, 1.0, 1.05, 1.05, 1.12)


def _traffic(rng: random.Random, ctx: _Ctx) -> Rows:
    labels = ctx.month_labels
    acc: dict[str, list[int]] = {}
    inj: dict[str, list[int]] = {}
    dead: dict[str, list[int]] = {}
    for u in ctx.units:
        rate = rng.uniform(320.0, 350.0) if ctx.is_osaka_city(u.muni.code) else rng.uniform(250.0, 340.0)
        death_rate = rng.uniform(1.0, 2.2)  # per 100,000 per year
        trend = rng.uniform(-0.04, -0.01)
        a_l, i_l, d_l = [], [], []
        for i, (year, month) in enumerate(ctx.months):
            scale = u.weight / 100_000 / 12 * _season(month, _TRAFFIC_SEASON) * (1.0 + trend) ** (i / 12)
            scale *= 0.8 + 0.2 * _pandemic(year, month)
            a = _poisson(rng, rate * scale)
            a_l.append(a)
            i_l.append(a + _poisson(rng, 0.2 * a))
            d_l.append(min(_poisson(rng, death_rate * scale), a))
        acc[u.muni.code], inj[u.muni.code], dead[u.muni.code] = a_l, i_l, d_l
    rows = _count_rows(ctx, "accidents", labels, acc)
    rows.extend(_count_rows(ctx, "injuries", labels, inj))
    rows.extend(_count_rows(ctx, "deaths", labels, dead))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- 8 air


PM25_ANNUAL_STANDARD = 15.0   # µg/m³, annual mean
PM25_DAILY_STANDARD = 35.0    # µg/m³, 98th percentile of the daily means


def _air_row(area: str, station: str, period: str, measure: str, value: float | None) -> Row:
    row = _row(area, period, measure, "", value)
    row["station"] = station
    return row


def _air(rng: random.Random, ctx: _Ctx) -> Rows:
    stations = generate("air-quality-stations", ctx.areas, ctx.as_of, ctx.seed)
    years, labels = ctx.years, ctx.year_labels
    ny = len(years)
    # Regional levels: PM2.5 falls from ≈15 to ≈9 µg/m³, NO2 from ≈0.017 to ≈0.012 ppm.
    pm_reg = [15.0 * (9.0 / 15.0) ** (i / (ny - 1 or 1)) * math.exp(rng.gauss(0.0, 0.03)) for i in range(ny)]
    no2_reg = [0.017 * (0.012 / 0.017) ** (i / (ny - 1 or 1)) * math.exp(rng.gauss(0.0, 0.03)) for i in range(ny)]
    episode = [rng.uniform(0.95, 1.1) for _ in range(ny)]  # years with more haze episodes
    yearly: Rows = []
    daily_params = []
    met: dict[tuple[str, int], float] = {}  # (station, year index) → 1.0 / 0.0
    for st in stations:
        sid, code = st["局番号"], st["全国地方公共団体コード"]
        items = set(st["測定項目"].split(";"))
        roadside = st["測定局種別"] == "自排局"
        k_pm = rng.uniform(0.88, 1.15) * (1.08 if roadside else 1.0)
        k_no2 = rng.uniform(1.4, 1.8) if roadside else rng.uniform(0.7, 1.1)
        pm_last = no2_last = 0.0
        for i, period in enumerate(labels):
            if "PM2.5" in items:
                annual = round(pm_reg[i] * k_pm * math.exp(rng.gauss(0.0, 0.04)), 1)
                p98 = annual * rng.uniform(2.1, 2.5) * episode[i]
                ok = 1.0 if annual <= PM25_ANNUAL_STANDARD and p98 <= PM25_DAILY_STANDARD else 0.0
                met[(sid, i)] = ok
                yearly.append(_air_row(code, sid, period, "pm25_annual_mean", annual))
                yearly.append(_air_row(code, sid, period, "standard_met", ok))
                pm_last = annual
            if "NO2" in items:
                no2 = round(no2_reg[i] * k_no2 * math.exp(rng.gauss(0.0, 0.05)), 3)
                yearly.append(_air_row(code, sid, period, "no2_annual_mean", no2))
                no2_last = no2
        daily_params.append((sid, code, pm_last, no2_last))

    # Daily means for the last 365 days: a shared weather factor (AR(1) on the log),
    # PM2.5 higher in winter/spring (peak ≈ mid-March), NO2 higher in winter and lower on Sundays.
    daily: Rows = []
    ar_pm = ar_no2 = 0.0
    regional = []
    for day in ctx.days:
        ar_pm = 0.6 * ar_pm + rng.gauss(0.0, 0.22)
        ar_no2 = 0.5 * ar_no2 + rng.gauss(0.0, 0.15)
        doy = day.timetuple().tm_yday
        s_pm = 1.0 + 0.22 * math.cos(2 * math.pi * (doy - 75) / 365.25)
        s_no2 = (1.0 + 0.2 * math.cos(2 * math.pi * (doy - 10) / 365.25)) * (0.82 if day.weekday() == 6 else 1.0)
        regional.append((day.isoformat(), s_pm * math.exp(ar_pm - 0.05), s_no2 * math.exp(ar_no2 - 0.02)))
    gauss = rng.gauss
    for sid, code, pm_level, no2_level in daily_params:
        for period, f_pm, f_no2 in regional:
            if pm_level:
                pm = _clip(pm_level * f_pm * math.exp(gauss(0.0, 0.12)), 3.0, 45.0)
                daily.append(_air_row(code, sid, period, "pm25_daily_mean", round(pm, 1)))
            if no2_level:
                no2 = _clip(no2_level * f_no2 * math.exp(gauss(0.0, 0.12)), 0.004, 0.04)
                daily.append(_air_row(code, sid, period, "no2_daily_mean", round(no2, 3)))

    rows = yearly + daily
    _sprinkle_missing(rng, rows, ctx.pref)

    # Share of stations meeting the PM2.5 standard, over the stations with a known status.
    status: dict[tuple[str, str], list[float]] = {}
    for r in yearly:
        if r["measure"] == "standard_met" and r["value"] is not None:
            muni = ctx.areas.municipality_of(r["area_code"])
            key = (muni.code if muni is not None else r["area_code"], r["period"])
            status.setdefault(key, []).append(r["value"])
    shares: Rows = []
    for period in labels:
        known = [v for (code, p), vs in status.items() if p == period for v in vs]
        if known:
            shares.append(_air_row(ctx.pref, "", period, "standard_met_share", round(100.0 * sum(known) / len(known), 1)))
    for u in ctx.units:
        for period in labels:
            vs = status.get((u.muni.code, period))
            if vs:
                shares.append(_air_row(u.muni.code, "", period, "standard_met_share", round(100.0 * sum(vs) / len(vs), 1)))
    return shares + rows


# --------------------------------------------------------------------------- 9 emergency


def _emergency(rng: random.Random, ctx: _Ctx) -> Rows:
    labels = ctx.year_labels
    disp: dict[str, list[int]] = {}
    trans: dict[str, list[int]] = {}
    for u in ctx.units:
        rate = rng.uniform(5000.0, 5400.0) * (1.08 if ctx.is_osaka_city(u.muni.code) else 1.0)
        growth = rng.uniform(0.01, 0.02)  # an ageing population calls more ambulances
        d_l, t_l = [], []
        for i, year in enumerate(ctx.years):
            dip = {2020: 0.9, 2021: 0.96}.get(year, 1.0)
            d = int(round(u.weight / 100_000 * rate * (1.0 + growth) ** i * dip * math.exp(rng.gauss(0.0, 0.015))))
            d_l.append(d)
            t_l.append(int(round(d * rng.uniform(0.86, 0.9))))
        disp[u.muni.code], trans[u.muni.code] = d_l, t_l
    rows = _count_rows(ctx, "dispatches", labels, disp)
    rows.extend(_count_rows(ctx, "transported", labels, trans))
    _sprinkle_missing(rng, rows, ctx.pref)
    return rows


# --------------------------------------------------------------------------- API


_BUILDERS: dict[str, Callable[[random.Random, _Ctx], Rows]] = {
    "population": _population,
    "health": _health,
    "crime": _crime,
    "economy": _economy,
    "childcare": _childcare,
    "tourism": _tourism,
    "traffic": _traffic,
    "air": _air,
    "emergency": _emergency,
}
assert tuple(_BUILDERS) == INDICATORS


def generate_indicator(indicator: str, areas: "AreaTable", as_of: dt.date, seed: int = DEFAULT_SEED) -> Rows:
    """SAMPLE rows of one indicator (see ``INDICATORS``) for an ``AreaTable``.

    Raises ValueError for an unknown indicator.
    """
    if indicator not in _BUILDERS:
        raise ValueError(f"unknown sample indicator {indicator!r}; expected one of {', '.join(INDICATORS)}")
    return _BUILDERS[indicator](random.Random(f"{seed}:{indicator}"), _context(areas, as_of, seed))
