"""Staff pages: the residents' reports of mistakes (services/reports.py).

GET /admin/reports       the reports, newest first, as a table
GET /admin/reports.csv   the same as CSV (UTF-8 with BOM, opens in Excel; formulas kept as text)

Only with MIERUKA_ADMIN_TOKEN set (else 404), and only for a request that gives it: as the
password of HTTP Basic authentication (any user name; the browser asks for it) or as
`Authorization: Bearer <token>`. Never cached, never framed, never indexed.
"""
from __future__ import annotations

import datetime as dt
import hmac
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, request
from markupsafe import escape

from components.shell import href
from i18n import t
from request_guard import error
from services.context import context
from services.layers import csv_table
from services.reports import KINDS

admin = Blueprint("admin", __name__)
COLUMNS = ("at", "layer", "id", "name", "data_date", "kind", "note")


def _given_token() -> str:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.password or ""
    if auth is not None and auth.type == "bearer":
        return auth.token or ""
    return ""


def _local(at: str, zone: ZoneInfo) -> str:
    """A report's time (ISO, UTC) in the deployment's zone, to the minute."""
    try:
        return dt.datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(at)


def _kind_name(kind: str) -> str:
    """What is wrong, in the words the resident chose (the details' form, i18n report.kind.*)."""
    return t(f"report.kind.{kind}", "ja") if kind in KINDS else kind


@admin.before_request
def staff_only():
    token = context().settings.admin_token
    if not token:
        return error(404, "not found")
    if not hmac.compare_digest(_given_token().encode(), token.encode()):
        response = error(401, "staff only: the password is MIERUKA_ADMIN_TOKEN")
        response.headers["WWW-Authenticate"] = 'Basic realm="Mieruka staff", charset="UTF-8"'
        return response
    return None


@admin.after_request
def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@admin.get("/admin/reports")
def reports_page():
    ctx = context()
    reports = ctx.reports.all()
    titles = {layer.id: layer.title.get("ja", layer.id) for layer in ctx.deployment.layers}
    zone = ZoneInfo(ctx.deployment.timezone)

    def row(r: dict) -> str:
        place = href("/map", "ja", sel=f"{r.get('layer', '')}:{r.get('id', '')}")
        cells = [escape(_local(r.get("at", ""), zone)), escape(titles.get(r.get("layer"), r.get("layer", ""))),
                 escape(r.get("id", "")), f'<a href="{escape(place)}">{escape(r.get("name", ""))}</a>',
                 escape(r.get("data_date") or ""), escape(_kind_name(r.get("kind", ""))), escape(r.get("note", ""))]
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    rows = "".join(row(r) for r in reports)
    page = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>誤りの報告 — 見える化 Mieruka</title><link rel="stylesheet" href="/assets/mieruka.css"></head>
<body><main class="mk-admin">
<h1>誤りの報告 <span lang="en">Reports of mistakes</span></h1>
<p>{len(reports):,}件（新しい順） · <a href="/admin/reports.csv" download>CSVでダウンロード</a></p>
<div class="mk-table-wrap"><table class="mk-table">
<thead><tr><th scope="col">受付日時 ({escape(ctx.deployment.timezone)})</th><th scope="col">項目</th><th scope="col">ID</th><th scope="col">名称</th>
<th scope="col">データ時点</th><th scope="col">内容</th><th scope="col">詳細</th></tr></thead>
<tbody>{rows or '<tr><td colspan="7">報告はまだありません。</td></tr>'}</tbody></table></div>
</main></body></html>"""
    return Response(page, mimetype="text/html")


@admin.get("/admin/reports.csv")
def reports_csv():
    return Response(csv_table(context().reports.all(), COLUMNS), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=mieruka-reports.csv"})


def register(server: Flask) -> None:
    server.register_blueprint(admin)
