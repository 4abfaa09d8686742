"""Publishing formats: pure renderers from events to bytes (iCal, RSS/Atom/JSON Feed, JSON-LD)."""
