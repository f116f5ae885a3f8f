"""Interactive folium maps of the estate, each a self-contained HTML file.

register_map
    Every partner's assets: one layer per lead partner, markers sized by floor
    area and coloured by running cost per m².
plan_map
    The plan: kept, hub and disposed buildings, team moves, a summary panel,
    and filters by partner and decision.
access_map
    Per service, minutes from each zone to its nearest site before and after
    the plan, with the standard marked and the zones made worse.

Sensitive assets (refuges) never appear at their true location: they are
left off every map, and the maps say how many.
"""

from estate.maps._base import MapStats
from estate.maps.access import access_map
from estate.maps.plan import plan_map
from estate.maps.register import register_map

__all__ = ["MapStats", "access_map", "plan_map", "register_map"]
