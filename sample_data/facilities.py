"""Point-facility sample datasets: baby stations, nurseries, toilets, AED, evacuation
sites, public Wi-Fi and medical institutions."""

from __future__ import annotations

import datetime as dt
import random
from typing import Sequence

from .columns import COLUMNS
from .common import (
    TOWNS, Leaf, Namer, address, chance, hhmm, phone, pick_weighted, sample_url, scatter, spread,
)

Rows = list[dict[str, str]]
YES, NO = "有", "無"
MARU, BATSU = "○", "×"
ALL_DAYS = "月火水木金土日祝"


def _yn(flag: bool) -> str:
    return YES if flag else NO


# --- 赤ちゃんの駅 ---------------------------------------------------------------------
_BABY_KINDS = (
    ("保健センター", "ほけんせんたー", "Health Center"),
    ("子育て支援センター", "こそだてしえんせんたー", "Child-rearing Support Center"),
    ("児童館", "じどうかん", "Children's Hall"),
    ("図書館", "としょかん", "Library"),
    ("コミュニティセンター", "こみゅにてぃせんたー", "Community Center"),
    ("公民館", "こうみんかん", "Community Hall"),
    ("ショッピングセンター", "しょっぴんぐせんたー", "Shopping Center"),
    ("地区会館", "ちくかいかん", "District Hall"),
)
_BABY_HOURS = ((9 * 60, 17 * 60 + 30), (9 * 60, 17 * 60), (10 * 60, 20 * 60), (8 * 60 + 45, 17 * 60 + 15),
               (10 * 60, 21 * 60))


def baby_stations(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int) -> Rows:
    cols, namer, rows = COLUMNS["baby-stations"], Namer(), []
    for i, leaf in enumerate(spread(leaves, n), 1):
        ident = f"BS-{i:06d}"
        name = namer.make(rng, leaf, _BABY_KINDS, (3, 2, 3, 2, 3, 2, 3, 1))
        lat, lon = scatter(rng, leaf)
        start, end = rng.choice(_BABY_HOURS)
        if name.ja.endswith("ショッピングセンター"):
            start, end, note = 10 * 60, 21 * 60, "営業日に準じる"
        else:
            note = rng.choice(("土日祝・年末年始休み", "年末年始休み", "月曜休館", "", ""))
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.name, name.ja, name.kana, address(rng, leaf, name.town_index).full,
            lat, lon,
            MARU if chance(rng, 0.6) else BATSU, MARU if chance(rng, 0.95) else BATSU,
            MARU if chance(rng, 0.45) else BATSU, MARU if chance(rng, 0.7) else BATSU,
            hhmm(start), hhmm(end), note,
            phone(rng, leaf), sample_url("baby-stations", ident),
            rng.choice(("", "", "", "授乳室は1室", "職員にお声かけください", "ミルク用のお湯は要申出")),
        ))))
    return rows


# --- 保育所空き情報 -----------------------------------------------------------------
_NURSERY_TYPES = (
    # 種別, name kinds, first age, capacity range, weight
    ("認可保育所", (("保育園", "ほいくえん", "Nursery School"), ("保育所", "ほいくしょ", "Nursery")), 0, (60, 180), 70),
    ("認定こども園（幼保連携型）", (("こども園", "こどもえん", "Kodomoen"),), 0, (90, 300), 18),
    ("小規模保育事業", (("保育ルーム", "ほいくるーむ", "Nursery Room"), ("ベビールーム", "べびーるーむ", "Baby Room")),
     0, (12, 19), 12),
)


def _months_back(as_of: dt.date, count: int) -> list[str]:
    y, m = as_of.year, as_of.month
    out = []
    for k in range(count - 1, -1, -1):
        yy, mm = divmod((y * 12 + m - 1) - k, 12)
        out.append(f"{yy:04d}-{mm + 1:02d}")
    return out


def nursery_vacancies(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n_fac: int) -> Rows:
    cols, namer = COLUMNS["nursery-vacancies"], Namer()
    months = _months_back(as_of, 12)
    facilities = []
    for i, leaf in enumerate(spread(leaves, n_fac), 1):
        t = pick_weighted(rng, _NURSERY_TYPES, [x[4] for x in _NURSERY_TYPES])
        kind_name, kinds, _, (cap_lo, cap_hi), _ = t
        name = namer.make(rng, leaf, kinds, words=chance(rng, 0.7))
        if kind_name == "小規模保育事業":
            first, last = (0, 2) if chance(rng, 0.85) else (1, 2)
        else:
            first = 0 if chance(rng, 0.85) else 1
            last = 5
        lat, lon = scatter(rng, leaf)
        # Open places in April per class; ages 0-2 are scarce, older classes have more.
        spring = {}
        for age in range(first, last + 1):
            if age <= 2:
                spring[age] = rng.choices((0, 1, 2, 3, 4), weights=(35, 25, 20, 12, 8))[0]
            else:
                spring[age] = rng.choices((0, 1, 2, 3, 5, 8), weights=(15, 15, 20, 20, 18, 12))[0]
        facilities.append(dict(
            leaf=leaf, ident=f"NV-{i:06d}", name=name, kind=kind_name, lat=lat, lon=lon,
            tel=phone(rng, leaf), addr=address(rng, leaf, name.town_index).full,
            cap=str(rng.randint(cap_lo, cap_hi) if cap_hi < 30 else rng.randint(cap_lo, cap_hi) // 5 * 5),
            ages=f"{'生後57日' if first == 0 and chance(rng, 0.3) else f'{first}歳'}～{last}歳",
            spring=spring,
        ))
    rows: Rows = []
    for ym in months:
        month = int(ym[5:])
        # Fiscal-year progress: April 0 → March 11; places fill up over the year.
        k = (month - 4) % 12
        fill = 1.0 - 0.8 * k / 11
        for f in facilities:
            classes = []
            for age in range(6):
                if age not in f["spring"]:
                    classes.append("")
                    continue
                base = f["spring"][age] * fill
                if age == 0 and k <= 3:
                    base += 1.0  # 0-year classes still take infants in early months
                v = int(base + rng.random() - 0.35)
                classes.append(str(max(v, 0)))
            leaf = f["leaf"]
            rows.append(dict(zip(cols, (
                leaf.code, f["ident"], leaf.name, f["name"].ja, f["name"].kana, f["kind"], f["addr"],
                f["lat"], f["lon"], f["tel"], f["cap"], f["ages"], ym, *classes,
            ))))
    return rows


# --- 公衆トイレ -------------------------------------------------------------------
_TOILET_KINDS = (
    ("公園公衆トイレ", "こうえんこうしゅうといれ", "Park Public Toilet"),
    ("駅前公衆トイレ", "えきまえこうしゅうといれ", "Station Public Toilet"),
    ("広場公衆トイレ", "ひろばこうしゅうといれ", "Plaza Public Toilet"),
    ("緑地公衆トイレ", "りょくちこうしゅうといれ", "Green Space Public Toilet"),
    ("児童遊園トイレ", "じどうゆうえんといれ", "Playground Toilet"),
    ("コミュニティセンタートイレ", "こみゅにてぃせんたーといれ", "Community Center Toilet"),
)
_TOILET_POS = {"公園": "公園内", "駅前": "駅前広場", "広場": "広場北側", "緑地": "緑地内",
               "児童": "遊園入口付近", "コミ": "建物1階"}


def toilets(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int) -> Rows:
    cols, namer, rows = COLUMNS["toilets"], Namer(), []
    for i, leaf in enumerate(spread(leaves, n), 1):
        ident = f"TL-{i:06d}"
        name = namer.make(rng, leaf, _TOILET_KINDS, (6, 2, 2, 2, 2, 1))
        addr = address(rng, leaf, name.town_index)
        lat, lon = scatter(rng, leaf)
        urinal, m_jp, m_w = rng.randint(0, 4), rng.randint(0, 2), rng.randint(0, 2)
        f_jp, f_w = rng.randint(0, 2), rng.randint(1, 3)
        shared = rng.choices((0, 1, 2), weights=(70, 25, 5))[0]
        s_jp = rng.randint(0, shared)
        bf = rng.choices((0, 1, 2), weights=(35, 55, 10))[0]
        r = rng.random()
        if r < 0.30:
            start, end, note = "00:00", "24:00", ""
        elif r < 0.65:
            start, end, note = "06:00", "22:00", ""
        elif r < 0.85:
            start, end, note = "09:00", "17:00", rng.choice(("", "年末年始は閉鎖"))
        else:
            start, end, note = "07:00", "21:00", rng.choice(("", "施設の開館時間に準じる"))
        has_image = chance(rng, 0.1)
        values = (
            leaf.code, ident, leaf.name, name.ja, name.kana, name.en,
            leaf.code, addr.chouaza_id, addr.full, addr.pref, addr.muni, addr.chouaza, addr.banchi, "",
            _TOILET_POS.get(name.kind[:2], ""), lat, lon, "", "",
            str(urinal + m_jp + m_w), str(urinal), str(m_jp), str(m_w),
            str(f_jp + f_w), str(f_jp), str(f_w),
            str(shared), str(s_jp), str(shared - s_jp),
            str(bf), _yn(bf > 0), _yn(bf > 0 and chance(rng, 0.6)), _yn(bf > 0 and chance(rng, 0.45)),
            start, end, note,
            sample_url("toilets", ident) + ".jpg" if has_image else "", "CC BY 4.0" if has_image else "",
            rng.choice(("", "", "", "", "洋式便器は温水洗浄便座", "改修予定あり")),
        )
        rows.append(dict(zip(cols, values)))
    return rows


# --- AED ------------------------------------------------------------------------
_AED_KINDS = (
    # kind, 設置位置 choices, public?, weight
    (("小学校", "しょうがっこう", "Elementary School"), ("職員室前", "1階玄関", "体育館入口"), True, 5),
    (("中学校", "ちゅうがっこう", "Junior High School"), ("職員室前", "1階玄関", "体育館入口"), True, 3),
    (("公民館", "こうみんかん", "Community Hall"), ("1階ロビー", "受付横"), True, 2),
    (("コミュニティセンター", "こみゅにてぃせんたー", "Community Center"), ("1階ロビー", "事務所内"), True, 2),
    (("駅", "えき", "Station"), ("改札口付近", "駅務室前"), False, 2),
    (("スポーツセンター", "すぽーつせんたー", "Sports Center"), ("受付", "1階ロビー"), True, 1),
    (("温水プール", "おんすいぷーる", "Indoor Pool"), ("監視室", "受付"), True, 1),
    (("集会所", "しゅうかいじょ", "Meeting Hall"), ("入口", "集会室"), False, 2),
    (("ビル", "びる", "Building"), ("1階エントランス", "防災センター"), False, 3),
    (("24時間店舗", "にじゅうよじかんてんぽ", "24h Store"), ("レジ横", "店内入口"), False, 2),
)


def aed(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int, floor: int = 0) -> Rows:
    cols, namer, rows = COLUMNS["aed"], Namer(), []
    kinds = [k[0] for k in _AED_KINDS]
    weights = [k[3] for k in _AED_KINDS]
    for i, leaf in enumerate(spread(leaves, n, floor), 1):
        ident = f"AED-{i:06d}"
        kind_i = rng.choices(range(len(_AED_KINDS)), weights=weights)[0]
        kind, positions, public, _ = _AED_KINDS[kind_i]
        name = namer.make(rng, leaf, kinds, kind=kind)
        lat, lon = scatter(rng, leaf)
        if kind[0] == "24時間店舗" or (kind[0] in ("駅", "ビル") and chance(rng, 0.55)):
            days, start, end, note = ALL_DAYS, "00:00", "24:00", ""
        elif kind[0] in ("小学校", "中学校"):
            days, start, end = "月火水木金", "08:30", "17:00"
            note = rng.choice(("夏季休業中は閉庁日あり", "", "夜間・休日は使用不可"))
        else:
            days = rng.choice(("月火水木金", "火水木金土日", "月火水木金土", "火水木金土日祝"))
            start, end = rng.choice((("09:00", "17:00"), ("09:00", "21:00"), ("09:00", "22:00")))
            note = rng.choice(("", "", "年末年始を除く", "休館日は使用不可"))
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.pref, leaf.name, name.ja, name.kana,
            address(rng, leaf, name.town_index).full, "", lat, lon, rng.choice(positions),
            phone(rng, leaf), "", "", leaf.name if public else "",
            days, start, end, note, _yn(chance(rng, 0.7)),
            sample_url("aed", ident), rng.choice(("", "", "", "屋外収納ボックスに設置", "貸出用あり")),
        ))))
    return rows


# --- 指定緊急避難場所 ---------------------------------------------------------------
_EVAC_KINDS = (
    (("小学校", "しょうがっこう", "Elementary School"), True, (500, 2500), 6),
    (("中学校", "ちゅうがっこう", "Junior High School"), True, (800, 3000), 3),
    (("高等学校", "こうとうがっこう", "High School"), True, (800, 3000), 1),
    (("公園", "こうえん", "Park"), False, (1000, 20000), 4),
    (("広場", "ひろば", "Open Space"), False, (500, 5000), 1),
    (("グラウンド", "ぐらうんど", "Sports Ground"), False, (1000, 8000), 1),
)


def evacuation_sites(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int, floor: int = 0) -> Rows:
    cols, namer, rows = COLUMNS["evacuation-sites"], Namer(), []
    weights = [k[3] for k in _EVAC_KINDS]
    for i, leaf in enumerate(spread(leaves, n, floor), 1):
        ident = f"EV-{i:06d}"
        kind, school, (cap_lo, cap_hi), _ = rng.choices(_EVAC_KINDS, weights=weights)[0]
        name = namer.make(rng, leaf, [kind], kind=kind)
        addr = address(rng, leaf, name.town_index)
        lat, lon = scatter(rng, leaf)
        # Only Osaka has a coastal line (common.COASTAL_LON); elsewhere every site takes the
        # inland probabilities of tsunami / storm surge below, a neutral low share.
        coastal = leaf.coastal(float(lon))
        if coastal:
            elev = rng.uniform(0.5, 5.0)
        elif leaf.code.startswith(("271", "2714")):
            elev = rng.uniform(1.5, 25.0)  # Osaka / Sakai city wards (codes 271…): low plain
        else:
            elev = min(3.0 + rng.lognormvariate(3.0, 0.8), 400.0)
        one = lambda p: "1" if chance(rng, p) else ""  # noqa: E731
        town = TOWNS[name.town_index][0]
        groups = ";".join(f"{town}{'一二三四'[g]}丁目町会" for g in range(rng.randint(1, 4)))
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.name, name.ja, name.kana, name.en,
            leaf.code, addr.chouaza_id, addr.full, addr.pref, addr.muni, addr.chouaza, addr.banchi, "",
            lat, lon, f"{elev:.1f}", phone(rng, leaf) if school else "",
            one(0.55), one(0.03 if coastal else 0.15), one(0.75 if coastal else 0.05), one(0.92),
            one(0.75 if coastal else 0.03), one(0.35 if school else 0.7), one(0.45), "",
            _yn(school or chance(rng, 0.1)), str(rng.randint(cap_lo, cap_hi) // 10 * 10), groups,
            sample_url("evacuation-sites", ident), rng.choice(("", "", "", "校舎3階以上に避難", "夜間は施錠")),
        ))))
    return rows


# --- 公衆無線LAN ---------------------------------------------------------------------
FREE_WIFI = "{prefecture} Free Wi-Fi"  # the prefecture's own free Wi-Fi, named in English
_WIFI_KINDS = (
    (("駅", "えき", "Station"), "交通事業者Wi-Fi", "駅構内", 3),
    (("図書館", "としょかん", "Library"), "市区町村公衆無線LAN", "館内", 2),
    (("コミュニティセンター", "こみゅにてぃせんたー", "Community Center"), "市区町村公衆無線LAN", "1階ロビー", 2),
    (("商店街", "しょうてんがい", "Shopping Street"), FREE_WIFI, "アーケード内", 3),
    (("公園", "こうえん", "Park"), FREE_WIFI, "公園内の一部", 2),
    (("観光案内所", "かんこうあんないじょ", "Tourist Information Center"), FREE_WIFI, "案内所内", 1),
    (("ショッピングモール", "しょっぴんぐもーる", "Shopping Mall"), "商業施設Wi-Fi", "館内全域", 2),
)
_SSID = {FREE_WIFI: "SAMPLE_Free_WiFi", "市区町村公衆無線LAN": "SAMPLE_City_WiFi",
         "交通事業者Wi-Fi": "SAMPLE_Transit_WiFi", "商業施設Wi-Fi": "SAMPLE_Mall_WiFi"}


def wifi(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int, prefecture_en: str = "Osaka") -> Rows:
    """``prefecture_en`` names the prefecture's free Wi-Fi (e.g. "Nara Free Wi-Fi")."""
    cols, namer, rows = COLUMNS["wifi"], Namer(), []
    weights = [k[3] for k in _WIFI_KINDS]
    for i, leaf in enumerate(spread(leaves, n), 1):
        ident = f"WF-{i:06d}"
        kind, provider, area, _ = rng.choices(_WIFI_KINDS, weights=weights)[0]
        name = namer.make(rng, leaf, [kind], kind=kind)
        lat, lon = scatter(rng, leaf)
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.pref, leaf.name, name.ja, name.kana, name.en,
            address(rng, leaf, name.town_index).full, "", lat, lon,
            provider.format(prefecture=prefecture_en), phone(rng, leaf), "",
            _SSID[provider], area, sample_url("wifi", ident),
            rng.choice(("", "", "", "利用は1回60分まで", "事前登録不要", "多言語対応")),
        ))))
    return rows


# --- 医療機関 ---------------------------------------------------------------------
_CLINIC_KINDS = (
    # name kind, departments (first is the main one), weight
    (("内科クリニック", "ないかくりにっく", "Internal Medicine Clinic"), ("内科", "消化器内科", "循環器内科", "小児科"), 22),
    (("こどもクリニック", "こどもくりにっく", "Children's Clinic"), ("小児科", "アレルギー科"), 5),
    (("整形外科", "せいけいげか", "Orthopedics"), ("整形外科", "リハビリテーション科", "外科"), 6),
    (("眼科", "がんか", "Eye Clinic"), ("眼科",), 4),
    (("皮膚科クリニック", "ひふかくりにっく", "Dermatology Clinic"), ("皮膚科", "形成外科"), 4),
    (("耳鼻咽喉科", "じびいんこうか", "ENT Clinic"), ("耳鼻咽喉科", "アレルギー科"), 4),
    (("レディースクリニック", "れでぃーすくりにっく", "Women's Clinic"), ("産婦人科",), 2),
    (("こころのクリニック", "こころのくりにっく", "Mental Clinic"), ("精神科", "心療内科"), 3),
    (("診療所", "しんりょうじょ", "Clinic"), ("内科", "外科", "小児科"), 6),
    (("歯科医院", "しかいいん", "Dental Clinic"), ("歯科", "小児歯科", "矯正歯科", "歯科口腔外科"), 22),
    (("デンタルクリニック", "でんたるくりにっく", "Dental Clinic"), ("歯科", "小児歯科", "矯正歯科"), 12),
)
_BED_CLINIC_KINDS = tuple(k for k in _CLINIC_KINDS if k[1][0] != "歯科")
_HOSPITAL_KINDS = (
    ("病院", "びょういん", "Hospital"), ("中央病院", "ちゅうおうびょういん", "Central Hospital"),
    ("記念病院", "きねんびょういん", "Memorial Hospital"), ("総合病院", "そうごうびょういん", "General Hospital"),
)
_HOSPITAL_DEPTS = ("内科", "外科", "小児科", "整形外科", "循環器内科", "消化器内科", "脳神経外科",
                   "皮膚科", "眼科", "耳鼻咽喉科", "産婦人科", "泌尿器科", "精神科", "放射線科",
                   "リハビリテーション科", "麻酔科", "歯科口腔外科")


def medical(rng: random.Random, leaves: Sequence[Leaf], as_of: dt.date, n: int, floor: int = 0) -> Rows:
    cols, namer, rows = COLUMNS["medical"], Namer(), []
    for i, leaf in enumerate(spread(leaves, n, floor), 1):
        ident = f"MD-{i:06d}"
        r = rng.random()
        if r < 0.05:
            kind_name = "病院"
            name = namer.make(rng, leaf, _HOSPITAL_KINDS, words=chance(rng, 0.3))
            depts = ["内科"] + rng.sample(_HOSPITAL_DEPTS[1:], rng.randint(4, 14))
            beds = str(rng.choice((rng.randint(20, 199), rng.randint(50, 400), rng.randint(100, 800))))
            days, start, end = "月火水木金土", "09:00", "17:00"
            special = "土曜は午前のみ"
            after = rng.choice(("救急外来あり（24時間）", "夜間・休日救急対応", "二次救急指定"))
            dental = False
        else:
            pool = _CLINIC_KINDS if r >= 0.10 else _BED_CLINIC_KINDS
            kind, dept_pool, _ = rng.choices(pool, weights=[k[2] for k in pool])[0]
            name = namer.make(rng, leaf, [kind], kind=kind, words=chance(rng, 0.5))
            depts = [dept_pool[0]] + [d for d in dept_pool[1:] if chance(rng, 0.4)]
            dental = dept_pool[0] == "歯科"
            if r < 0.10:
                kind_name, beds = "有床診療所", str(rng.randint(1, 19))
            else:
                kind_name, beds = "無床診療所", ""
            days = rng.choice(("月火水金土", "月火水木金", "月火水木金土", "月火木金土", "月火水金"))
            start, end = rng.choice((("09:00", "18:00"), ("09:00", "19:00"), ("08:30", "17:30"),
                                     ("09:30", "19:30"), ("10:00", "19:00")))
            special = rng.choice(("昼休み 12:30～16:00", "土曜は午前のみ", "日曜・祝日休診",
                                  "木曜午後休診", ""))
            after = rng.choice(("なし", "なし", "電話にて相談可", "在宅医療対応"))
        corp = ""
        if kind_name == "病院" or chance(rng, 0.4):
            corp = f"医療法人{rng.choice(('', '社団', '財団'))}{name.prefix}会"
        kind_digit = "3" if dental else "1"
        rows.append(dict(zip(cols, (
            leaf.code, ident, leaf.pref, leaf.name, name.ja, name.kana, kind_name,
            address(rng, leaf, name.town_index).full, "", *scatter(rng, leaf),
            phone(rng, leaf), "", phone(rng, leaf) if chance(rng, 0.7) else "", "", corp,
            f"{leaf.code[:2]}{kind_digit}{9000000 + i:07d}", days, start, end, special, after, ";".join(depts), beds,
            sample_url("medical", ident) if chance(rng, 0.6) else "",
            rng.choice(("", "", "", "予約優先", "駐車場あり", "バリアフリー対応")),
        ))))
    return rows
