"""Calm, visible notices for a dataset whose data is old or missing (stale-but-safe),
shared by the map, the dashboards and the indicator pages. The technical reason is on
/data, which the notice links to."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from dash import html

from i18n import t


def dataset_notice(dataset_id: str, title: str, snap, timezone: str, lang: str):
    """A notice for `snap` (a layer or indicator snapshot, or None when there is no data),
    or None when its data is current."""
    details = html.A(t("data.details", lang), href=f"/data{'?lang=en' if lang == 'en' else ''}#dataset-{dataset_id}")
    if snap is None:
        return html.P([t("data.unavailable", lang, name=title), " ", details], className="mk-notice", role="status")
    if snap.health.get("status") == "stale":
        time = snap.fetched_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
        return html.P([t("data.stale", lang, name=title, time=time), " ", details], className="mk-notice", role="status")
    return None
