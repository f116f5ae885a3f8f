"""Scenario files (``models/*.toml``): typed, checked settings for one planning run.

Every assumption is a named setting whose default is written in the built-in
scenario file, so it can be read and audited there. Paths are relative to the
scenario file. Errors name the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from estate._errors import SourceError, SourceErrors
from estate._toml import TomlReader, read_toml
from estate.register import schema

ENGINES = ("straight", "network", "matrix")
#: Travel modes a scenario may name.
MODES = ("walk", "cycle", "car", "public_transport")
STANDARD_RULES = ("share", "no_worse")
#: Modes the network engine can route on an OpenStreetMap extract.
NETWORK_MODES = ("car", "walk", "cycle")


@dataclass(frozen=True)
class DataSettings:
    """Where the scenario's inputs are: partner sources and demand zones."""

    sources: Path
    zones: Path
    zones_layer: str | None = None
    zone_id: str = "zone_id"
    population: str = "population"
    population_csv: Path | None = None
    population_csv_id: str | None = None
    origin_x: str | None = None
    origin_y: str | None = None


@dataclass(frozen=True)
class AccessSettings:
    """How travel times are found.

    ``speed_kmh`` gives the modes computed and their speeds; ``circuity`` is
    network distance ÷ straight-line distance for the ``straight`` engine;
    ``wait_minutes`` adds a fixed access/wait time per mode.
    """

    engine: str
    cutoff_minutes: float
    speed_kmh: dict[str, float]
    circuity: float = 1.3
    wait_minutes: dict[str, float] = field(default_factory=dict)
    osm_file: Path | None = None
    matrix_file: Path | None = None


@dataclass(frozen=True)
class Standard:
    """An access standard: ``share`` of population within ``minutes`` by ``mode``,
    or (``rule = "no_worse"``) no zone further from the service than today."""

    mode: str
    rule: str = "share"
    minutes: float | None = None
    share: float | None = None


@dataclass(frozen=True)
class Service:
    """A service in the catalogue and what delivers it."""

    code: str
    name: str
    services: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    standard: Standard | None = None


@dataclass(frozen=True)
class Scenario:
    """One scenario file, checked."""

    path: Path
    name: str
    description: str
    data: DataSettings
    access: AccessSettings
    services: tuple[Service, ...]


def _codes(r: TomlReader, table: dict, key: str, where: str, vocab: tuple[str, ...]) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        r.fail(f"{where}.{key}", f"expected a list of codes from {list(vocab)}")
        return ()
    for v in values:
        if v not in vocab:
            r.fail(f"{where}.{key}", f"{v!r} is not one of {list(vocab)}")
    return tuple(values)


def _standard(r: TomlReader, table: object, where: str, speeds: dict[str, float]) -> Standard | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        r.fail(where, "expected a table: { mode = ..., minutes = ..., share = ... } or { mode = ..., rule = \"no_worse\" }")
        return None
    r.check_keys(table, where, {"mode", "minutes", "share", "rule"})
    mode = r.text(table, "mode", where, required=True) or "car"
    if mode not in speeds:
        r.fail(f"{where}.mode", f"mode {mode!r} has no speed in [access.speed_kmh] "
               f"(modes with a speed: {sorted(speeds)})")
    rule = r.text(table, "rule", where, choices=STANDARD_RULES, default="share")
    if rule == "no_worse":
        return Standard(mode=mode, rule=rule)
    for key in ("minutes", "share"):
        if key not in table:
            r.fail(f"{where}.{key}", "is required for a share standard")
    return Standard(mode=mode, rule=rule, minutes=r.number(table, "minutes", where, 30.0, minimum=0.0),
                    share=r.number(table, "share", where, 1.0, minimum=0.0, maximum=1.0))


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file.

    Parameters
    ----------
    path
        A TOML scenario, e.g. ``models/cheshire-warrington.toml``.

    Returns
    -------
    Scenario

    Raises
    ------
    SourceErrors
        Every problem found, each naming the file and the key.
    """
    path = Path(path)
    doc = read_toml(path)
    errors: list[SourceError] = []
    r = TomlReader(path, errors)
    r.check_keys(doc, "", {"name", "description", "data", "access", "services"})

    data = doc.get("data", {})
    r.check_keys(data, "data", {"sources", "zones", "zones_layer", "zone_id", "population", "population_csv",
                                "population_csv_id", "origin_x", "origin_y"})
    data_settings = DataSettings(
        sources=r.path_of(data, "sources", "data", required=True) or path,
        zones=r.path_of(data, "zones", "data", required=True) or path,
        zones_layer=r.text(data, "zones_layer", "data"),
        zone_id=r.text(data, "zone_id", "data", default="zone_id"),
        population=r.text(data, "population", "data", default="population"),
        population_csv=r.path_of(data, "population_csv", "data"),
        population_csv_id=r.text(data, "population_csv_id", "data"),
        origin_x=r.text(data, "origin_x", "data"),
        origin_y=r.text(data, "origin_y", "data"),
    )
    if (data_settings.origin_x is None) != (data_settings.origin_y is None):
        r.fail("data.origin_x", "origin_x and origin_y go together")

    acc = doc.get("access", {})
    r.check_keys(acc, "access", {"engine", "cutoff_minutes", "circuity", "speed_kmh", "wait_minutes",
                                 "osm_file", "matrix_file"})
    speeds = {}
    for mode, speed in acc.get("speed_kmh", {}).items():
        if mode not in MODES:
            r.fail(f"access.speed_kmh.{mode}", f"unknown mode; expected one of {list(MODES)}")
        speeds[mode] = r.number(acc["speed_kmh"], mode, "access.speed_kmh", 1.0, minimum=1e-9)
    if not speeds:
        r.fail("access.speed_kmh", "give at least one mode's speed, e.g. walk = 4.8")
    waits = {m: r.number(acc["wait_minutes"], m, "access.wait_minutes", 0.0)
             for m in acc.get("wait_minutes", {})}
    for mode in waits:
        if mode not in speeds:
            r.fail(f"access.wait_minutes.{mode}", f"mode {mode!r} has no speed in [access.speed_kmh]")
    engine = r.text(acc, "engine", "access", choices=ENGINES, default="straight")
    access = AccessSettings(
        engine=engine,
        cutoff_minutes=r.number(acc, "cutoff_minutes", "access", 60.0, minimum=1e-9),
        speed_kmh=speeds,
        circuity=r.number(acc, "circuity", "access", 1.3, minimum=1.0),
        wait_minutes=waits,
        osm_file=r.path_of(acc, "osm_file", "access", required=engine == "network"),
        matrix_file=r.path_of(acc, "matrix_file", "access", required=engine == "matrix"),
    )

    services = []
    for code, table in doc.get("services", {}).items():
        where = f"services.{code}"
        if not isinstance(table, dict):
            r.fail(where, "expected a table")
            continue
        r.check_keys(table, where, {"name", "services", "asset_types", "standard"})
        service = Service(
            code=code,
            name=r.text(table, "name", where, default=code),
            services=_codes(r, table, "services", where, schema.SERVICES),
            asset_types=_codes(r, table, "asset_types", where, schema.ASSET_TYPES),
            standard=_standard(r, table.get("standard"), f"{where}.standard", speeds),
        )
        if not service.services and not service.asset_types:
            r.fail(where, "say what delivers the service: services = [...] and/or asset_types = [...]")
        services.append(service)
    if engine == "network":
        for service in services:
            if service.standard and service.standard.mode not in NETWORK_MODES:
                r.fail(f"services.{service.code}.standard.mode",
                       f"the network engine routes {list(NETWORK_MODES)} only; for {service.standard.mode!r} "
                       "use the matrix engine with times from a timetable tool, or the straight engine")
    if errors:
        raise SourceErrors(errors)
    return Scenario(path=path.resolve(), name=r.text(doc, "name", "", default=path.stem),
                    description=r.text(doc, "description", "", default=""), data=data_settings,
                    access=access, services=tuple(services))
