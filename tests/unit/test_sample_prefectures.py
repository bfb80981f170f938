"""The sample generator for any prefecture: Osaka's output pinned, every other prefecture's
own municipalities, names and volumes (sample_data)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from sample_data import DATASETS, INDICATORS, generate_all, generate_indicator
from services.areas import AreaTable

ROOT = Path(__file__).resolve().parents[2]
AREAS = ROOT / "data" / "real" / "areas"
AS_OF = dt.date(2026, 11, 25)

#: sha256 of each Osaka dataset / indicator as the generator made them before it was made
#: prefecture-neutral (commit 98450f3): the Osaka deployment, its tests and benchmarks
#: are tuned to exactly these rows.
OSAKA_DIGESTS = {
    "20261125:baby-stations": "c27dfa02dc266454441a3cb7d631a028b71450d02bc864262aa2f311f9495fa7",
    "20261125:nursery-vacancies": "c5a0fe4fc81ac7143e858ba8700b8a638e72260d3445d79c7cd3d851cbad44c6",
    "20261125:toilets": "023208f2852d9d5ba4ab8891512d3acd7e334d92f5a46f84c75b58d2b968ed36",
    "20261125:aed": "5b23f70d5c1063e1cc260ad168d3707055713861670158cd509f78c56c5c774c",
    "20261125:evacuation-sites": "3ae15335b2dd77bb12785676e598461dd9c1895791530f9c40a589911ecd59b2",
    "20261125:wifi": "c27608cf2e2b2df6e239c7ee50cdcdc5dd85ef89781b821b5a01d60f948ade2a",
    "20261125:medical": "dd2487fbd757120c5b910c797e1ffd1578a354616563ba6abbdc80b9d8444129",
    "20261125:air-quality-stations": "19131f6e6089538c52ece71573270f80d13ce2829c1e7580fb5378d80d746e10",
    "20261125:air-quality-readings": "59dbf30984456ecaabf80a6c07b03d865003029cb87e17e0f83565bed7d0927d",
    "20261125:events": "50fa2c2b27a21ea8f9ab643132b0aeeba4266c7774be31338b05e111cee6ae1d",
    "7:baby-stations": "d0e372b75a80312370cd34bac2276e84e06c21407c1171f09fb47fc971223df6",
    "7:nursery-vacancies": "aaa60886407d847819ac1995c0369dad9b889fef14d718150ba523293542abfd",
    "7:toilets": "47268f048206cffc1135637fed593177d9bdff093525266fdc258fc8b444c2ac",
    "7:aed": "cbea1a5575a4671f1ceb0be4d65d520237aba367dc62de339fbde6fc55326906",
    "7:evacuation-sites": "b598e924defecd921ee4df71ab3155e51a3a33116e1d4d8cf803ae9330d64334",
    "7:wifi": "7636de6357dc6faaefd4d091b1bcee1b98aeaf6a835f8b2e44c1df704cce4bf5",
    "7:medical": "28af95e355e114d421d9f7190d75a555d04d1737e3ea309a136b3f5c38b51252",
    "7:air-quality-stations": "9daa042cfd04e7c8202427fe6611d4d66df591a9c7002ada144fdfdb617289c4",
    "7:air-quality-readings": "c8e78976a969ab50cc0f5325e88fb74fe2a517d4a6436e50e46ded40d7157beb",
    "7:events": "682029051333d16ffc12ed9931dde8921f7ded38cc39315d7910761a49e27fd9",
    "ind:population": "0a67a2ac0932eacd3ba9d160de392dac5ebdf91a43158e6222117061efd0fcab",
    "ind:health": "64b4650c78c7401894a4b0db2fee3f2258fa0b3d0488314c69157a1930447eca",
    "ind:crime": "63e4125d081c0746a107254b778b22da3a96d6bbfa148b795bdf3d0e08c9ba5b",
    "ind:economy": "f5b8d808a2f9c949fbba59565e9fcd861b2943f69e54ec22a2993c2dedb95b16",
    "ind:childcare": "c6b7c674c04585f69d5579603034686706fbb8f74c5a9247f9027049ad3b4f56",
    "ind:tourism": "4cd06be1ced4ead94b21201e5d25b094a3efce90f65e14b7c866d625e1d3c5e1",
    "ind:traffic": "12a4ee58947c07e4b71cd8077db14e2ecb404f01ff3d31d3aa4dcd6205963f5f",
    "ind:air": "ad6b234a67e5d2073f3dee993d13ebc7b485948d3dec41a747e2a16ffd5dd2c8",
    "ind:emergency": "ed6f4fb213fed2197cf61f0234a6449e8ec237a0a249a2a9916fb7b64e509021",
}


def _digest(rows) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def osaka() -> AreaTable:
    return AreaTable.from_csv(AREAS / "27.csv")


@pytest.mark.parametrize("seed", [20261125, 7])
def test_osaka_datasets_are_unchanged(osaka, seed) -> None:
    tables = generate_all(osaka, AS_OF, seed)
    changed = [name for name in DATASETS if _digest(tables[name]) != OSAKA_DIGESTS[f"{seed}:{name}"]]
    assert changed == []


def test_osaka_indicators_are_unchanged(osaka) -> None:
    changed = [ind for ind in INDICATORS if _digest(generate_indicator(ind, osaka, AS_OF)) != OSAKA_DIGESTS[f"ind:{ind}"]]
    assert changed == []
