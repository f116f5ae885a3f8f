"""Partner source descriptions: how to read each partner's own files.

A description is TOML (see ``docs/sources.md``). :func:`load_sources` reads and
checks it into typed settings; nothing here opens a partner's data file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from estate._errors import SourceError, SourceErrors
from estate._toml import TomlReader, finite, read_toml
from estate.register import schema

FORMATS = ("csv", "xlsx", "geojson", "gpkg")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
DELIMITERS = (",", ";", "\t", "|")
AREA_UNITS = ("m2", "sqft")
MONEY_UNITS = ("gbp", "gbp_k", "gbp_m")
LOCATION_METHODS = ("xy", "geometry", "postcode", "uprn")
#: What to do with a row with no usable coordinates or geometry.
FALLBACKS = ("reject", "postcode", "uprn")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
               ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Location:
    """How a partner's rows are placed on the map.

    ``fallback`` says what happens to a row with no usable coordinates or
    geometry: ``reject`` it (the default), or place it by its ``postcode`` or ``uprn``.
    """

    method: str
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    fallback: str | None = None


#: Canonical fields estate can estimate when a partner does not give them (see ``docs/sources.md``),
#: each with the register column that flags the estimate.
ESTIMABLE_FIELDS: dict[str, str] = {"running_cost_gbp": "running_cost_estimated"}
#: The ``blank`` setting that asks for an estimate instead of a reject.
ESTIMATE = "estimate"


@dataclass(frozen=True)
class FieldSource:
    """Where one canonical field comes from in a partner file.

    Exactly one of: ``columns`` (one column, or several joined with ``sep``),
    ``value`` (the same value for every row) or ``absent`` (the file has no such
    field). ``blank`` is what a blank cell means (a value, or ``"estimate"`` for
    an estimable field); None leaves blank as blank.
    """

    columns: tuple[str, ...] = ()
    sep: str = " "
    value: str | None = None
    blank: str | None = None
    absent: bool = False

    @property
    def label(self) -> str:
        """How rejects and warnings name the source of the field."""
        if self.value is not None:
            return f"(every row: {self.value})"
        if self.absent:
            return "(not in the file)"
        return " + ".join(self.columns)

    @property
    def estimated_when_blank(self) -> bool:
        return self.absent or self.blank == ESTIMATE


@dataclass(frozen=True)
class TableSource:
    """One partner file (assets or occupiers) and how to read it.

    ``fields`` maps canonical field -> :class:`FieldSource`; ``values`` maps
    canonical field -> {the partner's word (lower-cased) -> canonical value}.
    """

    file: Path
    format: str
    fields: dict[str, FieldSource]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    layer: str | None = None
    header_row: int = 1
    date_format: str = "%Y-%m-%d"
    area_unit: str = "m2"
    money_unit: str = "gbp"
    location: Location | None = None

    @property
    def columns(self) -> dict[str, str]:
        """Canonical field -> how the partner's file gives it (a column name, for most)."""
        return {name: spec.label for name, spec in self.fields.items()}


@dataclass(frozen=True)
class PartnerSource:
    """A partner: its code, name, kind and files."""

    code: str
    name: str
    kind: str
    assets: TableSource
    occupiers: TableSource | None = None


@dataclass(frozen=True)
class RegisterSettings:
    """Register-wide settings from the ``[register]`` table."""

    postcode_lookup: Path | None = None
    uprn_lookup: Path | None = None
    areas: Path | None = None
    areas_code_column: str | None = None
    dedupe_distance_m: float = 50.0
    dedupe_name_similarity: float = 80.0
    sea_tolerance_m: float = 1000.0


@dataclass(frozen=True)
class Sources:
    """Everything a register build needs to know about its inputs."""

    path: Path
    settings: RegisterSettings
    partners: tuple[PartnerSource, ...]


def _cell_value(r: TomlReader, value: object, where: str) -> str | None:
    """A value written in the description (text, number or true/false) as the cell text it stands for."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if not finite(value):
            r.fail(where, f"expected a finite number, got {value!r}")
            return None
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        if "\x00" in value:
            r.fail(where, "contains a NUL character")
            return None
        return value
    r.fail(where, f"expected a value (text, number or true/false), got {value!r}")
    return None


def _field_source(r: TomlReader, name: str, spec: object, where: str, required: bool) -> FieldSource | None:
    """One entry of a ``columns`` table: a column name or a table (see :class:`FieldSource`)."""
    if isinstance(spec, str):
        return FieldSource(columns=(spec,)) if spec.strip() else r.fail(where, "names no column")
    if not isinstance(spec, dict):
        r.fail(where, "expected a column name, or a table such as { column = ... }, { join = [...] }, "
               "{ value = ... } or { absent = true }")
        return None
    r.check_keys(spec, where, {"column", "join", "sep", "value", "blank", "absent"})
    ways = [k for k in ("column", "join", "value", "absent") if k in spec]
    if len(ways) != 1:
        r.fail(where, "give exactly one of column, join, value or absent" + (f" (found {ways})" if ways else ""))
        return None
    blank = None
    if "blank" in spec:
        blank = spec["blank"] if spec["blank"] == ESTIMATE else _cell_value(r, spec["blank"], f"{where}.blank")
        if blank == ESTIMATE and name not in ESTIMABLE_FIELDS:
            r.fail(f"{where}.blank", f"estate can only estimate {', '.join(ESTIMABLE_FIELDS)}, not {name}")
    if "column" in spec:
        column = r.text(spec, "column", where, required=True)
        return FieldSource(columns=(column,), blank=blank) if column else None
    if "join" in spec:
        parts = spec["join"]
        if not isinstance(parts, list) or len(parts) < 2 or not all(isinstance(c, str) and c for c in parts):
            r.fail(f"{where}.join", "expected a list of two or more column names")
            return None
        sep = spec.get("sep", " ")
        if not isinstance(sep, str):
            r.fail(f"{where}.sep", f"expected text, got {sep!r}")
            sep = " "
        return FieldSource(columns=tuple(parts), sep=sep, blank=blank)
    if "value" in spec:
        value = _cell_value(r, spec["value"], f"{where}.value")
        return FieldSource(value=value) if value is not None else None
    if spec["absent"] is not True:
        r.fail(f"{where}.absent", "write absent = true, or leave the field out")
        return None
    if required and name not in ESTIMABLE_FIELDS:
        r.fail(where, f"{name} is required and estate cannot estimate it; give a column, a join or a value")
        return None
    return FieldSource(absent=True)


def _table_source(r: TomlReader, table: dict, where: str, kind: str) -> TableSource | None:
    is_assets = kind == "assets"
    allowed = {"file", "format", "encoding", "delimiter", "sheet", "layer", "header_row", "date_format",
               "area_unit", "money_unit", "columns", "values"}
    if is_assets:
        allowed.add("location")
    r.check_keys(table, where, allowed)
    file = r.path_of(table, "file", where, required=True, must_exist=False)
    if file is None:
        return None
    fmt = r.text(table, "format", where, choices=FORMATS) or _EXTENSIONS.get(file.suffix.lower())
    if fmt is None:
        r.fail(f"{where}.format", f"cannot tell the format of {file.name}; give one of {list(FORMATS)}")
        return None
    sheet = r.text(table, "sheet", where, required=fmt == "xlsx")
    header_row = r.integer(table, "header_row", where, 1, minimum=1, maximum=1_000_000)

    names = schema.ASSET_FIELDS if is_assets else schema.OCCUPIER_FIELDS
    required = schema.ASSET_REQUIRED if is_assets else schema.OCCUPIER_REQUIRED
    columns = r.table(table, "columns", where)
    r.check_keys(columns, f"{where}.columns", set(names))
    for name in required:
        if name not in columns:
            r.fail(f"{where}.columns.{name}", "required field is not mapped to a column "
                   "(give a column, a join, a value, or absent = true where estate can estimate it)")
    fields = {}
    for name, spec in columns.items():
        if name in names:
            found = _field_source(r, name, spec, f"{where}.columns.{name}", name in required)
            if found is not None:
                fields[name] = found

    values: dict[str, dict[str, str]] = {}
    raw_values = r.table(table, "values", where)
    r.check_keys(raw_values, f"{where}.values", set(names))
    for name, mapping in raw_values.items():
        if not isinstance(mapping, dict):
            r.fail(f"{where}.values.{name}", "expected a table of source value = canonical value")
            continue
        vocab = schema.VOCABULARIES.get(name)
        clean: dict[str, str] = {}
        for source_word, canonical in mapping.items():
            canonical = _cell_value(r, canonical, f"{where}.values.{name}.{source_word}")
            if canonical is None:
                continue
            if vocab is not None and canonical not in vocab:
                r.fail(f"{where}.values.{name}.{source_word}",
                       f"{canonical!r} is not a known {name}; expected one of {list(vocab)}")
            clean[str(source_word).strip().lower()] = canonical
        values[name] = clean

    location = None
    if is_assets:
        location = _location(r, table.get("location"), f"{where}.location", columns, fmt)
    return TableSource(
        file=file,
        format=fmt,
        fields=fields,
        values=values,
        encoding=r.text(table, "encoding", where, choices=ENCODINGS, default="utf-8"),
        delimiter=r.text(table, "delimiter", where, choices=DELIMITERS, default=","),
        sheet=sheet,
        layer=r.text(table, "layer", where),
        header_row=header_row,
        date_format=r.text(table, "date_format", where, default="%Y-%m-%d"),
        area_unit=r.text(table, "area_unit", where, choices=AREA_UNITS, default="m2"),
        money_unit=r.text(table, "money_unit", where, choices=MONEY_UNITS, default="gbp"),
        location=location,
    )


def _location(r: TomlReader, table: Any, where: str, columns: dict, fmt: str) -> Location | None:
    if not isinstance(table, dict):
        r.fail(where, "a [location] table is required: method = xy | geometry | postcode | uprn")
        return None
    r.check_keys(table, where, {"method", "x", "y", "crs", "fallback"})
    method = r.text(table, "method", where, required=True, choices=LOCATION_METHODS)
    fallback = r.text(table, "fallback", where, choices=FALLBACKS, default="reject")
    fallback = None if fallback == "reject" else fallback
    loc = Location(method=method or "xy", x=r.text(table, "x", where),
                   y=r.text(table, "y", where), crs=r.text(table, "crs", where), fallback=fallback)
    if method == "xy":
        for key in ("x", "y", "crs"):
            if getattr(loc, key) is None:
                r.fail(f"{where}.{key}", "is required when method = 'xy'")
    if method == "geometry" and fmt not in ("geojson", "gpkg"):
        r.fail(f"{where}.method", f"'geometry' needs a GeoJSON or GeoPackage file, not {fmt}")
    if method in ("postcode", "uprn") and fallback is not None:
        r.fail(f"{where}.fallback", f"a fallback is for rows with no usable coordinates or geometry; rows "
               f"located by {method} have none to fall back from")
    for need in {method, fallback} & {"postcode", "uprn"}:
        if need not in columns:
            r.fail(f"{where}.method", f"locating by {need} needs columns.{need} to be mapped")
    if loc.crs is not None:
        try:
            from pyproj import CRS

            CRS.from_user_input(loc.crs)
        except Exception:  # pyproj raises CRSError and friends
            r.fail(f"{where}.crs", f"{loc.crs!r} is not a coordinate reference system pyproj knows")
    return loc


def load_sources(path: str | Path) -> Sources:
    """Read and check a partner source description file.

    Parameters
    ----------
    path
        A TOML file in the layout of ``docs/sources.md``.

    Returns
    -------
    Sources
        Typed settings with file paths resolved against the TOML's folder.

    Raises
    ------
    SourceErrors
        Every problem found, each naming the file and the key.
    """
    path = Path(path)
    doc = read_toml(path)

    errors: list[SourceError] = []
    r = TomlReader(path, errors)
    r.check_keys(doc, "", {"register", "partners"})
    reg = r.table(doc, "register", "")
    r.check_keys(reg, "register", {"postcode_lookup", "uprn_lookup", "areas", "areas_code_column",
                                   "dedupe_distance_m", "dedupe_name_similarity", "sea_tolerance_m",
                                   "allowed_folders"})
    r.allow_folders(reg, "allowed_folders", "register")
    settings = RegisterSettings(
        postcode_lookup=r.path_of(reg, "postcode_lookup", "register", must_exist=False),
        uprn_lookup=r.path_of(reg, "uprn_lookup", "register", must_exist=False),
        areas=r.path_of(reg, "areas", "register", must_exist=False),
        areas_code_column=r.text(reg, "areas_code_column", "register"),
        dedupe_distance_m=r.number(reg, "dedupe_distance_m", "register", 50.0, maximum=10_000.0),
        dedupe_name_similarity=r.number(reg, "dedupe_name_similarity", "register", 80.0, maximum=100.0),
        sea_tolerance_m=r.number(reg, "sea_tolerance_m", "register", 1000.0, maximum=50_000.0),
    )
    if settings.areas is not None and not settings.areas_code_column:
        r.fail("register.areas_code_column", "is required when register.areas is given")

    partners: list[PartnerSource] = []
    raw_partners = doc.get("partners", [])
    if not isinstance(raw_partners, list):
        r.fail("partners", "expected [[partners]] tables")
        raw_partners = []
    if not raw_partners:
        r.fail("partners", "no [[partners]] are described")
    seen: set[str] = set()
    for i, p in enumerate(raw_partners, start=1):
        where = f"partners[{i}]"
        if not isinstance(p, dict):
            r.fail(where, "expected a [[partners]] table")
            continue
        r.check_keys(p, where, {"code", "name", "kind", "assets", "occupiers"})
        code = r.text(p, "code", where, required=True) or f"P{i}"
        if not _CODE.match(code):
            r.fail(f"{where}.code", f"{code!r} must be letters, digits or underscores, starting with a letter")
        if code in seen:
            r.fail(f"{where}.code", f"{code!r} is used by another partner")
        seen.add(code)
        name = r.text(p, "name", where, default=code)
        kind = r.text(p, "kind", where, choices=schema.PARTNER_KINDS, default="other")
        if not isinstance(p.get("assets"), dict):
            r.fail(f"{where}.assets", "an [assets] table is required")
            continue
        assets = _table_source(r, p["assets"], f"{where}.assets", "assets")
        occupiers = None
        if "occupiers" in p:
            if isinstance(p["occupiers"], dict):
                occupiers = _table_source(r, p["occupiers"], f"{where}.occupiers", "occupiers")
            else:
                r.fail(f"{where}.occupiers", "expected an [occupiers] table")
        if assets is not None:
            partners.append(PartnerSource(code, name, kind, assets, occupiers))
    for p in partners:
        loc = p.assets.location
        if loc and "postcode" in {loc.method, loc.fallback} and settings.postcode_lookup is None:
            r.fail("register.postcode_lookup", f"partner {p.code} is located by postcode but no lookup is given")
        if loc and "uprn" in {loc.method, loc.fallback} and settings.uprn_lookup is None:
            r.fail("register.uprn_lookup", f"partner {p.code} is located by UPRN but no lookup is given")
    if errors:
        raise SourceErrors(errors)
    return Sources(path=path.resolve(), settings=settings, partners=tuple(partners))
