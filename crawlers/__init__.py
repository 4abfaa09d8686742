"""Harvesting: fetch bytes and turn them into raw records (no database, no clock)."""
