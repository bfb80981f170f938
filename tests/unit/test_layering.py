"""One direction of data flow (issue 9): services call data_sources, never the other way
round. data_sources may use the area table (services/areas.py, a domain model) and nothing
else of services/ — the point-in-area locator, for one, is handed in by the caller."""
from __future__ import annotations

import ast
from pathlib import Path

DATA_SOURCES = Path(__file__).resolve().parents[2] / "data_sources"
ALLOWED = {"services.areas"}


def _service_imports(path: Path) -> set[str]:
    """The modules of services/ that a file imports (`from services import x` → services.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "services":
            names = [f"services.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n for n in names if n == "services" or n.startswith("services.")}
    return found


def test_data_sources_import_nothing_of_services_but_the_area_table() -> None:
    modules = sorted(DATA_SOURCES.glob("*.py"))
    assert "pipeline.py" in {p.name for p in modules}
    wrong = {p.name: sorted(_service_imports(p) - ALLOWED) for p in modules}
    assert {name: names for name, names in wrong.items() if names} == {}
