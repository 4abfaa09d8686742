"""Distances on the earth: the one haversine and the one earth radius of the project."""

from __future__ import annotations

import math

# The mean earth radius of IUGG (R1), the usual radius for a spherical earth.
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 111.2


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
