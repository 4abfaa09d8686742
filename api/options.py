"""What the publisher needs to know from the outside, as one small immutable object.

The publisher never reads global settings: the composition root (``agenda.web``) builds
these options from its settings and hands them to ``api.app.create_app``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """Options of the read-only publisher (JSON API, exports, pages, embed).

    ``base_url`` is the public address for links (None: the address a request came in
    on); ``export_version_max_age`` is how many seconds a store version read stays good
    for a 304 without a database read (0: read it every time); the tile settings are the
    map's tile server and its attribution.
    """

    base_url: str | None
    export_version_max_age: float
    tile_url: str
    tile_attribution: str
    # the licence every open-data record carries (an SPDX id) and where it is written out
    open_data_licence: str = "CC-BY-4.0"
    open_data_licence_url: str = "https://creativecommons.org/licenses/by/4.0/"
