"""The public pages' test data: the web samples plus Groningen-Drenthe's calendar (a
weekly series with a skipped week, and a cancelled event)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config import bundled
from tests.conftest import Seed, write_sources
from tests.web.conftest import samples_seed

KEY = "webpub-samples"
GRONINGEN = "onderwijsregio-groningen-drenthe.ics"


@pytest.fixture(scope="session")
def public_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sources file: Utrecht-Amersfoort, Twente and Groningen-Drenthe."""
    from tests.web.conftest import sample_config

    folder = tmp_path_factory.mktemp("public-sources")
    sample_config(folder, bundled("samples/nl-sample"))
    shutil.copy(bundled("samples/nl-sample") / "ics" / GRONINGEN, folder / "gd.ics")
    import yaml

    entries = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
    entries.append(
        {
            "id": "gd",
            "name": "Onderwijsregio Groningen-Drenthe",
            "kind": "ics",
            "url": "gd.ics",
            "region": "groningen-drenthe",
        }
    )
    return write_sources(folder / "sources.yaml", entries)


def public_seed(sources: Path) -> Seed:
    """The seed of the ``webpub-samples`` template (a harvest of these sources)."""
    return samples_seed(sources)
