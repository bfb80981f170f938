"""The pipeline of one dataset: fetch → normalise → the (payload, meta) the shared store keeps.

- fetch: the bundled sample (data_sources/bundled.py) or the upstream of the deployment
  config (data_sources/upstream.py: a bundled real snapshot, a file, URL, CKAN catalog or
  NGSI broker);
- normalise: a layer's rows by its field mapping (data_sources/normalise.py), an
  indicator's by its table (data_sources/indicator_table.py);
- store: `stored_records`, the payload and meta of a snapshot, with the drift profile of
  what was mapped (data_sources/drift.py) for the next refresh to compare against.

These are the `fetch` that data_sources/refresh.py runs stale-but-safe; the services
(services/layers.py, services/indicators.py) hand them in and derive what they serve from
the stored snapshot. A layer's rows without an area code are placed by `locate` (a
services/locate.py AreaLocator, or None), which the caller builds.
"""
from __future__ import annotations

import datetime as dt

from registry import Deployment, IndicatorSpec, LayerSpec
from services.areas import AreaTable
from settings import Settings

from . import SourceUnavailable, bundled, drift
from .indicator_table import normalise_indicator_rows
from .normalise import Locate, RejectReport, normalise_rows
from .upstream import fetch_upstream


def layer_payload(layer: LayerSpec, deployment: Deployment, areas: AreaTable, settings: Settings,
                  as_of: dt.date, locate: Locate | None = None) -> tuple[dict, dict]:
    """Fetch and normalise a layer from its source: (payload, meta) for the store. `as_of`
    is the date sample data is made for (and the data date when the source gives none)."""
    source = layer.source
    source_url, source_modified, readings, derived = None, None, None, ()
    if source.kind == "bundled":
        seed = settings.sample_seed
        rows = bundled.fetch_rows(source.dataset, areas, as_of, seed)
        readings = bundled.fetch_rows(source.readings, areas, as_of, seed) if source.readings else None
        source_modified = as_of
    else:
        result = fetch_upstream(source, settings, deployment.prefecture["code"])
        rows, source_url, source_modified, derived = (result.rows, result.source_url, result.source_modified,
                                                      result.derived)
        if layer.readings:
            readings = rows  # a live station carries its latest readings (AirQualityObserved)
    # the date the data is as of gives a date written without a year its year (normalise.resolve_year)
    data_date = source_modified.date() if isinstance(source_modified, dt.datetime) else source_modified or as_of
    records, report = normalise_rows(rows, layer, areas, deployment.bbox, readings, locate=locate, as_of=data_date)
    for reason, example in derived:  # what the reader computed (GSI's merged lists)
        report.derive(reason, example)
    records.sort(key=lambda r: (r.get("area_code") or "", str(r["id"])))
    return stored_records(layer.id, rows, records, report, source_url, source_modified,
                          drift.layer_profile(rows, records, layer))


def indicator_payload(spec: IndicatorSpec, deployment: Deployment, areas: AreaTable,
                      settings: Settings) -> tuple[dict, dict]:
    """Fetch a live indicator and map its rows by its source's table: (payload, meta) for the store."""
    result = fetch_upstream(spec.source, settings, deployment.prefecture["code"])
    records, report = normalise_indicator_rows(result.rows, spec, spec.source.table, areas,
                                               deployment.prefecture["code"])
    return stored_records(spec.id, result.rows, records, report, result.source_url, result.source_modified,
                          drift.indicator_profile(result.rows, records, spec, spec.source.table))


def stored_records(dataset_id: str, rows: list, records: list, report: RejectReport, source_url: str | None,
                   source_modified: dt.date | dt.datetime | None, profile: dict | None = None) -> tuple[dict, dict]:
    """A fetch's (payload, meta) for the store, shared by layers and indicators; a source
    none of whose rows could be used is a failure, so that it never replaces good data.
    `profile` (data_sources/drift.py: what the mapped fields held) lets the next refresh
    tell a source that drifted from its mapping."""
    if rows and not records:
        raise SourceUnavailable(f"{dataset_id}: none of {len(rows):,} rows could be used "
                                f"({', '.join(f'{k}: {v}' for k, v in report.rejected.items())})")
    meta = {"rows": len(records), "rejects": report.as_dict(), "source_url": source_url,
            "source_modified": source_modified.isoformat() if source_modified else None}
    if profile is not None:
        meta["profile"] = profile
    return {"records": records}, meta
