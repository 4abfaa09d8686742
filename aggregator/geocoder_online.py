"""Optional online geocoder for places the offline gazetteer cannot find (off by default).

``GEOCODER_PROVIDER=pdok`` asks the PDOK Locatieserver (Dutch government, no key), and
``nominatim`` asks OpenStreetMap Nominatim through geopy. Every answer, "not found"
included, is cached in the ``geocodecache`` table, so a query is asked once; requests are
spaced by ``GEOCODER_MIN_DELAY`` seconds (Nominatim's policy is one a second). Network
errors are not cached: the next harvest asks again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from aggregator.db import session_scope
from aggregator.gazetteer import Gazetteer, load_gazetteer
from aggregator.geocode import GeoHit
from aggregator.models import GeocodeCache
from agenda.settings import Settings

log = logging.getLogger(__name__)

PDOK_URL = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
NOMINATIM_DOMAIN = "nominatim.openstreetmap.org"
_POINT = re.compile(r"POINT\(\s*([-\d.]+)\s+([-\d.]+)\s*\)")


@dataclass(slots=True)
class _Answer:
    lat: float
    lon: float
    postcode: str | None
    city: str | None
    municipality_code: str | None


class OnlineGeocoder:
    """A cached, rate-limited online geocoder: call it with a location text."""

    def __init__(
        self,
        *,
        engine: Engine,
        provider: str,
        url: str | None = None,
        timeout: float = 10.0,
        min_delay: float = 1.0,
        user_agent: str = "overstap-agenda",
        gazetteer: Gazetteer | None = None,
    ) -> None:
        if provider not in {"pdok", "nominatim"}:
            raise ValueError(f"unknown geocoder provider {provider!r}; use pdok or nominatim")
        self.engine = engine
        self.provider = provider
        self.url = url
        self.timeout = timeout
        self.min_delay = min_delay
        self.user_agent = user_agent
        self.gazetteer = gazetteer or load_gazetteer()
        self._lock = threading.Lock()
        self._last = 0.0

    def __call__(self, query: str) -> GeoHit | None:
        """The place of a location text, from the cache or the provider; None if unknown."""
        key = " ".join(query.split()).casefold()[:300]
        if not key:
            return None
        with session_scope(self.engine) as session:
            cached = session.get(GeocodeCache, (key, self.provider))
            if cached is not None:
                if not cached.found or cached.municipality_code is None:
                    return None
                assert cached.lat is not None and cached.lon is not None
                return GeoHit(
                    cached.municipality_code,
                    cached.lat,
                    cached.lon,
                    cached.city,
                    cached.postcode,
                    f"{self.provider} (cached)",
                )
        try:
            answer = self._ask(query)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("geocoder %s failed for %r: %s", self.provider, query, exc)
            return None
        if answer is not None and answer.municipality_code is None:
            area = self.gazetteer.nearest_postcode(answer.lat, answer.lon, max_km=5.0)
            answer.municipality_code = area.gemeente_code if area else None
        with session_scope(self.engine) as session:
            session.merge(
                GeocodeCache(
                    query=key,
                    provider=self.provider,
                    found=answer is not None,
                    lat=answer.lat if answer else None,
                    lon=answer.lon if answer else None,
                    municipality_code=answer.municipality_code if answer else None,
                    postcode=answer.postcode if answer else None,
                    city=answer.city if answer else None,
                )
            )
        if answer is None or answer.municipality_code is None:
            return None
        return GeoHit(
            answer.municipality_code,
            answer.lat,
            answer.lon,
            answer.city,
            answer.postcode,
            self.provider,
        )

    def _wait_turn(self) -> None:
        with self._lock:
            pause = self._last + self.min_delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last = time.monotonic()

    def _ask(self, query: str) -> _Answer | None:
        self._wait_turn()
        if self.provider == "pdok":
            return self._ask_pdok(query)
        return self._ask_nominatim(query)

    def _ask_pdok(self, query: str) -> _Answer | None:
        response = httpx.get(
            f"{(self.url or PDOK_URL).rstrip('/')}/free",
            params={"q": query, "rows": 1, "fq": "type:(adres OR postcode OR woonplaats)"},
            headers={"User-Agent": self.user_agent},
            timeout=self.timeout,
        )
        response.raise_for_status()
        docs = response.json()["response"]["docs"]
        if not docs:
            return None
        doc = docs[0]
        point = _POINT.search(doc.get("centroide_ll", ""))
        if point is None:
            return None
        code = doc.get("gemeentecode")
        return _Answer(
            lat=float(point.group(2)),
            lon=float(point.group(1)),
            postcode=doc.get("postcode"),
            city=doc.get("woonplaatsnaam"),
            municipality_code=f"GM{code}" if code else None,
        )

    def _ask_nominatim(self, query: str) -> _Answer | None:
        from geopy.exc import GeopyError
        from geopy.geocoders import Nominatim

        domain, scheme = NOMINATIM_DOMAIN, "https"
        if self.url:
            scheme, _, domain = self.url.partition("://")
        geocoder = Nominatim(
            user_agent=self.user_agent, domain=domain, scheme=scheme, timeout=self.timeout
        )
        try:
            location = geocoder.geocode(query, country_codes="nl", addressdetails=True)
        except GeopyError as exc:
            raise ValueError(str(exc)) from exc
        if location is None:
            return None
        address = location.raw.get("address", {})
        postcode = address.get("postcode")
        area = self.gazetteer.postcodes.get(postcode[:4]) if postcode else None
        return _Answer(
            lat=float(location.latitude),
            lon=float(location.longitude),
            postcode=postcode,
            city=address.get("city") or address.get("town") or address.get("village"),
            municipality_code=area.gemeente_code if area else None,
        )


def online_geocoder_from_settings(*, engine: Engine, settings: Settings) -> OnlineGeocoder | None:
    """The configured online geocoder, or None when ``GEOCODER_PROVIDER`` is unset (default)."""
    if not settings.geocoder_provider:
        return None
    return OnlineGeocoder(
        engine=engine,
        provider=settings.geocoder_provider,
        url=settings.geocoder_url,
        timeout=settings.geocoder_timeout,
        min_delay=settings.geocoder_min_delay,
        user_agent=settings.harvest_user_agent,
    )
