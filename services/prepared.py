"""Response bodies prepared once: the bytes of a layer's GeoJSON, a listing, an indicator's
JSON or CSV, serialised and compressed in every encoding the API offers (brotli, gzip, none)
when the data they show changes, never per request. api.send_body serves them.

- `Body.of(raw)`: the three encodings of `raw` and its ETag (a hash of `raw`; the ETag of
  each encoding is that hash with the encoding's suffix, see `Body.tag`).
- `negotiate(accept_encoding)`: which of them a request's Accept-Encoding asks for.
- `Prepared`: a small bounded LRU of bodies keyed by what they are made of (a snapshot's
  version and a normalised query), for answers that are not part of a snapshot.
- `PREPARED`: how many bodies this process has made (tests read it to see that a warm
  request made none).
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import brotli

ENCODINGS = ("br", "gzip", "identity")  # in order of preference when a client accepts several equally
#: Brotli's best quality costs seconds per megabyte (4.3 s for the evacuation sites' 2.4 MB):
#: small bodies get it, larger ones a quality that is as fast as gzip and still smaller.
BROTLI_BEST_UNDER = 64 * 1024
BROTLI_FAST_QUALITY = 5


class _Count:
    """A thread-safe count (of bodies made)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


PREPARED = _Count()


def json_bytes(value: Any) -> bytes:
    """`value` as the API writes JSON: compact, UTF-8, characters as themselves."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Body:
    """One pre-serialised body: raw, gzipped and brotli-compressed, with its ETag (a hash of raw)."""

    raw: bytes
    gzip: bytes
    etag: str
    br: bytes = b""

    @classmethod
    def of(cls, raw: bytes) -> "Body":
        PREPARED.add()
        quality = 11 if len(raw) < BROTLI_BEST_UNDER else BROTLI_FAST_QUALITY
        return cls(raw, gzip.compress(raw, compresslevel=6, mtime=0), hashlib.sha256(raw).hexdigest()[:20],
                   brotli.compress(raw, quality=quality))

    @classmethod
    def of_json(cls, value: Any) -> "Body":
        """`value` as compact UTF-8 JSON (no spaces, characters as themselves), prepared."""
        return cls.of(json_bytes(value))

    def encoded(self, encoding: str) -> bytes:
        """The bytes for `encoding` ("br", "gzip" or "identity")."""
        return self.br if encoding == "br" else self.gzip if encoding == "gzip" else self.raw

    def tag(self, encoding: str) -> str:
        """The strong ETag (quoted) of the body in `encoding`: one per encoding, as the bytes differ."""
        return f'"{self.etag}"' if encoding == "identity" else f'"{self.etag}-{"br" if encoding == "br" else "gz"}"'

    @property
    def size(self) -> int:
        return len(self.raw) + len(self.gzip) + len(self.br)


@functools.lru_cache(maxsize=256)
def negotiate(accept_encoding: str | None) -> str:
    """"br", "gzip" or "identity" for an Accept-Encoding header (RFC 9110 §12.5.3): the coding
    with the highest q-value, br before gzip before identity on a tie; `*` stands for the codings
    not named; q=0 refuses; identity, when not named, is acceptable but comes after any coding
    that is. No header: identity. When everything is refused, identity (the one
    answer every client can read, rather than a 406)."""
    if not accept_encoding:
        return "identity"
    named: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip()
        coding = "gzip" if coding == "x-gzip" else coding
        if not coding:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0  # a q-value that cannot be read accepts nothing
        named[coding] = quality
    star = named.get("*")

    def quality_of(coding: str) -> float:
        if coding in named:
            return named[coding]
        if star is not None:
            return star
        return 0.001 if coding == "identity" else 0.0  # not named: acceptable, but after any coding named

    best = max(ENCODINGS, key=lambda c: (quality_of(c), -ENCODINGS.index(c)))
    return best if quality_of(best) > 0 else "identity"


class Prepared:
    """A bounded LRU of Bodies: at most `entries` of them and `budget` bytes (all encodings
    counted). `get(key, build)` returns the body for `key`, made by `build()` on a miss; the key
    says everything the body depends on (a snapshot's version, a normalised query), so that
    entries are never invalidated, only pushed out."""

    def __init__(self, entries: int = 64, budget: int = 64 * 1024 * 1024):
        self.entries = entries
        self.budget = budget
        self._lock = threading.Lock()
        self._bodies: OrderedDict[Hashable, Body] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, build: Callable[[], Body]) -> Body:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
                return body
        body = build()  # outside the lock: a slow build holds up no other answer
        with self._lock:
            if key in self._bodies:
                return self._bodies[key]
            self._bodies[key] = body
            self._bytes += body.size
            while len(self._bodies) > 1 and (len(self._bodies) > self.entries or self._bytes > self.budget):
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= dropped.size
        return body

    def __len__(self) -> int:
        return len(self._bodies)
