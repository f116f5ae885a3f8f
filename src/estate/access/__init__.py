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



def travel_times(origins, sites, settings) -> "pd.DataFrame":  # noqa: F821 - pandas imported lazily
    """Run the scenario's engine.

    Parameters
    ----------
    origins
        ``zone_id, x_m, y_m`` (EPSG:27700 metres): each zone's travel origin.
    sites
        ``site_id, x_m, y_m``.
    settings
        The scenario's :class:`estate.scenario.AccessSettings`.

    Returns
    -------
    pandas.DataFrame
        The sparse access table, ``ACCESS_COLUMNS``.
    """
    if settings.engine == "straight":
        from estate.access.straight import straight_times

        return straight_times(origins, sites, settings.speed_kmh, settings.cutoff_minutes,
                              settings.circuity, settings.wait_minutes)
    if settings.engine == "network":
        from estate.access.network import network_times

        from estate.scenario import NETWORK_MODES

        modes = [m for m in settings.speed_kmh if m in NETWORK_MODES]
        return network_times(origins, sites, modes, settings.cutoff_minutes, settings.osm_file,
                             settings.speed_kmh)
    from estate.access.matrix import read_matrix

    return read_matrix(settings.matrix_file, origins["zone_id"].astype(str), sites["site_id"].astype(str),
                       list(settings.speed_kmh), settings.cutoff_minutes)
