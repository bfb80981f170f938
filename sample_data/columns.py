"""Column order of every sample dataset (standard open-data column names)."""

from __future__ import annotations

HEAD_CURRENT = ("全国地方公共団体コード", "ID", "地方公共団体名")
HEAD_OLDER = ("都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名")
LOCATION_BLOCK = (
    "所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県",
    "所在地_市区町村", "所在地_町字", "所在地_番地以下", "建物名等(方書)",
)

AIR_ITEMS = ("PM2.5", "NO2", "Ox", "SPM", "SO2")

COLUMNS: dict[str, tuple[str, ...]] = {
    "baby-stations": HEAD_CURRENT + (
        "名称", "名称_カナ", "所在地_連結表記", "緯度", "経度",
        "授乳室", "おむつ替え", "調乳用のお湯", "ベビーベッド",
        "利用開始時間", "利用終了時間", "利用可能時間特記事項", "電話番号", "URL", "備考",
    ),
    "nursery-vacancies": HEAD_CURRENT + (
        "名称", "名称_カナ", "種別", "所在地_連結表記", "緯度", "経度", "電話番号",
        "収容定員", "受入年齢", "年月", "0歳児", "1歳児", "2歳児", "3歳児", "4歳児", "5歳児",
    ),
    "toilets": HEAD_CURRENT + ("名称", "名称_カナ", "名称_英語") + LOCATION_BLOCK + (
        "設置位置", "緯度", "経度", "高度の種別", "高度の値",
        "男性トイレ総数", "男性トイレ数（小便器）", "男性トイレ数（和式）", "男性トイレ数（洋式）",
        "女性トイレ総数", "女性トイレ数（和式）", "女性トイレ数（洋式）",
        "男女共用トイレ総数", "男女共用トイレ数（和式）", "男女共用トイレ数（洋式）",
        "バリアフリートイレ数", "車椅子使用者用トイレ有無", "乳幼児用設備設置トイレ有無",
        "オストメイト設置トイレ有無", "利用開始時間", "利用終了時間", "利用可能時間特記事項",
        "画像", "画像_ライセンス", "備考",
    ),
    "aed": HEAD_OLDER + (
        "名称", "名称_カナ", "住所", "方書", "緯度", "経度", "設置位置", "電話番号", "内線番号",
        "法人番号", "団体名", "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項",
        "小児対応設備の有無", "URL", "備考",
    ),
    "evacuation-sites": HEAD_CURRENT + ("名称", "名称_カナ", "名称_英字") + LOCATION_BLOCK + (
        "緯度", "経度", "標高", "電話番号",
        "災害種別_洪水", "災害種別_崖崩れ、土石流及び地滑り", "災害種別_高潮", "災害種別_地震",
        "災害種別_津波", "災害種別_大規模な火事", "災害種別_内水氾濫", "災害種別_火山現象",
        "指定避難所との重複", "想定収容人数", "対象となる町会・自治会", "URL", "備考",
    ),
    "wifi": HEAD_OLDER + (
        "名称", "名称_カナ", "名称_英語", "住所", "方書", "緯度", "経度", "設置者", "電話番号",
        "内線番号", "SSID", "提供エリア", "URL", "備考",
    ),
    "medical": HEAD_OLDER + (
        "名称", "名称_カナ", "医療機関の種類", "住所", "方書", "緯度", "経度", "電話番号",
        "内線番号", "FAX番号", "法人番号", "法人の名称", "医療機関コード", "診療曜日",
        "診療開始時間", "診療終了時間", "診療日時特記事項", "時間外における対応", "診療科目",
        "病床数", "URL", "備考",
    ),
    "air-quality-stations": (
        "局番号", "測定局名", "測定局種別", "全国地方公共団体コード", "地方公共団体名",
        "所在地_連結表記", "緯度", "経度", "測定項目",
    ),
    "air-quality-readings": ("日時", "局番号") + AIR_ITEMS,
    "events": HEAD_OLDER + (
        "イベント名", "イベント名_カナ", "イベント名_英語", "開始日", "終了日", "開始時間",
        "終了時間", "開始日時特記事項", "説明", "料金(基本)", "料金(詳細)", "連絡先名称",
        "連絡先電話番号", "連絡先内線番号", "主催者", "場所名称", "住所", "方書", "緯度", "経度",
        "アクセス方法", "駐車場情報", "定員", "参加申込終了日", "参加申込終了時間",
        "参加申込方法", "URL", "備考",
    ),
}

DATASETS: tuple[str, ...] = tuple(COLUMNS)

#: Target row counts for Osaka (8.84 million people in 2015; the nursery target is
#: facilities × 12 months; readings are stations × 168 hours and so follow the station
#: count).  Other prefectures get these scaled by their population (generator.volume).
TARGETS: dict[str, int] = {
    "baby-stations": 1200,
    "nursery-vacancies": 1600 * 12,
    "toilets": 2500,
    "aed": 9000,
    "evacuation-sites": 3500,
    "wifi": 2000,
    "medical": 9500,
    "air-quality-stations": 90,
    "air-quality-readings": 90 * 7 * 24,
    "events": 600,
}

#: The fewest rows a prefecture gets, however small (nursery: facilities, not rows):
#: enough that a small prefecture's map layer is not nearly empty.
MINIMUMS: dict[str, int] = {
    "baby-stations": 20,
    "nursery-vacancies": 30,
    "toilets": 40,
    "aed": 100,
    "evacuation-sites": 60,
    "wifi": 30,
    "medical": 100,
    "air-quality-stations": 5,
    "events": 40,
}

#: Layers every municipality (every leaf area) has at least one of, whatever its size.
EVERY_LEAF: frozenset[str] = frozenset({"aed", "evacuation-sites", "medical"})

assert len(COLUMNS["toilets"]) == 39
