"""Calm, visible notices for a dataset whose data is old or missing (stale-but-safe),
shared by the map, the dashboards and the indicator pages. The technical reason is on
/data, which the notice links to."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dash import html

from components.shell import href
from i18n import t


def local_time(moment: dt.datetime, timezone: str) -> str:
    """'YYYY-MM-DD hh:mm JST': a fetch time in the deployment's time zone, named, so that
    nobody has to guess whether it is UTC."""
    local = moment.astimezone(ZoneInfo(timezone))
    name = local.strftime("%Z")
    if not name or name[0] in "+-":  # a zone without an abbreviation: say its offset
        name = "UTC" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return f"{local:%Y-%m-%d %H:%M} {name}"


def dataset_notice(dataset_id: str, title: str, snap, timezone: str, lang: str, *, loading: bool = False):
    """A notice for `snap` (a layer or indicator snapshot, or None when there is no data:
    `loading` while its first fetch is under way, else it failed), or None when its data is
    current."""
    details = html.A(t("data.details", lang), href=href("/data", lang) + f"#dataset-{dataset_id}")
    if snap is None:
        return html.P([t("data.loading" if loading else "data.unavailable", lang, name=title), " ", details],
                      className="mk-notice", role="status")
    if snap.health.get("status") == "stale":
        # merely past its ttl, a refresh on its way; or the last refresh failed
        key = "data.updating" if snap.health.get("code") == "expired" else "data.stale"
        return html.P([t(key, lang, name=title, time=local_time(snap.fetched_at, timezone)), " ", details], className="mk-notice", role="status")
    return None
