"""Independent checks of everything the service publishes (calendars, feeds, JSON-LD)."""
