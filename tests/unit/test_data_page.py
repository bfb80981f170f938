"""/data lists every dataset with its source, licence, dates, rows and rejects."""
from __future__ import annotations

import importlib

from tests.component_text import text_of, walk


def test_every_layer_and_indicator_has_a_section(dash_app, ctx):
    data = importlib.import_module("pages.data")
    with dash_app.server.test_request_context("/data"):
        page = data.layout()
    assert "「サンプル」と表示した項目は架空のサンプルデータです。" in text_of(page)  # real and sample side by side
    sections = [n for n in walk(page) if getattr(n, "id", None) and str(n.id).startswith("dataset-")]
    assert [s.id for s in sections] == [f"dataset-{lid}" for lid in ctx.deployment.layer_ids] + [
        f"dataset-{i.id}" for i in ctx.deployment.indicators]
    toilets = next(s for s in sections if s.id == "dataset-toilets")  # real: the municipalities' files
    text = text_of(toilets)
    assert "CC BY 4.0" in text and "709" in text and "大阪市「施設情報ポイントデータ（公衆トイレ）」を加工して作成" in text
    assert "サンプル" not in text
    assert "10行を除外（理由別）" in text and "緯度・経度がない" in text and "「ー」「△」「不明」など、値がないか不明を表す記号を空欄とした" in text
    links = [n.href for n in walk(toilets) if getattr(n, "href", None)]
    assert "/api/v1/layers/toilets.csv" in links and "/api/v1/layers/toilets.geojson" in links
    # the sample data carries the defects real files have: the import report shows them
    aed = next(s for s in sections if s.id == "dataset-aed")
    text = text_of(aed)
    snap = ctx.layers.snapshot("aed")
    assert "サンプルデータ" in text and f"{snap.count:,}" in text
    assert dict(snap.report.rejected) == {"duplicate id": 1, "missing coordinates": 1, "zero coordinates": 1}
    assert snap.report.repaired["latitude and longitude swapped"] == 2
    assert "3行を除外（理由別）" in text and "2行を補正（理由別）" in text
    assert "緯度・経度がない" in text and "緯度と経度が入れ違い（入れ替えて補正）" in text
    assert "missing coordinates" not in text  # the report's keys are English; the Japanese page is not


def test_rejected_rows_are_counted_by_reason_with_examples(dash_app):
    data = importlib.import_module("pages.data")
    with dash_app.server.test_request_context("/data?lang=en"):
        block = data._reasons({"zero coordinates": 2, "missing name": 5},
                              {"zero coordinates": ["row 4 (id T-1)", "row 9 (id T-7)"], "missing name": ["row 3"]},
                              "rejected", "en")
    text = text_of(block)
    assert "7 rows rejected" in text
    assert text.index("missing name") < text.index("zero coordinates")  # most frequent first
    with dash_app.server.test_request_context("/data"):
        ja = text_of(data._reasons({"unreadable opening_hours": 1, "a reason nobody translated": 1}, {}, "repaired", "ja"))
    assert "「opening_hours」の値が読めない（空欄とした）" in ja and "a reason nobody translated" in ja
    assert "row 4 (id T-1)" in text and "row 3" in text
    assert data._reasons({}, {}, "rejected", "en") is None


def test_about_lists_every_dataset_with_its_licence_and_downloads(dash_app, ctx):
    about = importlib.import_module("pages.about")
    with dash_app.server.test_request_context("/about"):
        page = about.layout()
    rows = [n for n in walk(page) if type(n).__name__ == "Tr"][1:]  # after the header row
    assert len(rows) == len(ctx.deployment.layers) + len(ctx.deployment.indicators)
    text = text_of(page)
    for entry in (*ctx.deployment.layers, *ctx.deployment.indicators):
        assert entry.title["ja"] in text
    links = {n.href for n in walk(page) if getattr(n, "href", None)}
    assert {"/api/v1/layers/aed.geojson", "/api/v1/layers/aed.csv", "/api/v1/indicators/crime.json",
            "/api/v1/indicators/crime.csv", "/api/v1/indicators"} <= links
    assert "架空" in text  # the sample-data notice: invented, not real


def test_fetch_times_are_shown_in_the_deployments_time_zone_and_say_so(dash_app, ctx):
    from zoneinfo import ZoneInfo

    data = importlib.import_module("pages.data")
    with dash_app.server.test_request_context("/data"):
        page = data.layout()
    fetched = ctx.layers.snapshot("toilets").fetched_at.astimezone(ZoneInfo("Asia/Tokyo"))
    toilets = next(n for n in walk(page) if getattr(n, "id", None) == "dataset-toilets")
    assert f"{fetched:%Y-%m-%d %H:%M} JST" in text_of(toilets)
    assert "UTC" not in text_of(page)


def test_local_time_names_the_zone_or_its_offset():
    import datetime as dt

    from components.notices import local_time

    moment = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
    assert local_time(moment, "Asia/Tokyo") == "2026-11-25 17:00 JST"
    assert local_time(moment, "UTC") == "2026-11-25 08:00 UTC"
    assert local_time(moment, "America/Sao_Paulo") == "2026-11-25 05:00 UTC-03:00"  # no abbreviation


def test_every_reason_the_importers_give_has_a_japanese_text():
    """A new reject/repair reason in the importers must come with its text for the
    Japanese page (the keys themselves are English, as the API gives them)."""
    import re

    from i18n import catalog, reason_text
    from tests.conftest import ROOT

    reasons = set()
    for path in (ROOT / "data_sources").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        reasons |= set(re.findall(r'report\.(?:reject|repair|derive|keep)\("([^"]+)"', source))
        reasons |= set(re.findall(r'raise ValueProblem\("([^"]+)"\)', source))  # a row's reject reason
    assert {"duplicate id", "missing coordinates", "prefecture total computed from municipalities"} <= reasons
    untranslated = sorted(r for r in reasons if f"reason.{r}" not in catalog("ja"))
    assert untranslated == []
    assert reason_text("unreadable pm25 reading", "ja") == "pm25の測定値が読めない（空欄とした）"
    assert reason_text("beds kept as written", "ja") == "「beds」の値を読み取れず、元データの表記のまま表示"


def test_why_a_dataset_is_not_up_to_date_is_said_in_the_pages_language(dash_app):
    import datetime as dt

    from data_sources.refresh import health
    from data_sources.store import Snapshot

    data = importlib.import_module("pages.data")
    fetched = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.timezone.utc)
    good = Snapshot("aed", payload=[], meta={"fetched_at": fetched.isoformat(), "rows": 0})
    expired = health(good, 900, fetched + dt.timedelta(hours=3, minutes=5))
    assert expired["code"] == "expired" and "older than 900s" in expired["reason"]  # the monitors' line stays
    assert data.why(expired, "ja") == "取得から3時間が経ち、更新を待っています。"
    assert data.why(expired, "en") == "Fetched 3 h ago; waiting for a refresh."
    never = health(None, 900)
    assert data.why(never, "ja") == "まだ一度も取得できていません。"
    with dash_app.server.test_request_context("/data"):
        section = data._section(dash_app.server.extensions["mieruka"].deployment.layer("aed"), None,
                                "HTTP 503 from https://catalog.example.jp", "layers", "ja", "Asia/Tokyo")
    text = text_of(section)
    assert "取得できません。 まだ一度も取得できていません。 HTTP 503 from https://catalog.example.jp" in text
    assert "理由" not in text
    from data_sources import SourceLoading

    with dash_app.server.test_request_context("/data"):
        loading = text_of(data._section(dash_app.server.extensions["mieruka"].deployment.layer("aed"), None,
                                        SourceLoading("layer aed: loading"), "layers", "en", "Asia/Tokyo"))
    assert "Being fetched. Its first fetch is under way." in loading and "Cannot be fetched" not in loading


def test_a_notice_tells_old_data_being_refreshed_from_a_refresh_that_failed():
    import datetime as dt
    from types import SimpleNamespace

    from components.notices import dataset_notice

    fetched = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)

    def notice(health):
        return text_of(dataset_notice("aed", "AED設置場所", SimpleNamespace(health=health, fetched_at=fetched),
                                      "Asia/Tokyo", "ja"))

    assert notice({"status": "stale", "code": "expired"}).startswith(
        "「AED設置場所」は2026-11-25 17:00 JSTに取得したデータです。新しいデータを取得しています。")
    assert notice({"status": "stale", "code": "refresh_failed"}).startswith(
        "「AED設置場所」は最新のデータを取得できなかったため、2026-11-25 17:00 JSTに取得したデータを表示しています。")
    assert dataset_notice("aed", "AED設置場所", SimpleNamespace(health={"status": "ok"}, fetched_at=fetched),
                          "Asia/Tokyo", "ja") is None


def test_a_bundled_real_dataset_says_where_it_comes_from(dash_app, ctx):
    """For staff checking a figure: the publisher's dataset, its retrieval date, the sha256 of
    each file the build read, and for the toilets each municipality's own credit and licence."""
    from data_sources import snapshots

    data = importlib.import_module("pages.data")
    with dash_app.server.test_request_context("/data"):
        page = data.layout()
    sections = {n.id: n for n in walk(page) if getattr(n, "id", None) and str(n.id).startswith("dataset-")}
    evacuation = text_of(sections["dataset-evacuation-sites"])
    assert "同梱の実データ: https://www.gsi.go.jp/bousaichiri/hinanbasho.html" in evacuation
    assert "指定緊急避難場所・指定避難所データ（国土地理院）" in evacuation and "公開元から取得: 2025-10-27" in evacuation
    for entry in snapshots.meta("gsi-evacuation")["inputs"]:
        assert entry["file"] in evacuation and entry["sha256"][:16] in evacuation
    toilets = text_of(sections["dataset-toilets"])
    assert "公開元（8）" in toilets and "枚方市「公衆トイレ一覧」を加工して作成 (CC BY 2.1 Japan)" in toilets
    assert "ほかに28市町村" in toilets and "池田市" in toilets


def test_values_kept_as_written_are_counted_on_their_own(dash_app):
    """A value the importer could not type is kept as the source wrote it, and /data says how many,
    of which field, with examples (issue 9: never silently wrong)."""
    from data_sources.normalise import RejectReport

    data = importlib.import_module("pages.data")
    report = RejectReport()
    report.keep("capacity kept as written", "row 2 (id N1): capacity '1号認定 30、2・3号認定 144'")
    report.keep("a number with a note (the number read, the note kept)", "row 3 (id M1): beds '19（休床中）'")
    assert RejectReport.from_dict(report.as_dict()).kept == report.kept  # kept in the snapshot's meta
    with dash_app.server.test_request_context("/data"):
        ja = text_of(data._reasons(dict(report.kept), report.examples, "kept", "ja"))
    assert "2件（理由別）" in ja
    assert "「capacity」の値を読み取れず、元データの表記のまま表示" in ja and "1号認定 30、2・3号認定 144" in ja
    assert "数値に注記つき（数値を読み取り、表記も表示）" in ja
    with dash_app.server.test_request_context("/data?lang=en"):
        en = text_of(data._reasons(dict(report.kept), report.examples, "kept", "en"))
    assert "2 values kept as written (by reason)" in en and "capacity could not be read as a value (shown as written)" in en
    # …under its own heading in the dataset's section
    import datetime as dt
    from types import SimpleNamespace

    snap = SimpleNamespace(sample=False, source_url="https://opendata.example.jp/medical.csv", health={"status": "ok"},
                           report=report, fetched_at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc),
                           data_date="2026-11-25", count=1)
    layer = dash_app.server.extensions["mieruka"].deployment.layer("medical")
    with dash_app.server.test_request_context("/data"):
        section = text_of(data._section(layer, snap, None, "layers", "ja", "Asia/Tokyo"))
    assert "元データの表記のまま残した値" in section and "19（休床中）" in section
