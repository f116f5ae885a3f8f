"""Read a partner's own file and normalise its values to the canonical schema.

:func:`read_table` opens CSV, Excel, GeoJSON or GeoPackage and returns the
mapped columns as raw values with each row's number as seen in the file.
:func:`parse_table` turns the raw values into typed canonical fields, converting
units (sq ft → m², £k → £), and logs every value it cannot read as a reject.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from estate._errors import SourceError
from estate.register import schema
from estate.register.sources import TableSource
from estate.register.validate import Context, IssueLog, reject_where, warn_where

SQFT_TO_M2 = 0.09290304
_MONEY_SCALE = {"gbp": 1.0, "gbp_k": 1e3, "gbp_m": 1e6}
_AREA_RE = re.compile(
    r"^\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+))\s*"
    r"(?P<unit>sq\.?\s*ft\.?|sqft|ft2|ft²|square\s+feet|sq\.?\s*m\.?|sqm|m2|m²|square\s+met(?:re|er)s)?\s*$",
    re.IGNORECASE,
)
_MONEY_RE = re.compile(r"^\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+))\s*(?P<mult>k|m|bn)?\s*$", re.IGNORECASE)
_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


@dataclass
class RawTable:
    """Raw mapped values of one partner file.

    ``frame`` has one column per mapped canonical field (raw cell values), plus
    ``_row`` (the row number a user sees in the file) and, for geographic files,
    ``_geometry``. ``crs`` is the file's own CRS, if any.
    """

    frame: pd.DataFrame
    file: Path
    crs: str | None = None


def _fail(source: TableSource, message: str, **where) -> SourceError:
    return SourceError(source.file, message, **where)


def _read_csv(source: TableSource) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            source.file, dtype=str, keep_default_na=False, skiprows=source.header_row - 1,
            skip_blank_lines=False, encoding=source.encoding, sep=source.delimiter,
        )
    except UnicodeDecodeError as exc:
        raise _fail(source, f"cannot be decoded as {source.encoding} ({exc.reason} at byte {exc.start}); "
                    "set encoding = 'cp1252' or 'utf-8-sig' in its description") from None
    except pd.errors.EmptyDataError:
        raise _fail(source, f"has no header at row {source.header_row}") from None
    except (pd.errors.ParserError, OSError) as exc:
        raise _fail(source, f"cannot be read as CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.insert(0, "_row", np.arange(len(frame)) + source.header_row + 1)
    return frame


def _cell_text(value: object) -> object:
    """Excel cells: keep dates and numbers, trim text, make whole floats ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _read_xlsx(source: TableSource) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(source.file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _fail(source, f"cannot be read as an Excel workbook: {exc}") from None
    except Exception as exc:  # openpyxl's InvalidFileException and friends
        raise _fail(source, f"cannot be read as an Excel workbook: {exc}") from None
    try:
        if source.sheet not in book.sheetnames:
            raise _fail(source, f"has no sheet {source.sheet!r}; its sheets are {book.sheetnames}")
        sheet = book[source.sheet]
        rows = sheet.iter_rows(min_row=source.header_row, values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            raise _fail(source, f"sheet {source.sheet!r} has no header at row {source.header_row}")
        names = [str(h).strip() if h is not None else f"_blank{i}" for i, h in enumerate(header)]
        width = len(names)
        # Read-only sheets can give short rows where trailing cells are empty.
        data = [tuple(_cell_text(v) for v in r[:width]) + (None,) * (width - len(r)) for r in rows]
    finally:
        book.close()
    frame = pd.DataFrame(data, columns=names, dtype=object) if data else pd.DataFrame(columns=names)
    frame.insert(0, "_row", np.arange(len(frame)) + source.header_row + 1)
    return frame


def _read_geo(source: TableSource) -> tuple[pd.DataFrame, str | None]:
    import pyogrio

    try:
        layers = pyogrio.list_layers(source.file)
        layer = source.layer
        if layer is None and len(layers) > 1:
            raise _fail(source, f"has several layers {list(layers[:, 0])}; name one with layer = ...")
        if layer is not None and layer not in set(layers[:, 0]):
            raise _fail(source, f"has no layer {layer!r}; its layers are {list(layers[:, 0])}")
        gdf = pyogrio.read_dataframe(source.file, layer=layer)
    except SourceError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise _fail(source, f"cannot be read as {source.format}: {exc}") from None
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.insert(0, "_row", np.arange(len(frame)) + 1)
    frame["_geometry"] = gdf.geometry.values
    return frame, crs


def read_table(source: TableSource) -> RawTable:
    """Read one partner file and keep its mapped columns.

    Parameters
    ----------
    source
        The file's description.

    Returns
    -------
    RawTable
        Raw values under canonical field names; blank rows dropped.

    Raises
    ------
    SourceError
        The file is missing or unreadable, the sheet or layer does not exist,
        or a mapped column is not in the header.
    """
    if not source.file.exists():
        raise _fail(source, "file not found")
    crs = None
    if source.format == "csv":
        frame = _read_csv(source)
    elif source.format == "xlsx":
        frame = _read_xlsx(source)
    else:
        frame, crs = _read_geo(source)

    wanted = dict(source.columns)
    loc = source.location
    if loc is not None and loc.method == "xy":
        wanted["_x"], wanted["_y"] = loc.x, loc.y
    header_at = f"row {source.header_row}" if source.format in ("csv", "xlsx") else "the properties"
    for field_name, column in wanted.items():
        if column not in frame.columns:
            raise SourceError(
                source.file,
                f"the column for {field_name.lstrip('_') or field_name} is missing from the header at "
                f"{header_at}; columns found: {[c for c in frame.columns if not c.startswith('_')]}",
                column=column,
            )
    out = pd.DataFrame({field_name: frame[column] for field_name, column in wanted.items()})
    out.insert(0, "_row", frame["_row"].to_numpy())
    if "_geometry" in frame:
        out["_geometry"] = frame["_geometry"]
    cells = out.drop(columns=[c for c in ("_row", "_geometry") if c in out.columns])
    blank = cells.apply(lambda s: s.isna() | (s.astype(str).str.strip() == "")).all(axis=1)
    if "_geometry" in out:
        blank &= out["_geometry"].isna()
    return RawTable(frame=out.loc[~blank].reset_index(drop=True), file=source.file, crs=crs)


# --------------------------------------------------------------------------
# Value parsers: raw Series -> (typed Series, mask of unreadable cells)
# --------------------------------------------------------------------------


def _cell(value: object) -> str | None:
    """One cell as trimmed text, None when blank; whole floats lose their '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _text(raw: pd.Series) -> pd.Series:
    """Cells as trimmed text in an object Series, blanks as None."""
    return pd.Series([_cell(v) for v in raw], index=raw.index, dtype=object)


def parse_area(raw: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Areas in m² from cells like ``1161``, ``12,500 sq ft`` or ``1161 m2``.

    A unit written in the cell wins; bare numbers are in ``unit`` (m2 | sqft).
    """
    text = _text(raw)
    blank = text.isna()
    parts = text.fillna("").str.replace(",", "", regex=False).str.extract(_AREA_RE)
    number = pd.to_numeric(parts["num"], errors="coerce")
    cell_unit = parts["unit"].fillna("").str.lower()
    in_sqft = cell_unit.str.contains("f") | ((cell_unit == "") & (unit == "sqft"))
    value = number.where(~in_sqft, number * SQFT_TO_M2)
    return value.astype(float), ~blank & number.isna()


def parse_money(raw: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Pounds from cells like ``£1,234,000``, ``450k``, ``£1.2m`` or ``(1,234)``.

    A ``k``/``m``/``bn`` written in the cell wins; bare numbers are in ``unit``.
    """
    text = _text(raw)
    blank = text.isna()
    s = text.fillna("").str.replace(r"[£,\s]|GBP", "", regex=True, case=False)
    negative = s.str.match(r"^\(.*\)$")
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    parts = s.str.extract(_MONEY_RE)
    number = pd.to_numeric(parts["num"], errors="coerce")
    mult = parts["mult"].str.lower().map({"k": 1e3, "m": 1e6, "bn": 1e9})
    scale = mult.fillna(_MONEY_SCALE[unit])
    value = number * scale * np.where(negative, -1.0, 1.0)
    return value.astype(float), ~blank & number.isna()


def parse_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Plain numbers, thousands separators allowed."""
    text = _text(raw)
    number = pd.to_numeric(text.fillna("").str.replace(",", "", regex=False), errors="coerce")
    return number.astype(float), text.notna() & number.isna()


def parse_date(raw: pd.Series, date_format: str) -> tuple[pd.Series, pd.Series]:
    """Dates from Excel date cells or text in ``date_format``."""
    is_date = raw.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
    text = _text(raw.where(~is_date, None))
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    native = pd.to_datetime(raw.where(is_date, None), errors="coerce")
    value = native.where(is_date, parsed).dt.normalize()
    return value, text.notna() & parsed.isna() & ~is_date


def parse_flag(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans from yes/no words; blank is false."""
    text = _text(raw).fillna("").str.lower()
    true, false = text.isin(schema.TRUE_WORDS), text.isin(schema.FALSE_WORDS)
    return true, ~(true | false)


def parse_vocab(raw: pd.Series, vocab: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Canonical codes, matched case-insensitively."""
    text = _text(raw)
    lookup = {v.lower(): v for v in vocab}
    value = text.str.lower().map(lookup)
    return value.astype(object), text.notna() & value.isna()


def parse_postcode(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UK postcodes normalised to ``OUT IN`` form (``CH1 2HS``)."""
    squashed = _text(raw).str.upper().str.replace(r"\s+", "", regex=True)
    ok = squashed.str.match(_POSTCODE_RE).fillna(False).astype(bool)
    value = (squashed.str[:-3] + " " + squashed.str[-3:]).where(ok)
    return value.astype(object), squashed.notna() & ~ok


def parse_uprn(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Unique Property Reference Numbers: 1 to 12 digits, kept as text."""
    text = _text(raw)
    ok = text.str.fullmatch(r"\d{1,12}").fillna(False).astype(bool)
    value = text.str.lstrip("0").where(ok)
    return value.astype(object), text.notna() & ~ok


def parse_list(raw: pd.Series, vocab: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """``;``- or ``,``-separated codes, each in ``vocab``; returned ``;``-joined."""
    lookup = {v.lower(): v for v in vocab}
    def one(cell: object) -> tuple[str | None, bool]:
        if cell is None:
            return None, False
        items = [t.strip().lower() for t in re.split(r"[;,]", str(cell)) if t.strip()]
        codes = [lookup.get(t) for t in items]
        return ";".join(sorted({c for c in codes if c})) or None, any(c is None for c in codes)
    pairs = _text(raw).map(one)
    return pairs.map(lambda p: p[0]).astype(object), pairs.map(lambda p: p[1]).astype(bool)


def _expected(kind: str, field_name: str, source: TableSource) -> str:
    vocab = schema.VOCABULARIES.get(field_name) or (schema.SERVICES if kind == "list" else ())
    hints = {
        "area": f"expected a floor area such as 1,250 or '12,500 sq ft' (bare numbers in {source.area_unit})",
        "money": f"expected an amount such as £1,234,000 or £450k (bare numbers in {source.money_unit})",
        "number": "expected a number",
        "date": f"expected a date written as {source.date_format}",
        "flag": "expected yes/no (or a mapping in values." + field_name + ")",
        "postcode": "expected a UK postcode such as CH1 2HS",
        "uprn": "expected a UPRN of up to 12 digits",
        "vocab": f"expected one of {list(vocab)} or a mapping in values.{field_name}",
        "list": f"expected codes from {list(vocab)} separated by ';'",
    }
    return hints.get(kind, "expected text")


def parse_table(raw: RawTable, source: TableSource, log: IssueLog, ctx: Context,
                fields: dict[str, str], required: tuple[str, ...]) -> pd.DataFrame:
    """Typed canonical fields from raw values; unreadable or missing values are rejected.

    Parameters
    ----------
    raw
        Output of :func:`read_table`.
    source
        The file's description (units, date format, value mappings).
    log, ctx
        Where rejects go, and how to name the file and columns in them.
    fields, required
        ``schema.ASSET_FIELDS``/``ASSET_REQUIRED`` or the occupier equivalents.

    Returns
    -------
    pandas.DataFrame
        Every canonical field in ``fields`` (unmapped ones blank), plus ``_row``
        and any ``_x``, ``_y``, ``_geometry``. Rows are not dropped here.
    """
    frame = raw.frame
    out = pd.DataFrame({"_row": frame["_row"]})
    for field_name, kind in fields.items():
        if field_name not in frame:
            out[field_name] = {"flag": False, "area": np.nan, "money": np.nan,
                               "number": np.nan, "date": pd.NaT}.get(kind, None)
            continue
        cells = frame[field_name]
        mapping = source.values.get(field_name)
        if mapping and kind != "list":
            key = _text(cells).str.lower()
            cells = key.map(mapping).where(key.isin(mapping.keys()), cells)
        if kind == "area":
            value, bad = parse_area(cells, source.area_unit)
        elif kind == "money":
            value, bad = parse_money(cells, source.money_unit)
        elif kind == "number":
            value, bad = parse_number(cells)
        elif kind == "date":
            value, bad = parse_date(cells, source.date_format)
        elif kind == "flag":
            value, bad = parse_flag(cells)
        elif kind == "vocab":
            value, bad = parse_vocab(cells, schema.VOCABULARIES[field_name])
        elif kind == "postcode":
            value, bad = parse_postcode(cells)
        elif kind == "uprn":
            value, bad = parse_uprn(cells)
        elif kind == "list":
            if mapping:
                cells = _text(cells).map(lambda c: None if c is None else ";".join(
                    mapping.get(t.strip().lower(), t.strip()) for t in re.split(r"[;,]", c)))
            value, bad = parse_list(cells, schema.SERVICES)
        else:
            value, bad = _text(cells), pd.Series(False, index=cells.index)
        out[field_name] = value
        raw_values = frame[field_name]
        if kind in ("postcode", "uprn") and field_name not in required:
            # Only fatal where the row is located by it; that is decided in geocode.
            warn_where(log, ctx, out, bad, field_name,
                       _expected(kind, field_name, source) + "; ignored", values=raw_values)
        else:
            reject_where(log, ctx, out, bad, field_name, _expected(kind, field_name, source),
                         values=raw_values)
        if field_name in required:
            missing = value.isna() & ~bad
            reject_where(log, ctx, out, missing, field_name, "required value is blank", values=raw_values)
    for extra in ("_x", "_y", "_geometry"):
        if extra in frame:
            out[extra] = frame[extra]
    return out
