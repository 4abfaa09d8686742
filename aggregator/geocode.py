"""Geocode stage: place the event in a postcode area, a municipality and a region (offline).

What counts as a location, strongest first (an address before any loose word):

1. a postcode (PC6 anywhere in the location fields, PC4 when a place name follows it or
   it stands alone);
2. an address line in the location fields: "street number[,] [postcode] city"
   ("Kapittelweg 33, 6525 EN Nijmegen", "Laan van Meerdervoort 55, Den Haag");
3. the record's own city field;
4. the parts of the LOCATION / address text, last part first ("Brink 9, 9401 HS Assen"):
   a part that is a place name, "in <Place>", or a capitalised place word in it that is
   not a common word ("Praktijkschool Houten", but not "De Bonte Hoek");
5. for events that are not online only, an address in the description: a PC6 followed
   by a known place, else an address line as in 2 (a "Postbus" line is the organiser's
   mail address and never counts);
6. only when no address exists, words in running text: "in <Place>" or "(<Place>)" in
   the title, or a place name closing it ("Meeloopdag speciaal onderwijs in Bennekom");
   then a "Waar: ..." line or "in <Place>" in the description;
7. the record's own coordinates, snapped to the nearest PC4 centre within 3 km;
8. an optional online geocoder (off by default; see ``aggregator.geocoder_online``).

Ambiguous names are ranked by the source's region first, then feature code and population.
The region is the home region of the municipality, else ``landelijk`` for an online event
of a national source, else the source's region.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from aggregator.config import Regions
from aggregator.draft import EventDraft
from aggregator.gazetteer import Gazetteer, Place, PostcodeArea, fold, load_gazetteer
from crawlers.source import SourceConfig

NATIONAL_REGION = "landelijk"
# "in Bennekom", "in Den Bosch", "in 's-Hertogenbosch": up to three capitalised words
_IN_PLACE = re.compile(
    r"\b(?:in|te|bij|locatie|location)\s+"
    r"((?:'s[- ])?[A-ZÀ-Ý][\w'’À-ÿ-]*(?:\s+[A-ZÀ-Ý][\w'’À-ÿ-]*){0,2})"
)
_WHERE = re.compile(
    r"^\W*(?:waar|locatie|plaats|adres|where|location|venue)\s*:\s*(.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_PAREN = re.compile(r"\(([^()]{2,40})\)")
_WORD = re.compile(r"(?:'s[- ])?[A-ZÀ-Ý][\w'’À-ÿ.-]*")
_SPLIT_PARTS = re.compile(r"[,;|\n]+|\s[–—-]\s")
_COUNTRY = re.compile(r"\b(nederland|netherlands|the netherlands|nl)\b\.?$", re.IGNORECASE)
# "Laan van Meerdervoort 55a, 2517 AB Den Haag": a street of one to five words (the first
# capitalised), a house number with an optional letter or range, an optional PC6, a place.
_ADDRESS = re.compile(
    r"(?<![\w'’])(?P<street>(?:'[st]\s)?[A-ZÀ-Ý][\w'’.-]*(?:[ \t]+[\w'’.-]+){0,4}?)"
    r"[ \t]+(?P<number>[1-9]\d{0,4}(?:[A-Za-z]{1,3}\b|[ \t]?[-/][ \t]?[A-Za-z0-9]{1,4}\b"
    r"|[ \t][A-Z]\b)?)"
    r"[ \t]*(?P<sep>,|\n|[ \t])[ \t\n]*"
    r"(?:(?P<pc4>[1-9]\d{3})[ \t\u00a0]?(?P<letters>[A-Z]{2})\b[ \t]*,?[ \t]*)?"
    r"(?P<city>(?:'s[- ]|’s[- ])?[A-ZÀ-Ý][\w'’À-ÿ-]*)"
)
# a house number after a space: where an address line can end its street
_NUMBER = re.compile(r"(?<=[ \t])[1-9]\d{0,4}(?!\d)")
_STREET_SPAN, _CITY_SPAN = 120, 80  # characters before and after a number an address spans
# at most this many candidates (words, "in <Place>", numbers) of one text are tried: a
# place is named early, and a huge text must not cost a lookup per word
MAX_CANDIDATES = 200
_PO_BOX = re.compile(r"^(?:postbus|antwoordnummer|p\.?\s?o\.?\s?box)$", re.IGNORECASE)
_ARTICLES = frozenset({"De", "Het", "Den", "'t", "’t", "Ter", "Te"})
# a place found by scanning words must be a real town (not a hamlet that shares a word)
_MIN_SCAN_POPULATION = 1000

OnlineGeocoder = Callable[[str], "GeoHit | None"]


@dataclass(frozen=True, slots=True)
class GeoHit:
    """Where an event takes place, as far as the text tells."""

    municipality_code: str
    lat: float
    lon: float
    city: str | None = None
    postcode: str | None = None
    how: str = ""


class Locator:
    """Find the place of an event in its text fields, with the gazetteer only."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gaz = gazetteer

    def _place_hit(self, place: Place, how: str) -> GeoHit:
        city = self.gaz.local_name(place)
        return GeoHit(place.gemeente_code, place.lat, place.lon, city=city, how=how)

    def _scan_words(self, text: str, prefer: frozenset[str]) -> Place | None:
        """The best capitalised place word (or 2-3 word name) in a text, not a common word."""
        words = [m.group(0) for m in islice(_WORD.finditer(text), MAX_CANDIDATES)]
        best: Place | None = None
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                name = " ".join(words[i : i + size]).rstrip(".")
                if size == 1 and (
                    fold(name) in self.gaz.not_places or (i > 0 and words[i - 1] in _ARTICLES)
                ):
                    continue  # a common word, or part of a venue name ("De Horst")
                place = self.gaz.lookup(name, prefer=prefer, alternates=False)
                if place is None:
                    continue
                big_enough = (
                    place.population >= _MIN_SCAN_POPULATION
                    or place.feature in {"ADM2", "PPLA", "PPLA2", "PPLC"}
                    or place.gemeente_code in prefer
                )
                if big_enough and (best is None or place.rank(prefer) > best.rank(prefer)):
                    best = place
            if best is not None:
                return best
        return None

    def _in_pattern(self, text: str, prefer: frozenset[str]) -> Place | None:
        for match in islice(_IN_PLACE.finditer(text), MAX_CANDIDATES):
            words = match.group(1).split()
            for size in range(len(words), 0, -1):
                if size == 1 and fold(words[0]) in self.gaz.not_places:
                    continue
                place = self.gaz.lookup(" ".join(words[:size]), prefer=prefer)
                if place is not None:
                    return place
        return None

    def _place_after(self, text: str, gemeente: str | None = None) -> Place | None:
        """The place named at the start of a text ("Den Haag, ...", "Bergen op Zoom")."""
        words = text.strip(" ,\t\n").split()
        for size in (4, 3, 2, 1):
            if len(words) < size:
                continue
            name = " ".join(words[:size]).rstrip(".,;:)")
            if size == 1 and fold(name) in self.gaz.not_places and gemeente is None:
                continue
            prefer = frozenset({gemeente}) if gemeente else frozenset()
            place = self.gaz.lookup(name, prefer=prefer)
            if place is not None and (gemeente is None or place.gemeente_code == gemeente):
                return place
        return None

    @staticmethod
    def _address_matches(text: str) -> Iterator[re.Match[str]]:
        """Address-shaped matches around the first house numbers of a text, in order.

        Only a window around each of the first ``MAX_CANDIDATES`` numbers is searched, so a
        long text without numbers costs one scan and a text of numbers a bounded amount."""
        seen = -1
        for number in islice(_NUMBER.finditer(text), MAX_CANDIDATES):
            start = max(seen + 1, number.start() - _STREET_SPAN)
            window = text[start : number.end() + _CITY_SPAN]
            for match in _ADDRESS.finditer(window):
                seen = start + match.start()
                yield match

    def address(self, text: str) -> GeoHit | None:
        """The place of the first "street number[,] [postcode] city" line of a text."""
        for match in self._address_matches(text):
            street = match.group("street").split()
            if _PO_BOX.match(street[0]) or not any(ch.isalpha() for ch in street[-1]):
                continue
            if not match.group("pc4") and match.group("sep") not in (",", "\n"):
                continue  # "Open dag 2027 Utrecht" is no address; "Spui 70, Den Haag" is
            tail = text[match.start("city") :]
            if match.group("pc4"):
                area = self.gaz.postcodes.get(match.group("pc4"))
                if area is not None:
                    postcode = f"{match.group('pc4')} {match.group('letters')}"
                    return self._from_area(postcode, area, tail)
            place = self._place_after(tail)
            if place is not None:
                return self._place_hit(place, "address")
        return None

    def _postcode(self, fields: list[str], description: str) -> GeoHit | None:
        for text in fields:
            whole = text.strip()
            for hit in self.gaz.find_postcodes(text, allow_pc4=True):
                after = text[hit.end :].strip(" ,")
                follower = _WORD.match(after)
                is_pc6 = " " in hit.postcode
                named = follower is not None and self.gaz.is_known(follower.group(0))
                if is_pc6 or named or whole == hit.postcode:
                    return self._from_area(hit.postcode, hit.area, after)
        for hit in islice(self.gaz.find_postcodes(description), MAX_CANDIDATES):
            line_start = description.rfind("\n", 0, hit.end) + 1
            if _PO_BOX.search(description[line_start : hit.end].split(" ")[0] or ""):
                continue  # "Postbus 123, 2500 AA Den Haag": the organiser's mail address
            if self._place_after(description[hit.end :]) is not None:
                return self._from_area(hit.postcode, hit.area, description[hit.end :])
        return None

    def _from_area(self, postcode: str, area: PostcodeArea, after: str) -> GeoHit:
        city = area.place
        place = self._place_after(after, area.gemeente_code)
        if place is not None:
            city = self.gaz.local_name(place)
        return GeoHit(area.gemeente_code, area.lat, area.lon, city, postcode, "postcode")

    def _location_parts(self, text: str, prefer: frozenset[str]) -> Place | None:
        parts = [p.strip() for p in _SPLIT_PARTS.split(text) if p.strip()]
        for part in reversed(parts):
            part = _COUNTRY.sub("", part).strip()
            if not part:
                continue
            bare = _PAREN.sub("", part).strip()
            for candidate in (part, bare):
                place = self.gaz.lookup(candidate, prefer=prefer)
                if place is not None:
                    return place
            place = self._in_pattern(part, prefer) or self._scan_words(bare, prefer)
            if place is not None:
                return place
        return None

    def _title(self, title: str, prefer: frozenset[str]) -> Place | None:
        place = self._in_pattern(title, prefer)
        if place is not None:
            return place
        for match in _PAREN.finditer(title):
            for piece in re.split(r"[,:+/]| en | and ", match.group(1)):
                place = self.gaz.lookup(piece.strip(), prefer=prefer, alternates=False)
                if place is not None:
                    return place
        tail = re.split(r"[:–—(]|\s-\s", title)[-1]
        words = _WORD.findall(tail)
        if words:
            for size in (3, 2, 1):
                if len(words) >= size:
                    name = " ".join(words[-size:])
                    if size == 1 and fold(name) in self.gaz.not_places:
                        continue
                    if title.rstrip(" )").endswith(name):
                        place = self.gaz.lookup(name, prefer=prefer, alternates=False)
                        if place is not None:
                            return place
        return None

    def locate(self, draft: EventDraft, prefer: frozenset[str]) -> GeoHit | None:
        """The best location for a draft, or None when its text names no place."""
        fields = [f for f in (draft.postcode, draft.address, draft.location_name, draft.city) if f]
        physical = draft.attendance != "online"
        hit = self._postcode(fields, "")
        if hit is not None:
            return hit
        for text in (draft.address, draft.location_name):
            hit = self.address(text) if text else None
            if hit is not None:
                return hit
        if draft.city:
            place = self.gaz.lookup(draft.city, prefer=prefer) or self._location_parts(
                draft.city, prefer
            )
            if place is not None:
                return self._place_hit(place, "city")
        for text in (draft.address, draft.location_name):
            if text:
                place = self._location_parts(text, prefer)
                if place is not None:
                    return self._place_hit(place, "location")
        if physical and draft.description:
            hit = self._postcode([], draft.description) or self.address(draft.description)
            if hit is not None:
                return hit
        if physical:
            place = self._title(draft.title, prefer)
            if place is not None:
                return self._place_hit(place, "title")
        if physical and draft.description:
            where = _WHERE.search(draft.description)
            place = (self._location_parts(where.group(1), prefer) if where else None) or (
                self._in_pattern(draft.description, prefer)
            )
            if place is not None:
                return self._place_hit(place, "description")
        if draft.lat is not None and draft.lon is not None:
            area = self.gaz.nearest_postcode(draft.lat, draft.lon)
            if area is not None:
                return GeoHit(area.gemeente_code, draft.lat, draft.lon, area.place, None, "coords")
        return None


class GeocodeStage:
    """Set postcode, city, municipality, coordinates and region of a draft."""

    def __init__(
        self,
        regions: Regions,
        gazetteer: Gazetteer | None = None,
        online: OnlineGeocoder | None = None,
    ) -> None:
        self.regions = regions
        self.gazetteer = gazetteer or load_gazetteer()
        self.locator = Locator(self.gazetteer)
        self.online = online

    def _prefer(self, source: SourceConfig) -> frozenset[str]:
        return self.regions.members(source.region) if source.region in self.regions else frozenset()

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Locate the draft and assign its region; return it."""
        hit = self.locator.locate(draft, self._prefer(source))
        if hit is None and self.online is not None and draft.attendance != "online":
            query = ", ".join(f for f in (draft.address, draft.location_name, draft.city) if f)
            if query:
                hit = self.online(query)
        if hit is not None:
            municipality = self.gazetteer.municipality(hit.municipality_code)
            draft.municipality_code = hit.municipality_code
            draft.municipality = municipality.name if municipality else None
            draft.postcode = hit.postcode or draft.postcode
            draft.city = draft.city or hit.city
            if draft.lat is None or draft.lon is None:
                draft.lat, draft.lon = hit.lat, hit.lon
        if draft.municipality_code and draft.municipality_code in self.regions.home_of:
            draft.region = self.regions.home_of[draft.municipality_code]
        elif draft.attendance == "online" and source.region == NATIONAL_REGION:
            draft.region = NATIONAL_REGION
        else:
            draft.region = source.region
        return draft
