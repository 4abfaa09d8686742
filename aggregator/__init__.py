"""The pipeline: config, models, normalise, classify, geocode, dedup, store, harvest, schedule."""
