"""Residents' reports of mistakes (issue 11): POST /api/v1/reports, kept in Redis or in a
file, listed for staff at /admin/reports (and .csv) behind MIERUKA_ADMIN_TOKEN. Every test
runs against the file and against a real Redis."""
from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import io
import uuid

import pytest
from flask import Flask

import admin
import api
from services.reports import KINDS, LIMIT, NOTE_MAX, ReportBook, ReportError
from tests.redis_server import free_port

TOKEN = "staff-" + "x" * 20


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture(params=["file", "redis"])
def book(request, tmp_path):
    clock = Clock()
    url = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    reports = ReportBook(url, tmp_path, prefix=f"test-{uuid.uuid4().hex[:8]}", clock=clock)
    reports.clock_ = clock
    return reports


@pytest.fixture
def server(ctx, book):
    """The API and the staff pages over the session's deployment, with `book` and a token."""
    app = Flask("reports")
    app.extensions["mieruka"] = dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, admin_token=TOKEN), reports=book)
    api.register(app)
    admin.register(app)
    return app


def a_toilet(ctx):
    return ctx.layers.snapshot("toilets").records[0]


def staff(client, path, password=TOKEN):
    key = base64.b64encode(f"staff:{password}".encode()).decode()
    return client.get(path, headers={"Authorization": f"Basic {key}"})


def rows_of(response):
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_a_report_is_kept_with_the_place_as_it_was_and_listed_for_staff(server, ctx, book):
    toilet = a_toilet(ctx)
    client = server.test_client()
    sent = client.post("/api/v1/reports", json={"layer": "toilets", "id": toilet["id"], "kind": "closed",
                                                "note": "=HYPERLINK(\"http://x\") 閉まっていました\u0007"})
    assert sent.status_code == 201 and sent.json == {"ok": True}
    book.clock_.now += dt.timedelta(minutes=5)
    # the details' own form: the place in its action's query, the kind from the button pressed
    sent = client.post(f"/api/v1/reports?layer=toilets&id={toilet['id']}", json={"kind": "hours", "note": ""})
    assert sent.status_code == 201

    [newest, first] = rows_of(staff(client, "/admin/reports.csv"))
    assert (newest["kind"], newest["at"]) == ("hours", "2026-12-07T09:05:00+00:00")
    assert first["name"] == toilet["name"] and first["id"] == toilet["id"] and first["layer"] == "toilets"
    assert first["data_date"] == ctx.layers.snapshot("toilets").data_date
    assert first["note"] == "'=HYPERLINK(\"http://x\") 閉まっていました"  # a formula kept as text; no bell
    page = staff(client, "/admin/reports")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.data.decode()
    assert "2件" in text and toilet["name"] in text and "閉鎖・利用できない" in text
    assert "2026-12-07 18:05" in text  # 09:05 UTC, in the deployment's zone (Asia/Tokyo)
    assert f'href="/map?sel=toilets%3A{toilet["id"]}"' in text  # the place on the map


def test_a_report_without_script_comes_back_to_the_place_thanked(server, ctx):
    toilet = a_toilet(ctx)
    sent = server.test_client().post(f"/api/v1/reports?layer=toilets&id={toilet['id']}&lang=en",
                                     data={"kind": "moved", "note": "入口が北側"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/map?lang=en&sel=toilets%3A{toilet['id']}&reported=1"


@pytest.mark.parametrize("body, status, message", [
    ({"id": "no-such-place", "kind": "other"}, 404, "no place"),
    ({"layer": "nowhere", "id": "1", "kind": "other"}, 404, "no place"),
    ({"kind": "bogus"}, 400, "kind: 'bogus' is not one of closed, moved, hours, other"),
    ({"kind": "other", "note": "あ" * (NOTE_MAX + 1)}, 400, f"at most {NOTE_MAX}"),
])
def test_a_report_that_cannot_be_taken_says_why_and_nothing_is_kept(server, ctx, book, body, status, message):
    body = {"layer": "toilets", "id": a_toilet(ctx)["id"], **body}
    answer = server.test_client().post("/api/v1/reports", json=body)
    assert answer.status_code == status and message in answer.json["error"]["message"]
    assert book.all() == []


def test_one_address_may_send_a_limited_number_an_hour(server, ctx, book):
    client, toilet = server.test_client(), a_toilet(ctx)

    def send(address):
        return client.post("/api/v1/reports", json={"layer": "toilets", "id": toilet["id"], "kind": "other"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [send("192.0.2.1") for _ in range(LIMIT)] == [201] * LIMIT
    assert send("192.0.2.1") == 429
    assert send("192.0.2.2") == 201  # another address is not held back
    book.clock_.now += dt.timedelta(hours=1)
    assert send("192.0.2.1") == 201
    assert len(book.all()) == LIMIT + 2
    assert not any("192.0.2" in str(r) for r in book.all())  # no address is kept with a report


def test_the_staff_pages_need_the_token_and_do_not_exist_without_one(server, ctx):
    client = server.test_client()
    assert client.get("/admin/reports").status_code == 401
    refused = staff(client, "/admin/reports.csv", password="guess")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/admin/reports", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    server.extensions["mieruka"] = dataclasses.replace(
        server.extensions["mieruka"], settings=dataclasses.replace(ctx.settings, admin_token=None))
    assert staff(client, "/admin/reports").status_code == 404


def test_kinds_and_notes_are_checked_in_the_book_too(book):
    with pytest.raises(ReportError):
        book.add("toilets", "1", "x", None, "unknown", "")
    report = book.add("toilets", "1", "x", None, KINDS[0], "  \u202eevil\u0000 note\n2行目  ")
    assert report["note"] == "evil note\n2行目"  # bidi overrides and NUL dropped, lines kept
    assert book.all() == [report]


def test_a_report_redis_cannot_take_is_kept_in_the_file_and_listed(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    book = ReportBook(dead, tmp_path)
    report = book.add("aed", "7", "市役所", "2026-12-01", "moved", "")
    assert book.all() == [report]
    assert (tmp_path / "reports.jsonl").exists()
    assert all(book.allow("192.0.2.9") for _ in range(LIMIT)) and not book.allow("192.0.2.9")  # counted here
