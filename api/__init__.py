"""HTTP API and pages over one query function (read only)."""
