"""Settings read once from the environment (the only module that reads os.environ)."""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import request_limits as limits
from data_sources.http import DEFAULT_USER_AGENT, MAX_DOWNLOAD_BYTES
from registry import ConfigError

ROOT = Path(__file__).resolve().parent
_PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?$")
_RATE = re.compile(r"^\s*\d+\s*(/|per)\s*\d*\s*(second|minute|hour|day)s?\s*$")
HSTS_YEAR = 31536000
_FRAME_SOURCE = re.compile(r"^('self'|'none'|\*|https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?)$")

#: Default GSI tile templates (地理院タイル). `{style}` picks pale / std / seamlessphoto.
GSI_TILE_URL = "https://cyberjapandata.gsi.go.jp/xyz/{style}/{z}/{x}/{y}.{ext}"


@dataclass(frozen=True)
class Settings:
    """Everything the app takes from its environment. Documented in the README."""

    config_path: Path = ROOT / "config" / "osaka.toml"
    prefecture: str | None = None  # MIERUKA_PREFECTURE: serve this prefecture (code or name) instead of config_path
    port: int = 8050
    host: str = "127.0.0.1"
    debug: bool = False
    tile_url: str | None = None  # MIERUKA_TILE_URL: overrides the GSI tile template
    sample_as_of: dt.date | None = None  # MIERUKA_SAMPLE_AS_OF: pin the sample data's date
    sample_seed: int = 20261125
    cache_dir: Path = ROOT / ".cache"
    boundaries: str | None = None  # MIERUKA_BOUNDARIES: GeoJSON / N03 zip, path or URL
    redis_url: str | None = None  # MIERUKA_REDIS_URL: shared store in Redis (files are the fallback)
    max_download_mb: int = MAX_DOWNLOAD_BYTES // (1024 * 1024)  # MIERUKA_MAX_DOWNLOAD_MB: a live source's file or page larger than this is refused
    frame_ancestors: str = "'self'"  # MIERUKA_FRAME_ANCESTORS: origins that may show the pages in an iframe
    max_body_kb: int = limits.BODY_KB  # MIERUKA_MAX_BODY_KB: a larger request body is refused (413)
    public_url: str | None = None  # MIERUKA_PUBLIC_URL: the site's address, for links in pages' meta tags
    hsts_max_age: int = 0  # MIERUKA_HSTS: Strict-Transport-Security max-age in seconds (0: not sent)
    rate_limit: str | None = None  # MIERUKA_RATE_LIMIT: requests per client, e.g. "300/minute" (None: no limit)
    map_tiled_over: int = 20_000  # MIERUKA_MAP_TILED_OVER: a layer with more places reaches the map by chunks and summaries (services/map_index.py)
    proxies: int = 0  # MIERUKA_PROXIES: reverse proxies in front (deploy/nginx.conf is one) whose X-Forwarded-For is believed
    admin_token: str | None = field(default=None, repr=False)  # MIERUKA_ADMIN_TOKEN: staff's password for /admin/reports (None: no such page)
    api_keys: dict = field(default_factory=dict)  # variables named *_API_KEY, for sources' api_key_env
    user_agent: str = DEFAULT_USER_AGENT

    def deployment(self):
        """The deployment to serve: MIERUKA_PREFECTURE's, else MIERUKA_CONFIG's (ConfigError if unusable)."""
        from registry import load_deployment, prefecture_deployment

        return prefecture_deployment(self.prefecture) if self.prefecture else load_deployment(self.config_path)

    def sample_date(self, timezone: str) -> dt.date:
        """The date sample data is generated for: pinned, or today in the deployment's zone."""
        if self.sample_as_of:
            return self.sample_as_of
        return dt.datetime.now(ZoneInfo(timezone)).date()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """ConfigError (one line naming the variable) for a value that cannot be used."""
        env = os.environ if environ is None else environ

        def whole(name: str, default: int, minimum: int) -> int:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                value = int(raw.strip())
            except ValueError:
                raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
            if value < minimum:
                raise ConfigError(f"{name}: {value} is below the minimum of {minimum}")
            return value

        as_of = env.get("MIERUKA_SAMPLE_AS_OF")
        try:
            sample_as_of = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise ConfigError(f"MIERUKA_SAMPLE_AS_OF: {as_of!r} is not a date YYYY-MM-DD") from None
        frame_ancestors = " ".join(env.get("MIERUKA_FRAME_ANCESTORS", cls.frame_ancestors).split()) or "'none'"
        for source in frame_ancestors.split():
            if not _FRAME_SOURCE.match(source):
                raise ConfigError(f"MIERUKA_FRAME_ANCESTORS: {source!r} is not an origin "
                                  "(https://www.example.jp), 'self', 'none' or *")
        prefecture = (env.get("MIERUKA_PREFECTURE") or "").strip() or None
        if prefecture and (env.get("MIERUKA_CONFIG") or "").strip():
            raise ConfigError("MIERUKA_PREFECTURE and MIERUKA_CONFIG are both set: a deployment comes from one of them")
        public_url = (env.get("MIERUKA_PUBLIC_URL") or "").strip().rstrip("/") or None
        if public_url and not _PUBLIC_URL.match(public_url):
            raise ConfigError(f"MIERUKA_PUBLIC_URL: {public_url!r} is not an http(s) address (https://mieruka.example.jp)")
        hsts = (env.get("MIERUKA_HSTS") or "").strip().lower()
        if hsts in ("", "0", "off", "no", "false"):
            hsts_max_age = 0
        elif hsts in ("1", "on", "yes", "true"):
            hsts_max_age = HSTS_YEAR
        elif hsts.isdigit():
            hsts_max_age = int(hsts)
        else:
            raise ConfigError(f"MIERUKA_HSTS: {hsts!r} is not on, off or a max-age in seconds")
        rate_limit = (env.get("MIERUKA_RATE_LIMIT") or "").strip() or None
        if rate_limit and not all(_RATE.match(part) for part in rate_limit.split(";")):
            raise ConfigError(f"MIERUKA_RATE_LIMIT: {rate_limit!r} is not a rate like 300/minute (or 10/second;300/minute)")
        admin_token = (env.get("MIERUKA_ADMIN_TOKEN") or "").strip() or None
        if admin_token and len(admin_token) < 16:
            raise ConfigError("MIERUKA_ADMIN_TOKEN: at least 16 characters (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe())'`)")
        return cls(
            admin_token=admin_token,
            prefecture=prefecture,
            max_body_kb=whole("MIERUKA_MAX_BODY_KB", cls.max_body_kb, 1),
            public_url=public_url,
            hsts_max_age=hsts_max_age,
            rate_limit=rate_limit,
            proxies=whole("MIERUKA_PROXIES", cls.proxies, 0),
            map_tiled_over=whole("MIERUKA_MAP_TILED_OVER", cls.map_tiled_over, 0),
            frame_ancestors=frame_ancestors,
            config_path=Path(env.get("MIERUKA_CONFIG", cls.config_path)),
            port=whole("PORT", cls.port, 1),
            host=env.get("HOST", cls.host),
            debug=env.get("MIERUKA_DEBUG", "") in {"1", "true", "yes"},
            tile_url=env.get("MIERUKA_TILE_URL") or None,
            sample_as_of=sample_as_of,
            sample_seed=whole("MIERUKA_SAMPLE_SEED", cls.sample_seed, 0),
            cache_dir=Path(env.get("MIERUKA_CACHE_DIR", cls.cache_dir)),
            boundaries=env.get("MIERUKA_BOUNDARIES") or None,
            redis_url=env.get("MIERUKA_REDIS_URL") or None,
            max_download_mb=whole("MIERUKA_MAX_DOWNLOAD_MB", cls.max_download_mb, 1),
            api_keys={k: v for k, v in env.items() if k.endswith("_API_KEY") and v},
        )
