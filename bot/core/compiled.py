"""Knowledge kept compiled between starts, so a large knowledge loads in a second, not in many.

Reading, validating and indexing 10,000 entries takes seconds; unpickling the result takes a fraction of
that. After a load that validated, the Knowledge (index included) is written to one file in FOLDER
(the command line puts it beside the SQLite file's default place), named after the knowledge folder
and the moderators' edits in force, with a header holding everything it depends on: the files'
fingerprint (path, mtime, size, inode of each), the edits' text, the limits in force, and a digest of
this package's code and data. The KEEP newest are kept. A load whose header differs in anything reads
the files again; nothing is ever answered from knowledge the files no longer say.

Trust: like Python's own __pycache__, the cache is code the process will run, so it is read only from a
folder and a file owned by this user that no one else may write, and written with permissions 0600. A
cache that cannot be read or written is ignored (the knowledge is read from the files, as without it).
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
import types
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.knowledge import Knowledge

log = logging.getLogger("mle_advisor.compiled")

FOLDER = ".knowledge-cache"
KEEP = 3
"""Compiled knowledges kept in the folder (the newest): the one in force and a few recent edits'."""
_folder: Path | None = None


def use_folder(folder: Path | None) -> None:
    """Where knowledge is kept compiled for this process (None: nowhere); the command line sets it from
    the settings (beside the SQLite file's default place)."""
    global _folder
    _folder = folder


def folder() -> Path | None:
    return _folder


def _proxy(mapping: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(mapping)


copyreg.pickle(types.MappingProxyType, lambda m: (_proxy, (dict(m),)))


PACKAGE = Path(__file__).resolve().parent


@cache
def code_digest(package: Path = PACKAGE) -> str:
    """What the compiled form depends on besides the files: this package's code and data (each file's name,
    size, time and inode, as for the knowledge files: reading them all was 2% of a one-shot ask), and
    Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".txt", ".gz") and path.is_file():
            info = path.stat()
            name = path.relative_to(package).as_posix()
            digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\0".encode())
    return digest.hexdigest()


def texts_digest(replace: Mapping[str, str | None] | None) -> str:
    """What the texts standing in for files (the moderators' edits) say, in a few bytes."""
    digest = hashlib.sha256()
    for rel, text in sorted((replace or {}).items()):
        digest.update(f"{rel}\0{text is None}\0{text or ''}\0".encode())
    return digest.hexdigest()


def _file(folder: Path, directory: Path, overlay: Path | None, texts: str) -> Path:
    name = hashlib.sha256(f"{directory.resolve()}\0{overlay.resolve() if overlay else ''}\0{texts}".encode()).hexdigest()[:20]
    return folder / f"{name}.pickle"


def _header(knowledge_print: tuple[Any, ...], limits: Any, texts: str) -> tuple[Any, ...]:
    return ("mle-advisor compiled knowledge 2", code_digest(), knowledge_print, limits, texts)


def _trusted(path: Path) -> bool:
    """Owned by this user and writable by no one else (the file and its folder)."""
    for item in (path.parent, path):
        info = item.lstat()
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            return False
    return True


def load(folder: Path, directory: Path, overlay: Path | None, knowledge_print: tuple[Any, ...], limits: Any,
         texts: str) -> Knowledge | None:
    """The compiled knowledge for these files as they are now (and these edits), or None."""
    path = _file(folder, directory, overlay, texts)
    try:
        if not path.is_file() or not _trusted(path):
            return None
        with path.open("rb") as stream:
            if pickle.load(stream) != _header(knowledge_print, limits, texts):
                return None
            enabled = gc.isenabled()
            gc.disable()  # millions of objects, none of them garbage: collecting meanwhile only costs time
            try:
                return pickle.load(stream)
            finally:
                if enabled:
                    gc.enable()
    except Exception as exc:  # a damaged or foreign cache: read the files instead
        log.info("compiled knowledge in %s not used (%s)", path, exc)
        return None


def store(folder: Path, knowledge: Knowledge, limits: Any, texts: str) -> None:
    """Keep `knowledge` for the next load (quietly does nothing when the folder can't be written)."""
    path = _file(folder, knowledge.directory, knowledge.overlay, texts)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as stream:
                pickle.dump(_header(knowledge.fingerprint, limits, texts), stream, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(knowledge, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
            for old in sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
                old.unlink(missing_ok=True)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except Exception as exc:
        log.info("compiled knowledge not kept in %s (%s)", folder, exc)
