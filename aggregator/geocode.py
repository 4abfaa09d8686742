"""Geocode stage: place the event in a municipality and a region."""

from __future__ import annotations

from aggregator.config import Regions, SourceConfig
from aggregator.draft import EventDraft


class GeocodeStage:
    """Assign the region: from the municipality when known, else the source's region."""

    def __init__(self, regions: Regions) -> None:
        self.regions = regions

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Set ``draft.region`` and return the draft."""
        if draft.municipality_code and draft.municipality_code in self.regions.home_of:
            draft.region = self.regions.home_of[draft.municipality_code]
        else:
            draft.region = source.region
        return draft
