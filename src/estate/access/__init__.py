"""Access: travel times from demand zones to sites, as one sparse table per mode.

Every engine returns the same frame, ``ACCESS_COLUMNS``: one row per
``(zone_id, site_id, mode)`` with ``minutes`` at or under the cutoff. Pairs
beyond the cutoff are simply absent. Engines:

- ``straight`` (:mod:`estate.access.straight`): straight-line distance ×
  circuity ÷ speed, plus a fixed wait for public transport. An approximation.
- ``network`` (:mod:`estate.access.network`): shortest paths on a road/path
  network from an OpenStreetMap extract.
- ``matrix`` (:mod:`estate.access.matrix`): a table the user brings from
  another routing tool.

:mod:`estate.access.metrics` turns the table into accessibility per zone and service.
"""

#: Columns of the access table (``access.parquet``).
ACCESS_COLUMNS: tuple[str, ...] = ("zone_id", "site_id", "mode", "minutes")

#: Travel modes the scenario may name.
MODES: tuple[str, ...] = ("walk", "cycle", "car", "public_transport")
