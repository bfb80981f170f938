"""Fetch a live source of the deployment config (file, url, ckan, ngsi-ld, ngsi-v2) with
the app's User-Agent and download limit: the one entry point the pipelines of layers and
indicators share (data_sources/pipeline.py)."""
from __future__ import annotations

from registry import SourceSpec
from settings import Settings

from . import FetchResult, SourceUnavailable, files, snapshots, tabular
from .ckan import fetch_ckan
from .ngsi_ld import fetch_ngsi_ld
from .ngsi_v2 import fetch_ngsi_v2


def fetch_upstream(source: SourceSpec, settings: Settings, prefecture: str = "") -> FetchResult:
    """Rows of a bundled real snapshot (the `prefecture`'s: any code form), a file, URL, CKAN
    catalog or NGSI broker, with timeouts, bounded retries and the download limit
    (MIERUKA_MAX_DOWNLOAD_MB)."""
    http = {"user_agent": settings.user_agent, "max_bytes": settings.max_download_mb * 1024 * 1024}
    if source.kind == "snapshot":
        return snapshots.fetch(source.dataset, prefecture, max_bytes=http["max_bytes"])
    if source.kind == "file":
        return files.fetch(source.paths or (source.path,), fmt=source.format, max_bytes=http["max_bytes"])
    if source.kind == "url":
        return tabular.fetch_urls(source.urls or (source.url,), fmt=source.format, **http)
    if source.kind == "ckan":
        return fetch_ckan(source.url, dataset=source.dataset, query=source.query, organization=source.organization,
                          resource_format=source.resource_format, name_contains=source.name_contains,
                          api_key=settings.api_keys.get(source.api_key_env or ""), **http)
    if source.kind == "ngsi-ld":
        return fetch_ngsi_ld(source.url, source.entity_type, tenant=source.tenant, context=source.context,
                             page_size=source.page_size, **http)
    if source.kind == "ngsi-v2":
        return fetch_ngsi_v2(source.url, source.entity_type, service=source.service,
                             service_path=source.service_path, page_size=source.page_size, **http)
    raise SourceUnavailable(f"source kind {source.kind!r} cannot be fetched")
