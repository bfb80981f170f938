"""The app's per-process context: settings, deployment, areas and services, reached from
callbacks and routes through Flask's `current_app` (never a module global)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app

from registry import Deployment
from services.areas import AreaTable
from services.boundaries import BoundaryError, bundled_boundaries_path, load_municipal_boundaries
from services.indicators import IndicatorService
from services.layers import LayerService
from services.reports import ReportBook
from settings import GSI_TILE_URL, Settings

log = logging.getLogger(__name__)
GSI_STYLES = {"pale": ("pale", "png"), "std": ("std", "png"), "photo": ("seamlessphoto", "jpg")}
GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank" rel="noopener">地理院タイル</a>'


@dataclass(frozen=True)
class Context:
    settings: Settings
    deployment: Deployment
    areas: AreaTable
    layers: LayerService
    indicators: IndicatorService
    reports: ReportBook | None = None  # residents' reports of mistakes (None where a test builds no app)

    def boundaries(self) -> dict | None:
        """Municipal boundaries for the choropleth: MIERUKA_BOUNDARIES when set, else the
        bundled ones of the deployment's prefecture; None (a tile grid) when neither exists."""
        source = self.settings.boundaries
        if not source:
            bundled = bundled_boundaries_path(self.deployment.prefecture["code"])
            source = str(bundled) if bundled else None
        if not source:
            return None
        return _boundaries(source, self.settings.cache_dir, self.areas)

    def boundaries_date(self) -> str | None:
        """The reference date of the bundled boundaries when the choropleth draws them (their
        credit line, ind.map_credit, names it); None for a MIERUKA_BOUNDARIES source, whose
        provenance the app does not know."""
        if self.settings.boundaries:
            return None
        bundled = bundled_boundaries_path(self.deployment.prefecture["code"])
        return _bundled_date(bundled.parent / "meta.json") if bundled else None

    def tile_urls(self) -> dict[str, str]:
        template = self.settings.tile_url or GSI_TILE_URL
        return {key: template.replace("{style}", style).replace("{ext}", ext)
                for key, (style, ext) in GSI_STYLES.items()}


@lru_cache(maxsize=4)
def _boundaries(source: str, cache_dir: Path, areas: AreaTable) -> dict | None:
    try:
        return load_municipal_boundaries(source, areas, cache_dir)
    except BoundaryError as exc:
        log.error("%s — drawing tile-grid maps instead", exc)
        return None


@lru_cache(maxsize=2)
def _bundled_date(meta: Path) -> str | None:
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("data_date")
    except (OSError, ValueError):
        return None


def build_context(settings: Settings) -> Context:
    """The deployment, its areas and its services, as the app and the refresh worker both
    use them (one store: the layers' and the indicators' are the same). Raises ConfigError."""
    from registry import ConfigError

    deployment = settings.deployment()
    try:
        areas = AreaTable.from_csv(deployment.area_table)
    except ValueError as exc:
        raise ConfigError(f"{deployment.path}: deployment.area_table: {exc}") from None
    layers = LayerService(deployment, areas, settings)
    indicators = IndicatorService(deployment, areas, settings, store=layers.store)
    reports = ReportBook(settings.redis_url, settings.cache_dir)
    return Context(settings, deployment, areas, layers, indicators, reports)


def context() -> Context:
    return current_app.extensions["mieruka"]
