"""Writing outputs so that a failed or killed run leaves nothing half-written.

Two mechanisms:

* :func:`atomic_path` for one file: write to a temporary name beside it, then
  move it into place (``os.replace``, atomic on POSIX and Windows).
* :class:`OutputFolder` for a run's folder: every file is written into a hidden
  staging folder beside the target, which then replaces the target in one step
  (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames with recovery
  on the next run). A lock beside the target refuses a second run into the same
  folder. A kill at any moment leaves the old complete folder or the new one.

Every run folder carries ``estate-manifest.json``: the command that wrote it and
each file with its class, ``restricted`` (under ``restricted/``: may hold
sensitive sites' true locations) or ``shareable``. See ``docs/outputs.md``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from estate._errors import EstateError

if TYPE_CHECKING:
    import pandas as pd

#: The folder, inside every run folder, of files that may hold sensitive sites' true locations.
RESTRICTED = "restricted"
#: The run folder's list of its files and their classes.
MANIFEST = "estate-manifest.json"
#: The names an earlier version of estate (before manifests) wrote: a folder holding these and nothing
#: else may be replaced. Patterns are matched against each file's path in the folder.
_LEGACY_NAMES = ("plan.gpkg", "plan_summary.json", "programme.xlsx", "programme_*.csv", "access.parquet",
                 "access_zones.csv", "access_summary.csv", "zones_rejects.csv", "zones_warnings.csv",
                 "register.gpkg", "rejects.csv", "warnings.csv", "merges.csv", "report.html",
                 "maps/register.html", "maps/plan.html", "maps/access.html",
                 "open_sites.csv", "assignments.csv", "summary.json")
#: A folder an earlier version wrote holds one of these sets of files (its command's signature), beside
#: names of :data:`_LEGACY_NAMES` only.
_LEGACY_SIGNATURES = (("plan.gpkg", "plan_summary.json", "programme.xlsx"),  # estate plan
                      ("access.parquet", "access_summary.csv", "zones_rejects.csv"),  # estate access
                      ("register.gpkg", "rejects.csv", "warnings.csv", "merges.csv"),  # estate register
                      ("open_sites.csv", "assignments.csv", "summary.json"))  # estate solve


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    The parent folder is created. If the body raises, the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise EstateError(f"{path} is a folder; give the name of the file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def require_file(path: str | Path, what: str) -> None:
    """Raise :class:`~estate._errors.SourceError` unless ``path`` is an existing regular file
    (a folder, device, pipe or socket is never read)."""
    from estate._errors import SourceError

    path = Path(path)
    if not path.exists():
        raise SourceError(path, f"{what}: file not found")
    if not path.is_file():
        raise SourceError(path, f"{what}: not a regular file")


# --------------------------------------------------------------------------
# Spreadsheet-safe CSV
# --------------------------------------------------------------------------

#: Leading characters a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text: a leading ``= + - @``, tab or carriage return gets a ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(frame: "pd.DataFrame", path: str | Path) -> None:
    """Write ``frame`` as CSV (no index) with every text cell neutralised (:func:`neutralise`).

    Numbers stay numbers: only cells holding text are changed, so ``-5`` read
    from a partner's file as text is written ``'-5`` while the number −5 is not.
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    out.columns = [neutralise(str(c)) for c in out.columns]
    # CRLF line ends (RFC 4180), so a value holding a carriage return is quoted, not split into two rows.
    out.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


# --------------------------------------------------------------------------
# Run folders
# --------------------------------------------------------------------------


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot swap
        return False
    raise OSError(err, os.strerror(err), str(a))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` (symbolic links included), as paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def manifest_files(folder: Path) -> dict[str, str] | None:
    """The files a folder's manifest lists, with their classes (None without a readable manifest)."""
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    return files if isinstance(files, dict) else None


def foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that estate did not write: not in its manifest, or, for a folder an earlier
    version wrote (no manifest, but every file of one command's signature), not of a name it wrote.
    An empty list means the folder may be replaced."""
    from pathlib import PurePosixPath

    listed = manifest_files(folder)
    present = [f for f in _files(folder) if f != MANIFEST]
    if listed is not None:
        return [f for f in present if f not in listed]
    if not any(all(name in present for name in signature) for signature in _LEGACY_SIGNATURES):
        return present  # not a folder estate wrote: every file in it is someone else's
    # PurePosixPath.match compares path parts, so "maps/plan.html" never matches "maps/2024/plan.html".
    return [f for f in present if not any(PurePosixPath(f).match(p) and f.count("/") == p.count("/")
                                          for p in _LEGACY_NAMES)]


def _inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` when ``rel`` is a plain relative path that stays inside ``root``; else None."""
    path = Path(rel)
    if path.is_absolute() or ".." in path.parts or not rel:
        return None
    full = (root / path).resolve()
    return full if full == root or root in full.parents else None


def _busy_ancestor(target: Path) -> Path | None:
    """An ancestor of ``target`` that another estate run is writing right now (its lock is held)."""
    try:
        import fcntl
    except ImportError:
        return None
    for parent in target.parents:
        lock = parent.parent / f".{parent.name}.lock"
        if not lock.is_file():
            continue
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return parent
        finally:
            os.close(fd)
    return None


def check_output_folder(target: str | Path) -> None:
    """Raise :class:`~estate._errors.EstateError` unless ``target`` can take a run's outputs.

    It must not be a file, nor lie inside another run folder, nor hold files estate did not write
    (those are never deleted: the folder is refused, naming them), and it must be possible to write
    where it is. Commands call it before their long work, so a wrong ``--out`` fails at once; a folder
    rewritten in place (``estate finance``) is checked like any other.
    """
    t = _resolved(target)
    if any(ord(c) < 32 for c in str(t)):
        raise EstateError(f"{str(t)!r}: an output folder's name may not hold a line break or other control character")
    if t.exists() and not t.is_dir():
        raise EstateError(f"{t} is a file; the output must be a folder (give a folder name with --out)")
    for parent in t.parents:
        if (parent / MANIFEST).is_file():
            raise EstateError(f"{t} is inside the run folder {parent}; write a run to a folder of its own")
    busy = _busy_ancestor(t)
    if busy is not None:
        raise FolderBusy(f"{t} is inside {busy}, which another estate run is writing; write a run to a folder "
                         "of its own")
    if t.is_dir() and any(t.iterdir()):
        foreign = foreign_files(t)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise EstateError(f"{t} holds files estate did not write ({shown}); it is never replaced. Move them, "
                              "or choose a new or empty folder with --out")
    existing = next((p for p in [t.parent, *t.parent.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise EstateError(f"{t}: {existing} is a file, so no folder can be made below it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".estate-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise EstateError(f"{t}: cannot write in {existing} ({exc.strerror}); choose another --out") from None


def _resolved(path: str | Path) -> Path:
    """``path`` made absolute with symbolic links followed, so a linked output folder is written where it points."""
    return Path(os.path.realpath(os.path.abspath(path)))


class FolderBusy(EstateError):
    """Another estate run is writing the same output folder."""


class OutputFolder:
    """All-or-nothing writing of a run's folder (see the module docstring).

    Use as a context manager; it yields the staging folder to write into. On
    success the staging folder replaces ``target`` in one step; on any failure
    (an error, Ctrl-C, a termination signal) it is removed and ``target`` is
    left as it was. ``start_from`` copies an existing folder into the staging
    folder first, for commands that change some files of a run folder.

    Raises
    ------
    EstateError
        ``target`` is a file, or an existing folder estate did not write (it is
        never replaced), or another run holds its lock (:class:`FolderBusy`).
    """

    def __init__(self, target: str | Path, *, command: str, start_from: str | Path | None = None) -> None:
        self.target = _resolved(target)
        self.command = command
        self.start_from = _resolved(start_from) if start_from is not None else None
        self.stage: Path | None = None
        self._lock_fd: int | None = None

    # -- the lock ---------------------------------------------------------
    @property
    def _lock_path(self) -> Path:
        return self.target.parent / f".{self.target.name}.lock"

    def _acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; runs are not serialised
            return
        path = self._lock_path
        for _ in range(20):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
                os.close(fd)
                raise FolderBusy(f"{self.target} is being written by another estate run ({holder or 'unknown'}); "
                                 "wait for it to finish, or write somewhere else with --out") from None
            try:  # the file may have been unlinked by the run that held it: lock the live one
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
                self._lock_fd = fd
                return
            os.close(fd)
        raise FolderBusy(f"{self.target}: could not take its lock file {path}")

    def _release(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.unlink(self._lock_path)
        except FileNotFoundError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- staging ----------------------------------------------------------
    def _leftovers(self, kind: str) -> list[Path]:
        return sorted(self.target.parent.glob(f".{self.target.name}.{kind}-*"))

    def _recover(self) -> None:
        """Finish or undo what a killed run left (we hold the lock, so no one else is writing)."""
        olds = self._leftovers("old")
        if not self.target.exists() and olds:  # killed between the two renames of the fallback swap
            os.rename(olds[-1], self.target)
            olds = olds[:-1]
        for path in self._leftovers("partial") + olds:
            shutil.rmtree(path, ignore_errors=True)

    def __enter__(self) -> Path:
        t = self.target
        check_output_folder(t)
        t.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            self._recover()
            stage = Path(tempfile.mkdtemp(prefix=f".{t.name}.partial-{os.getpid()}-", dir=t.parent))
            self.stage = stage
            os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private; the run folder follows the umask
            if self.start_from is not None:  # only the files estate wrote there, as its manifest lists them
                for rel in manifest_files(self.start_from) or {}:
                    source, copy = _inside(self.start_from, rel), _inside(stage, rel)
                    if source is None or copy is None:
                        raise EstateError(f"{self.start_from / MANIFEST}: lists {rel!r}, which is not a file of "
                                          "the folder; is it a manifest estate wrote?")
                    if source.is_file():
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(source, copy)
            (stage / RESTRICTED).mkdir(exist_ok=True)
        except BaseException:
            self._abort()
            raise
        return stage

    def _abort(self) -> None:
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None
        self._release()

    def _commit(self) -> None:
        stage, target = self.stage, self.target
        write_manifest(stage, self.command)
        if target.is_dir():  # files saved into the folder while the run was working are never deleted
            foreign = foreign_files(target)
            if foreign:
                shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise EstateError(f"{target}: files were added to it while the run was working ({shown}); "
                                  "nothing was replaced. Move them and run again")
        if not target.exists():
            os.rename(stage, target)
        elif not _exchange(stage, target):
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            os.rename(target, old)
            os.rename(stage, target)
            stage = old
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)  # the old folder, swapped out
        self.stage = None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self._commit()
        finally:
            self._abort()


def write_manifest(folder: Path, command: str) -> Path:
    """Write ``estate-manifest.json``: every file of ``folder`` with its class."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("estate")
    except PackageNotFoundError:
        release = "unknown"
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(folder).as_posix()
        files[rel] = "restricted" if rel.split("/", 1)[0] == RESTRICTED else "shareable"
    manifest = {"written_by": f"estate {release}", "command": command,  # file names only: no local folders
                "classes": {"restricted": f"files under {RESTRICTED}/: may hold sensitive sites' true locations; "
                                          "for the estates team only",
                            "shareable": "safe to share: nothing in them places a sensitive site within 1 km"},
                "files": files}
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def shareable_files(folder: str | Path) -> list[Path]:
    """The shareable files of a run folder, from its manifest."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return [folder / rel for rel, kind in manifest["files"].items() if kind == "shareable"]


#: Text that marks an HTML file estate wrote (the generator tag; in earlier versions, the vendored-library
#: comments of a map or the report's byline).
_HTML_MARKS = (b'name="generator" content="estate"', b"estate vendored:", b"by estate ")
#: The generator tag every map and report carries.
GENERATOR_TAG = '<meta name="generator" content="estate">'


def check_html_target(path: str | Path) -> None:
    """Raise :class:`~estate._errors.EstateError` unless estate may write the map or report ``path``.

    It must be an ``.html`` file; inside a run folder, one that folder's manifest lists (a run's own map or
    report, redrawn); elsewhere, a new file or one estate wrote. Nothing else is ever overwritten.
    """
    path = _resolved(path)
    if path.suffix.lower() != ".html":
        raise EstateError(f"{path}: maps and reports are HTML files; give a name ending in .html")
    if path.is_dir():
        raise EstateError(f"{path} is a folder; give the name of the HTML file to write")
    for parent in path.parents:
        if (parent / MANIFEST).is_file():
            listed = manifest_files(parent) or {}
            if path.relative_to(parent).as_posix() not in listed:
                raise EstateError(f"{path} is inside the run folder {parent}, which it is not part of; write it "
                                  "elsewhere")
            return
    if path.exists():
        try:
            with open(path, "rb") as fh:
                head = fh.read(262_144)
        except OSError as exc:
            raise EstateError(f"{path}: cannot be read ({exc.strerror})") from None
        if not any(mark in head for mark in _HTML_MARKS):
            raise EstateError(f"{path} exists and is not a map or report estate wrote; it is never replaced. "
                              "Give another file name")
