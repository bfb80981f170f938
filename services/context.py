"""The app's per-process context: settings, deployment, areas and services, reached from
callbacks and routes through Flask's `current_app` (never a module global)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from registry import Deployment
from services.areas import AreaTable
from services.indicators import IndicatorService
from services.layers import LayerService
from settings import GSI_TILE_URL, Settings

GSI_STYLES = {"pale": ("pale", "png"), "std": ("std", "png"), "photo": ("seamlessphoto", "jpg")}
GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank" rel="noopener">地理院タイル</a>'


@dataclass(frozen=True)
class Context:
    settings: Settings
    deployment: Deployment
    areas: AreaTable
    layers: LayerService
    indicators: IndicatorService

    def tile_urls(self) -> dict[str, str]:
        template = self.settings.tile_url or GSI_TILE_URL
        return {key: template.replace("{style}", style).replace("{ext}", ext)
                for key, (style, ext) in GSI_STYLES.items()}


def context() -> Context:
    return current_app.extensions["mieruka"]
