"""Optional online geocoder for places the offline gazetteer cannot find (off by default).

``GEOCODER_PROVIDER=pdok`` asks the PDOK Locatieserver (Dutch government, no key), and
``nominatim`` asks OpenStreetMap Nominatim through geopy. Every answer, "not found"
included, is remembered in a :class:`GeocodeMemo` and stored in the ``geocodecache`` table,
so a query is asked once; requests are spaced by ``GEOCODER_MIN_DELAY`` seconds
(Nominatim's policy is one a second). Network errors are not cached: the next harvest asks
again.

The geocoder itself never touches the database (it runs inside the geocode stage): the
harvest loads the memo before the pipeline and saves its new answers after it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

import httpx
from sqlmodel import Session, select

from aggregator.gazetteer import Gazetteer, load_gazetteer
from aggregator.geocode import GeoHit
from aggregator.models import GeocodeCache

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


def query_key(query: str) -> str:
    """The cache key of a location text: whitespace folded, case folded, at most 300 chars."""
    return " ".join(query.split()).casefold()[:300]


class GeocodeMemo:
    """One provider's answers in memory; the caller loads and saves them (a StageCache).

    ``None`` is a remembered "not found". Thread safe: ``agenda run`` harvests sources
    in parallel threads that share one geocoder.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._answers: dict[str, _Answer | None] = {}
        self._fresh: dict[str, _Answer | None] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, _Answer | None]:
        """(known, answer) for a query key."""
        with self._lock:
            if key in self._answers:
                return True, self._answers[key]
        return False, None

    def put(self, key: str, answer: _Answer | None) -> None:
        """Remember a new answer (saved by the next ``save``)."""
        with self._lock:
            self._answers[key] = answer
            self._fresh[key] = answer

    def load(self, *, session: Session) -> None:
        """Read the provider's stored answers, the first time only."""
        if self._loaded:
            return
        rows = session.exec(select(GeocodeCache).where(GeocodeCache.provider == self.provider))
        stored = {
            row.query: (
                _Answer(row.lat, row.lon, row.postcode, row.city, row.municipality_code)
                if row.found and row.lat is not None and row.lon is not None
                else None
            )
            for row in rows
        }
        with self._lock:
            for key, answer in stored.items():
                self._answers.setdefault(key, answer)
            self._loaded = True

    def save(self, *, session: Session) -> None:
        """Write the answers learnt since the last save into ``geocodecache``."""
        with self._lock:
            fresh, self._fresh = self._fresh, {}
        for key, answer in fresh.items():
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


class OnlineGeocoder:
    """A remembering, rate-limited online geocoder: call it with a location text."""

    def __init__(
        self,
        *,
        provider: str,
        url: str | None = None,
        timeout: float = 10.0,
        min_delay: float = 1.0,
        user_agent: str = "overstap-agenda",
        gazetteer: Gazetteer | None = None,
    ) -> None:
        if provider not in {"pdok", "nominatim"}:
            raise ValueError(f"unknown geocoder provider {provider!r}; use pdok or nominatim")
        self.memo = GeocodeMemo(provider)
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
        key = query_key(query)
        if not key:
            return None
        known, answer = self.memo.get(key)
        if known:
            return self._hit(answer, f"{self.provider} (cached)")
        try:
            answer = self._ask(query)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("geocoder %s failed for %r: %s", self.provider, query, exc)
            return None
        if answer is not None and answer.municipality_code is None:
            area = self.gazetteer.nearest_postcode(answer.lat, answer.lon, max_km=5.0)
            answer.municipality_code = area.gemeente_code if area else None
        self.memo.put(key, answer)
        return self._hit(answer, self.provider)

    @staticmethod
    def _hit(answer: _Answer | None, how: str) -> GeoHit | None:
        if answer is None or answer.municipality_code is None:
            return None
        return GeoHit(
            answer.municipality_code,
            answer.lat,
            answer.lon,
            answer.city,
            answer.postcode,
            how,
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
