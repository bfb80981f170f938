"""Event sample data: the prefecture's own events, and for Osaka, Nara and Tottori (who
share one events platform) a share of events in the other two as well."""

from __future__ import annotations

import datetime as dt
import random
from typing import Sequence

from .columns import COLUMNS
from .common import TOWNS, Leaf, Namer, address, code6, phone, sample_url, scatter, spread

Rows = list[dict[str, str]]

#: Prefectures whose events are shared: a deployment for one of them also shows some
#: events of the other two, placed in a few of their cities (below).
SHARED_EVENTS = {"27": "大阪府", "29": "奈良県", "31": "鳥取県"}
#: Share of the events that falls in each partner prefecture.
PARTNER_SHARE = 0.15

# A few cities of each sharing prefecture: (5-digit code, name, office lat, office lon,
# scatter radius km, weight ≈ population, phone prefix).  Office positions are
# approximate; phone prefixes are unassignable (the digit after the area code is 0).
_OTHER_CITIES = {
    "大阪府": (
        ("27203", "豊中市", 34.7814, 135.4700, 2.0, 395_000, "06-0000-"),
        ("27205", "吹田市", 34.7594, 135.5169, 2.0, 374_000, "06-0000-"),
        ("27210", "枚方市", 34.8144, 135.6508, 2.5, 404_000, "072-000-"),
        ("27227", "東大阪市", 34.6794, 135.6008, 2.5, 503_000, "06-0000-"),
    ),
    "奈良県": (
        ("29201", "奈良市", 34.6851, 135.8050, 3.0, 350_000, "0742-00-"),
        ("29203", "大和郡山市", 34.6494, 135.7828, 2.0, 84_000, "0743-00-"),
        ("29205", "橿原市", 34.5093, 135.7929, 2.0, 120_000, "0744-00-"),
        ("29209", "生駒市", 34.6921, 135.7006, 2.0, 117_000, "0743-00-"),
    ),
    "鳥取県": (
        ("31201", "鳥取市", 35.4941, 134.2262, 3.0, 185_000, "0857-00-"),
        ("31202", "米子市", 35.4281, 133.3310, 2.5, 146_000, "0859-00-"),
        ("31203", "倉吉市", 35.4300, 133.8255, 2.0, 45_000, "0858-00-"),
        ("31204", "境港市", 35.5396, 133.2318, 1.5, 33_000, "0859-00-"),
    ),
}


def other_leaves(pref: str) -> list[Leaf]:
    return [Leaf(code=code6(c), pref=pref, name=n, lat=lat, lon=lon, radius_km=r, weight=w, phone_prefix=p)
            for c, n, lat, lon, r, w, p in _OTHER_CITIES[pref]]


# (name kind, venue kind, description, multi-day?, needs application?)
_EVENT_KINDS = (
    (("ふれあいまつり", "ふれあいまつり", "Community Festival"), "公園",
     "模擬店やステージ発表など、地域のみなさんが楽しめるおまつりです。", False, False),
    (("朝市", "あさいち", "Morning Market"), "広場", "地元で採れた野菜や加工品を販売します。", False, False),
    (("マルシェ", "まるしぇ", "Marche"), "広場", "手づくり雑貨や軽食のお店が並びます。", False, False),
    (("ウォーキング大会", "うぉーきんぐたいかい", "Walking Event"), "公園",
     "まちの見どころを巡る約5kmのコースを歩きます。", False, True),
    (("子育て講座", "こそだてこうざ", "Parenting Class"), "コミュニティセンター",
     "乳幼児の保護者を対象に、保育士が子育てのコツをお話しします。", False, True),
    (("防災訓練", "ぼうさいくんれん", "Disaster Drill"), "小学校",
     "避難訓練、消火器の使い方、非常食の試食などを行います。", False, False),
    (("音楽祭", "おんがくさい", "Music Festival"), "文化ホール",
     "地元の吹奏楽団や合唱団が出演するコンサートです。", False, False),
    (("写真展", "しゃしんてん", "Photo Exhibition"), "図書館", "市民が撮影したまちの風景写真を展示します。", True, False),
    (("美術展", "びじゅつてん", "Art Exhibition"), "文化ホール", "地域の作家による絵画・工芸作品の展示です。", True, False),
    (("歴史講座", "れきしこうざ", "History Lecture"), "公民館", "地域の歴史を学芸員がわかりやすく解説します。", False, True),
    (("親子料理教室", "おやこりょうりきょうしつ", "Parent-Child Cooking Class"), "公民館",
     "旬の食材を使って親子で料理に挑戦します。", False, True),
    (("星空観察会", "ほしぞらかんさつかい", "Stargazing Night"), "公園", "望遠鏡で月や惑星を観察します。", False, True),
    (("おはなし会", "おはなしかい", "Storytime"), "図書館", "絵本の読み聞かせや手遊びを楽しみます。", False, False),
    (("健康セミナー", "けんこうせみなー", "Health Seminar"), "コミュニティセンター",
     "医師や保健師が生活習慣病の予防について講演します。", False, True),
)
_TIMES = (("10:00", "16:00"), ("13:30", "15:30"), ("18:00", "20:00"), ("09:00", "12:00"), ("10:00", "15:00"))


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def window_end(as_of: dt.date) -> dt.date:
    """First day after the 3-month window of event start dates."""
    return _add_months(as_of, 3)


def partners(prefecture_code: str) -> list[str]:
    """The prefectures (by name) whose events a deployment for ``prefecture_code`` also shows."""
    if prefecture_code not in SHARED_EVENTS:
        return []
    return [name for code, name in SHARED_EVENTS.items() if code != prefecture_code]


def events(rng: random.Random, own: Sequence[Leaf], as_of: dt.date, n: int,
           partner_prefs: Sequence[str] = ("奈良県", "鳥取県")) -> Rows:
    """``n`` events: ``PARTNER_SHARE`` of them in each of ``partner_prefs``, the rest over
    the prefecture's own leaves (listed first)."""
    cols, namer, rows = COLUMNS["events"], Namer(), []
    n_partner = [round(n * PARTNER_SHARE) for _ in partner_prefs]
    n_own = n - sum(n_partner)
    places = spread(own, n_own)
    for pref, k in zip(partner_prefs, n_partner):
        places += spread(other_leaves(pref), k)
    span = (window_end(as_of) - as_of).days
    # Three of the prefecture's own events start on as_of, as_of+1 and as_of+2 ("today" / "this week").
    pinned = {k * (n_own // 3) + rng.randrange(max(n_own // 3, 1)): k for k in range(3)} if n_own >= 3 else {}
    for i, leaf in enumerate(places, 1):
        ident = f"EVT-{i:06d}"
        kind, venue_kind, desc, multi, apply = rng.choice(_EVENT_KINDS)
        name = namer.make(rng, leaf, [kind], kind=kind)
        town = TOWNS[name.town_index]
        offset = pinned[i - 1] if (i - 1) in pinned else rng.randrange(span)
        start = as_of + dt.timedelta(days=offset)
        if multi:
            end = start + dt.timedelta(days=rng.randint(6, 14))
            t0, t1, special = "10:00", "17:00", "最終日は16:00まで"
        else:
            end = start + dt.timedelta(days=rng.choice((0, 0, 0, 0, 0, 1, 2)))
            t0, t1 = rng.choice(_TIMES)
            special = "" if end == start else "各日同時刻"
        free = rng.random() < 0.6
        fee_detail = "" if free else rng.choice(("大人500円、中学生以下無料", "材料費300円", "1組1,000円", "前売800円・当日1,000円"))
        organiser = leaf.name if rng.random() < 0.5 else f"{town[0]}{kind[0]}実行委員会"
        contact = f"{leaf.name}地域振興課" if organiser == leaf.name else f"{organiser}事務局"
        capacity, deadline, deadline_t, method = "", "", "", "申込不要"
        if apply:
            capacity = str(rng.choice((10, 20, 30, 40, 50, 100)))
            deadline = max(as_of, start - dt.timedelta(days=rng.randint(2, 10))).isoformat()
            deadline_t = "17:00"
            method = rng.choice(("電話", "Webフォーム", "電話またはWebフォーム", "窓口"))
        lat, lon = scatter(rng, leaf)
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.pref, leaf.name, name.ja, name.kana, name.en,
            start.isoformat(), end.isoformat(), t0, t1, special, desc,
            "無料" if free else "有料", fee_detail, contact, phone(rng, leaf), "", organiser,
            f"{town[0]}{venue_kind}", address(rng, leaf, name.town_index).full, "", lat, lon,
            rng.choice((f"{town[0]}駅から徒歩{rng.randint(3, 15)}分", f"{town[0]}バス停下車すぐ")),
            rng.choice(("なし（公共交通機関をご利用ください）", f"あり（{rng.randint(2, 10) * 10}台・無料）",
                        "近隣の有料駐車場をご利用ください")),
            capacity, deadline, deadline_t, method, sample_url("events", ident),
            rng.choice(("", "", "雨天中止", "雨天決行（荒天中止）", "内容は変更になる場合があります")),
        ))))
    return rows
