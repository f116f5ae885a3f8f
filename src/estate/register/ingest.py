"""Read a partner's own file and normalise its values to the canonical schema.

:func:`read_table` opens CSV, Excel, GeoJSON or GeoPackage and returns the
mapped columns as raw values with each row's number as seen in the file.
:func:`parse_table` turns the raw values into typed canonical fields, converting
units (sq ft → m², £k → £), and logs every value it cannot read as a reject.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from estate._errors import SourceError
from estate.register import schema
from estate.register.sources import ESTIMABLE_FIELDS, ESTIMATE, TableSource
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
    ``_row`` (the row number a user sees in the file: the first line of a CSV
    record, the spreadsheet row, or the feature number) and, for geographic
    files, ``_geometry``. ``crs`` is the file's own CRS, if any. ``lines`` is the
    file's line account (:data:`LINE_ACCOUNT`).
    """

    frame: pd.DataFrame
    file: Path
    crs: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    formula_cells: pd.DataFrame | None = None


#: The line account of one file: every physical line (CSV), spreadsheet row or feature is one of these.
#: ``lines = header + blank + records + continuation``, where ``continuation`` counts the extra lines of
#: records whose quoted values run over several lines.
LINE_ACCOUNT = ("lines", "header", "blank", "records", "continuation")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _fail(source: TableSource, message: str, **where) -> SourceError:
    return SourceError(source.file, message, **where)


def _decode(source: TableSource, data: bytes) -> str:
    """The file's text in its stated encoding; a clear error naming the byte and line, and the
    encoding that would work, when it cannot be decoded."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _fail(source, "is UTF-16 text (Excel's 'Unicode text'); save it as 'CSV UTF-8' instead")
    try:
        text = data.decode(source.encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        works = [e for e in ("utf-8", "cp1252") if e != source.encoding.replace("-sig", "") and _decodes(data, e)]
        advice = (f"it reads as {works[0]}: set encoding = '{works[0]}' in its description" if works
                  else "it is not text in utf-8 or cp1252 (is it a spreadsheet saved with a .csv name?)")
        raise _fail(source, f"cannot be decoded as {source.encoding} (byte 0x{data[exc.start]:02x} at offset "
                    f"{exc.start}, line {line}); {advice}") from None
    return text[1:] if text.startswith("\ufeff") else text


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _header_names(header: list[str]) -> list[str]:
    return [h.strip() if h.strip() else f"_blank{i}" for i, h in enumerate(header)]


def _check_mapped_unique(source: TableSource, names: list[str], where: str) -> None:
    """A mapped column that appears twice in the header cannot be told apart: an error."""
    wanted = _wanted_columns(source)
    for name in sorted(set(wanted) & {n for n in names if names.count(n) > 1}):
        positions = [i + 1 for i, n in enumerate(names) if n == name]
        raise _fail(source, f"the header at {where} has this column {len(positions)} times (columns "
                    f"{', '.join(map(str, positions))}); rename one so estate knows which to read", column=name)


def _read_csv(source: TableSource, log: IssueLog, ctx: Context) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read a delimited file record by record, keeping the physical line span of each
    (``_row`` its first line, ``_end`` its last); the counts give the file's lines, its
    header lines (title rows and the header) and its blank lines.

    A record whose quoted value runs over several lines is kept with a warning,
    unless the lines it swallowed look like records themselves (an unbalanced
    quote): then it is rejected, naming the lines. A record with more values
    than the header is rejected; a shorter one is padded with blanks.
    """
    try:
        data = source.file.read_bytes()
    except OSError as exc:
        raise _fail(source, f"cannot be read: {exc.strerror}") from None
    text = _decode(source, data)
    physical = _lines_with_ends(text)
    n_lines = len(physical)
    skip = source.header_row - 1
    if skip >= n_lines:
        raise _fail(source, f"has no header at row {source.header_row} (it has {n_lines} lines)")
    body = io.StringIO(text[sum(len(line) for line in physical[:skip]):], newline="")
    csv.field_size_limit(max(len(text) + 1, 131_072))  # a long value is a value, not an unreadable file
    reader = csv.reader(body, delimiter=source.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise _fail(source, f"has no header at row {source.header_row}") from None
    except csv.Error as exc:
        raise _fail(source, f"cannot be read as CSV at the header: {exc}") from None
    header_end = skip + reader.line_num
    names = _header_names(header)
    _check_mapped_unique(source, names, f"row {source.header_row}")
    width = len(names)
    records, starts, ends = [], [], []
    blank = 0
    previous = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _fail(source, f"cannot be read as CSV near line {skip + reader.line_num + 1}: {exc}") from None
        first, last = skip + previous + 1, skip + reader.line_num
        previous = reader.line_num
        if not record or all(not v.strip() for v in record):
            blank += last - first + 1
            continue
        records.append(record)
        starts.append(first)
        ends.append(last)
    frame = _frame_of_records(source, records, names, width, starts, ends, physical, log, ctx)
    return frame, {"lines": n_lines, "header": header_end, "blank": blank}


def _lines_with_ends(text: str) -> list[str]:
    """The physical lines of ``text`` with their line breaks (the same split as the csv module's)."""
    parts, pos = [], 0
    for match in _LINE_BREAK.finditer(text):
        parts.append(text[pos:match.end()])
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return parts


def _frame_of_records(source: TableSource, records: list[list[str]], names: list[str], width: int,
                      starts: list[int], ends: list[int], physical: list[str], log: IssueLog,
                      ctx: Context) -> pd.DataFrame:
    """Records as a frame of text cells; log multi-line and over-long records."""
    rows = np.asarray(starts, dtype=np.int64)
    end = np.asarray(ends, dtype=np.int64)
    lengths = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    too_long = np.zeros(len(records), bool)
    for i in np.flatnonzero(lengths > width):
        if any(v.strip() for v in records[i][width:]):
            too_long[i] = True
    cells = [r[:width] + [""] * (width - len(r)) if len(r) != width else r for r in records]
    frame = pd.DataFrame(cells, columns=pd.Index(range(width)), dtype=object) if cells else \
        pd.DataFrame(columns=pd.Index(range(width)), dtype=object)
    frame.columns = names if len(set(names)) == len(names) else [
        n if names.index(n) == i else f"{n}_{i}" for i, n in enumerate(names)]
    frame.insert(0, "_row", rows)
    frame.insert(1, "_end", end)
    span = pd.Series(False, index=frame.index)
    if (end > rows).any():
        span[:] = end > rows
        # A swallowed line looks like a record when it has as many delimiters as the file's shortest
        # one-line record (files that trim empty trailing columns have rows shorter than their header).
        single = np.flatnonzero(~span.to_numpy())
        counts = [physical[rows[i] - 1].count(source.delimiter) for i in single]
        threshold = max(1, min(counts)) if counts else max(width - 1, 1)
        looks_like_record = np.zeros(len(frame), bool)
        for i in np.flatnonzero(span.to_numpy()):
            lines = physical[rows[i] - 1:end[i]]
            open_quote = "".join(lines).count('"') % 2 == 1  # never closed: every line after the first is swallowed
            inner = lines[1:] if open_quote else lines[1:-1]  # a closing line holds the rest of its own record
            looks_like_record[i] = any(line.count(source.delimiter) >= threshold for line in inner)
        where = pd.Series([f"lines {a}–{b}" for a, b in zip(rows, end)], index=frame.index)
        swallowed = span & looks_like_record
        reject_where(log, ctx, frame, swallowed, "_record",
                     "an unbalanced quote (\") makes this row run on over " + where
                     + ", which look like rows of their own: close the quote", values=where)
        warn_where(log, ctx, frame, span & ~looks_like_record, "_record",
                   "a quoted value runs over " + where + "; kept as one value", values=where)
    reject_where(log, ctx, frame, pd.Series(too_long, index=frame.index), "_record",
                 pd.Series([f"has {n} values but the header has {width}: an unquoted delimiter inside a value?"
                            for n in lengths], index=frame.index),
                 values=pd.Series([str(n) for n in lengths], index=frame.index))
    return frame


def _cell_text(value: object) -> object:
    """Excel cells: keep dates and numbers, trim text, make whole floats ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _open_workbook(source: TableSource, data_only: bool):
    import openpyxl

    try:
        return openpyxl.load_workbook(source.file, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises BadZipFile, InvalidFileException, KeyError and friends
        raise _fail(source, f"cannot be read as an Excel workbook: {exc}") from None


def _read_xlsx(source: TableSource) -> tuple[pd.DataFrame, dict[str, int]]:
    book = _open_workbook(source, data_only=True)
    try:
        if source.sheet not in book.sheetnames:
            raise _fail(source, f"has no sheet {source.sheet!r}; its sheets are {book.sheetnames}")
        sheet = book[source.sheet]
        rows = sheet.iter_rows(min_row=source.header_row, values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            raise _fail(source, f"sheet {source.sheet!r} has no header at row {source.header_row}")
        names = _header_names([str(h) if h is not None else "" for h in header])
        _check_mapped_unique(source, names, f"row {source.header_row} of sheet {source.sheet!r}")
        width = len(names)
        # Read-only sheets can give short rows where trailing cells are empty.
        data = [tuple(_cell_text(v) for v in r[:width]) + (None,) * (width - len(r)) for r in rows]
    finally:
        book.close()
    if len(set(names)) != len(names):
        names = [n if names.index(n) == i else f"{n}_{i}" for i, n in enumerate(names)]
    frame = pd.DataFrame(data, columns=names, dtype=object) if data else pd.DataFrame(columns=names)
    frame.insert(0, "_row", np.arange(len(frame)) + source.header_row + 1)
    frame.insert(1, "_end", frame["_row"].to_numpy())
    return frame, {"lines": source.header_row + len(frame), "header": source.header_row, "blank": 0}


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(path: Path) -> bool:
    """True when any worksheet of the workbook holds a formula (an ``<f>`` element); a quick scan of
    the XML that spares the second, slower pass of :func:`_formula_cells` for the usual export."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return any(_FORMULA_TAG.search(z.read(name)) for name in z.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return True  # let openpyxl say what is wrong


def _formula_cells(source: TableSource, columns: dict[str, str], rows: pd.Series) -> pd.DataFrame:
    """Cells of ``rows`` in the mapped ``columns`` (field -> column) that hold a formula whose value the
    workbook never saved (written by a program that does not calculate); one row per cell."""
    book = _open_workbook(source, data_only=False)
    found = []
    try:
        sheet = book[source.sheet]
        it = sheet.iter_rows(min_row=source.header_row, values_only=True)
        header = _header_names([str(h) if h is not None else "" for h in next(it)])
        position = {field_name: header.index(col) for field_name, col in columns.items() if col in header}
        wanted = set(rows)
        for number, values in enumerate(it, start=source.header_row + 1):
            if number not in wanted:
                continue
            for field_name, j in position.items():
                v = values[j] if j < len(values) else None
                if isinstance(v, str) and v.startswith("="):
                    found.append({"_row": number, "field": field_name, "formula": v})
    finally:
        book.close()
    return pd.DataFrame(found, columns=["_row", "field", "formula"])


def _read_geo(source: TableSource, log: IssueLog, ctx: Context) -> tuple[pd.DataFrame, str | None, dict[str, int]]:
    import warnings

    import pyogrio

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
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
    for w in caught:  # GDAL's own findings (a geometry it could not read, say): row 0 is the whole file
        log.add("warning", partner=ctx.partner, table=ctx.table, file=ctx.file, rows=np.array([0]),
                column="(file)", values="", reason=f"GDAL: {str(w.message)[:300]}", field_name="file")
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    names = [str(c).strip() for c in frame.columns]
    _check_mapped_unique(source, names, "the properties")
    frame.columns = names
    frame.insert(0, "_row", np.arange(len(frame)) + 1)
    frame.insert(1, "_end", frame["_row"].to_numpy())
    frame["_geometry"] = gdf.geometry.values
    return frame, crs, {"lines": len(frame), "header": 0, "blank": 0}


def _wanted_columns(source: TableSource) -> dict[str, str]:
    """Every column of the file the description reads, as column -> what it is for."""
    wanted = {}
    for field_name, spec in source.fields.items():
        for column in spec.columns:
            wanted.setdefault(column, field_name)
    loc = source.location
    if loc is not None and loc.method == "xy":
        wanted.setdefault(loc.x, "location (x)")
        wanted.setdefault(loc.y, "location (y)")
    return wanted


def _blank_cells(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def _joined(frame: pd.DataFrame, columns: tuple[str, ...], sep: str) -> pd.Series:
    """Several columns' trimmed, non-blank texts joined with ``sep`` (None when all are blank)."""
    parts = [text_cells(frame[c]) for c in columns]
    out = []
    for values in zip(*parts):
        kept = [v for v in values if v is not None]
        out.append(sep.join(kept) if kept else None)
    return pd.Series(out, index=frame.index, dtype=object)


def read_table(source: TableSource, log: IssueLog, ctx: Context) -> RawTable:
    """Read one partner file and keep the fields its description maps.

    Parameters
    ----------
    source
        The file's description.
    log, ctx
        Where row-level findings of the reading itself go (multi-line CSV
        records, unbalanced quotes, over-long records).

    Returns
    -------
    RawTable
        Raw values under canonical field names; blank rows dropped (and
        counted in ``lines``).

    Raises
    ------
    SourceError
        The file is missing, not a regular file, unreadable or undecodable, the
        sheet or layer does not exist, or a mapped column is missing from the
        header or appears in it twice.
    """
    if not source.file.exists():
        raise _fail(source, "file not found (paths in a sources file are relative to its own folder)")
    if not source.file.is_file():
        raise _fail(source, "is not a regular file")
    crs = None
    if source.format == "csv":
        frame, lines = _read_csv(source, log, ctx)
    elif source.format == "xlsx":
        frame, lines = _read_xlsx(source)
    else:
        frame, crs, lines = _read_geo(source, log, ctx)

    header_at = f"row {source.header_row}" if source.format in ("csv", "xlsx") else "the properties"
    for column, purpose in _wanted_columns(source).items():
        if column not in frame.columns:
            raise SourceError(
                source.file,
                f"the column for {purpose} is missing from the header at {header_at}; "
                f"columns found: {[c for c in frame.columns if not str(c).startswith('_')]}",
                column=column,
            )
    out = pd.DataFrame({"_row": frame["_row"].to_numpy()}, index=frame.index)
    for field_name, spec in source.fields.items():
        if spec.value is not None:
            out[field_name] = spec.value
        elif spec.absent:
            out[field_name] = None
        elif len(spec.columns) == 1:
            out[field_name] = frame[spec.columns[0]].to_numpy()
        else:
            out[field_name] = _joined(frame, spec.columns, spec.sep).to_numpy()
    loc = source.location
    if loc is not None and loc.method == "xy":
        out["_x"], out["_y"] = frame[loc.x].to_numpy(), frame[loc.y].to_numpy()
    if "_geometry" in frame:
        out["_geometry"] = frame["_geometry"].to_numpy()
    read_from = [f for f, spec in source.fields.items() if spec.columns] + [c for c in ("_x", "_y") if c in out]
    blank = out[read_from].apply(_blank_cells).all(axis=1) if read_from else pd.Series(False, index=out.index)
    if "_geometry" in out:
        blank &= out["_geometry"].isna()
    span = (frame["_end"] - frame["_row"] + 1).to_numpy()
    lines["blank"] += int(span[blank.to_numpy()].sum())
    lines["records"] = int((~blank).sum())
    lines["continuation"] = int(span[~blank.to_numpy()].sum()) - lines["records"]
    kept = out.loc[~blank].reset_index(drop=True)
    formulas = None
    if source.format == "xlsx" and len(kept) and _has_formulas(source.file):
        single = {f: spec.columns[0] for f, spec in source.fields.items() if len(spec.columns) == 1}
        blank_mapped = kept[list(single)].apply(_blank_cells).any(axis=1) if single else pd.Series(False)
        if blank_mapped.any():
            formulas = _formula_cells(source, single, kept.loc[blank_mapped, "_row"])
    return RawTable(frame=kept, file=source.file, crs=crs, lines=lines, formula_cells=formulas)


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


def text_cells(raw: pd.Series) -> pd.Series:
    """Cells as trimmed text in an object Series, blanks as None."""
    return pd.Series([_cell(v) for v in raw], index=raw.index, dtype=object)


def parse_area(raw: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Areas in m² from cells like ``1161``, ``12,500 sq ft`` or ``1161 m2``.

    A unit written in the cell wins; bare numbers are in ``unit`` (m2 | sqft).
    """
    text = text_cells(raw)
    blank = text.isna()
    parts = text.fillna("").str.replace(",", "", regex=False).str.extract(_AREA_RE)
    number = pd.to_numeric(parts["num"], errors="coerce")
    cell_unit = parts["unit"].fillna("").str.lower()
    in_sqft = cell_unit.str.contains("f") | ((cell_unit == "") & (unit == "sqft"))
    value = number.where(~in_sqft, number * SQFT_TO_M2)
    return value.astype(float), ~blank & ~np.isfinite(value.astype(float))


def parse_money(raw: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Pounds from cells like ``£1,234,000``, ``450k``, ``£1.2m`` or ``(1,234)``.

    A ``k``/``m``/``bn`` written in the cell wins; bare numbers are in ``unit``.
    """
    text = text_cells(raw)
    blank = text.isna()
    s = text.fillna("").str.replace(r"[£,\s]|GBP", "", regex=True, case=False)
    negative = s.str.match(r"^\(.*\)$")
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    parts = s.str.extract(_MONEY_RE)
    number = pd.to_numeric(parts["num"], errors="coerce")
    mult = parts["mult"].str.lower().map({"k": 1e3, "m": 1e6, "bn": 1e9})
    scale = mult.fillna(_MONEY_SCALE[unit])
    value = (number * scale * np.where(negative, -1.0, 1.0)).astype(float)
    return value, ~blank & ~np.isfinite(value)


def parse_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Plain finite numbers, thousands separators allowed (``nan``, ``inf`` and overflowing values are unreadable)."""
    text = text_cells(raw)
    number = pd.to_numeric(text.fillna("").str.replace(",", "", regex=False), errors="coerce").astype(float)
    return number, text.notna() & ~np.isfinite(number)


def parse_date(raw: pd.Series, date_format: str) -> tuple[pd.Series, pd.Series]:
    """Dates from Excel date cells or text in ``date_format``."""
    is_date = raw.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
    text = text_cells(raw.where(~is_date, None))
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    native = pd.to_datetime(raw.where(is_date, None), errors="coerce")
    value = native.where(is_date, parsed).dt.normalize()
    return value, text.notna() & parsed.isna() & ~is_date


def parse_flag(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans from yes/no words; blank is false."""
    text = text_cells(raw).fillna("").str.lower()
    true, false = text.isin(schema.TRUE_WORDS), text.isin(schema.FALSE_WORDS)
    return true, ~(true | false)


def parse_vocab(raw: pd.Series, vocab: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Canonical codes, matched case-insensitively."""
    text = text_cells(raw)
    lookup = {v.lower(): v for v in vocab}
    value = text.str.lower().map(lookup)
    return value.astype(object), text.notna() & value.isna()


def parse_postcode(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UK postcodes normalised to ``OUT IN`` form (``CH1 2HS``)."""
    squashed = text_cells(raw).str.upper().str.replace(r"\s+", "", regex=True)
    ok = squashed.str.match(_POSTCODE_RE).fillna(False).astype(bool)
    value = (squashed.str[:-3] + " " + squashed.str[-3:]).where(ok)
    return value.astype(object), squashed.notna() & ~ok


def parse_uprn(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Unique Property Reference Numbers: 1 to 12 digits, kept as text."""
    text = text_cells(raw)
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
    pairs = text_cells(raw).map(one)
    return pairs.map(lambda p: p[0]).astype(object), pairs.map(lambda p: p[1]).astype(bool)


def _expected(kind: str, field_name: str, source: TableSource) -> str:
    vocab = schema.VOCABULARIES.get(field_name) or (schema.SERVICES if kind == "list" else ())
    hints = {
        "area": f"expected a floor area such as 1,250 or '12,500 sq ft' (bare numbers in {source.area_unit})",
        "money": f"expected an amount such as £1,234,000 or £450k (bare numbers in {source.money_unit})",
        "number": "expected a finite number",
        "date": f"expected a date written as {source.date_format}",
        "flag": "expected yes/no (or a mapping in values." + field_name + ")",
        "postcode": "expected a UK postcode such as CH1 2HS",
        "uprn": "expected a UPRN of up to 12 digits",
        "vocab": f"expected one of {list(vocab)} or a mapping in values.{field_name}",
        "list": f"expected codes from {list(vocab)} separated by ';'",
    }
    return hints.get(kind, "expected text")


def _parse(kind: str, field_name: str, cells: pd.Series, source: TableSource) -> tuple[pd.Series, pd.Series]:
    """One field's cells parsed by its kind: (typed values, mask of unreadable cells)."""
    if kind == "area":
        return parse_area(cells, source.area_unit)
    if kind == "money":
        return parse_money(cells, source.money_unit)
    if kind == "number":
        return parse_number(cells)
    if kind == "date":
        return parse_date(cells, source.date_format)
    if kind == "flag":
        return parse_flag(cells)
    if kind == "vocab":
        return parse_vocab(cells, schema.VOCABULARIES[field_name])
    if kind == "postcode":
        return parse_postcode(cells)
    if kind == "uprn":
        return parse_uprn(cells)
    if kind == "list":
        return parse_list(cells, schema.SERVICES)
    return text_cells(cells), pd.Series(False, index=cells.index)


#: Characters that never belong in a register's text: C0 controls other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_table(raw: RawTable, source: TableSource, log: IssueLog, ctx: Context,
                fields: dict[str, str], required: tuple[str, ...]) -> pd.DataFrame:
    """Typed canonical fields from raw values; unreadable or missing values are rejected.

    Parameters
    ----------
    raw
        Output of :func:`read_table`.
    source
        The file's description (units, date format, value mappings, what a blank means).
    log, ctx
        Where rejects go, and how to name the file and columns in them.
    fields, required
        ``schema.ASSET_FIELDS``/``ASSET_REQUIRED`` or the occupier equivalents.

    Returns
    -------
    pandas.DataFrame
        Every canonical field in ``fields`` (unmapped ones blank), plus ``_row``,
        any ``_x``, ``_y``, ``_geometry``, and each estimable field's flag
        (``running_cost_estimated``: True where the field was blank and the
        description asks for an estimate).
        Rows are not dropped here.
    """
    frame = raw.frame
    out = pd.DataFrame({"_row": frame["_row"]})
    formula = raw.formula_cells if raw.formula_cells is not None and len(raw.formula_cells) else None
    for field_name, kind in fields.items():
        spec = source.fields.get(field_name)
        if spec is None:
            out[field_name] = {"flag": False, "area": np.nan, "money": np.nan,
                               "number": np.nan, "date": pd.NaT}.get(kind, None)
            continue
        raw_values = frame[field_name]
        cells = raw_values
        text = text_cells(cells)
        control = text.fillna("").str.contains(_CONTROL)
        reject_where(log, ctx, out, control, field_name,
                     "contains a control character (such as NUL): is the file damaged or binary?",
                     values=text.fillna("").str.replace(_CONTROL, "?", regex=True))
        if formula is not None:
            here = formula[formula["field"] == field_name].set_index("_row")["formula"]
            has_formula = out["_row"].isin(here.index) & text.isna()
            reject_where(log, ctx, out, has_formula, field_name,
                         "is a formula whose value the workbook never saved (it was written by a program that "
                         "does not calculate); open and save it in Excel, or paste the values",
                         values=out["_row"].map(here))
        estimate = spec.estimated_when_blank and field_name in ESTIMABLE_FIELDS
        if spec.blank is not None and spec.blank != ESTIMATE:
            cells = cells.where(text.notna(), spec.blank)
            text = text_cells(cells)
        mapping = source.values.get(field_name)
        if mapping and kind != "list":
            key = text.str.lower()
            cells = key.map(mapping).where(key.isin(mapping.keys()), cells)
        elif mapping:
            cells = text.map(lambda c: None if c is None else ";".join(
                mapping.get(t.strip().lower(), t.strip()) for t in re.split(r"[;,]", c)))
        value, bad = _parse(kind, field_name, cells, source)
        if kind not in ("flag",):
            value = value.where(~control & ~bad)  # an unreadable value is no value (never inf or nan downstream)
        bad = bad & ~control
        out[field_name] = value
        if kind in ("postcode", "uprn") and field_name not in required:
            # Only fatal where the row is located by it; that is decided in geocode.
            warn_where(log, ctx, out, bad, field_name,
                       _expected(kind, field_name, source) + "; ignored", values=raw_values)
        else:
            reject_where(log, ctx, out, bad, field_name, _expected(kind, field_name, source),
                         values=raw_values)
        if kind in ("area", "money", "number") and field_name in schema.FIELD_MAXIMUM:
            limit = schema.FIELD_MAXIMUM[field_name]
            reject_where(log, ctx, out, value > limit, field_name,
                         f"{_plain(limit)} is the most this can plausibly be ({schema.FIELD_MAXIMUM_WHY[field_name]}); "
                         "check the units", values=raw_values)
        if estimate:
            out[ESTIMABLE_FIELDS[field_name]] = value.isna() & ~bad & ~control
            warn_where(log, ctx, out, out[ESTIMABLE_FIELDS[field_name]], field_name,
                       "not given by the partner; estimated from the scenario's benchmark rate for the asset "
                       "type when planning", values=raw_values)
        elif field_name in required:
            missing = value.isna() & ~bad & ~control
            reject_where(log, ctx, out, missing, field_name, "required value is blank", values=raw_values)
    for name, flag in ESTIMABLE_FIELDS.items():
        if name in fields and flag not in out:
            out[flag] = False
    for extra in ("_x", "_y", "_geometry"):
        if extra in frame:
            out[extra] = frame[extra]
    return out


def _plain(number: float) -> str:
    return f"{number:,.0f}"
