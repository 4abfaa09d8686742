"""Bundled configuration: sources, regions, taxonomy, gazetteer and the sample calendars."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """Return the path of a file shipped in the bundled config folder."""
    return CONFIG_DIR / name
