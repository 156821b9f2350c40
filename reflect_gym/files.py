"""The one atomic writer of the project: files and folders, which replaces only what the project wrote.

Every file and folder the project writes (env caches, warm-up data, policies, adapters, checkpoints, metrics,
results) goes through :func:`atomic_write` or :func:`atomic_directory`: the new content is written beside its
final place and moved there with one ``os.replace``, so readers see the old version or the new one, never a
part, and an interrupted write leaves at most a hidden temporary sibling (``.<name>.*.tmp``), which the next
write of the same path removes.

Neither replaces something the project did not write. A folder it writes holds a marker file,
:data:`MARKER`; what exists at a target path is replaced only when it is such a folder or lies inside one,
when it has the layout of what is being written (:func:`same_layout`: a JSON object with the same keys, JSON
lines whose first record has the same keys, a text with the same first line, an image of the same format),
when the caller recognizes it (``owned``), or when the caller says ``overwrite=True`` (the user's
``--overwrite``). Anything else raises :class:`ForeignPathError`, which names the path and the fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

#: The file that marks a folder as written by this project.
MARKER = ".reflect-rl"


class ForeignPathError(FileExistsError):
    """A write would replace a file or folder that this project did not write."""


def is_owned(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding :data:`MARKER`, or lies inside one."""
    path = Path(path).absolute()
    if path.is_dir() and (path / MARKER).is_file():
        return True
    return any((parent / MARKER).is_file() for parent in path.parents)


_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"%PDF-")


def _json_keys(text: bytes) -> frozenset[str] | None:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return frozenset(value) if isinstance(value, dict) else None


def same_layout(existing: str | os.PathLike[str], data: bytes | str) -> bool:
    """Whether file ``existing`` looks like an earlier version of ``data``: both JSON objects with the same keys,
    both JSON lines whose first records have the same keys, both texts with the same first line, or both images
    or documents of the same format. Only the first 1 MiB of ``existing`` is read."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(existing)
    if not path.is_file():
        return False
    with open(path, "rb") as file:
        head = file.read(1 << 20)
    for signature in _SIGNATURES:
        if raw.startswith(signature):
            return head.startswith(signature)
    keys, old_keys = _json_keys(raw), _json_keys(head)
    if keys is not None and old_keys is not None:
        return keys == old_keys
    first, old_first = raw.split(b"\n", 1)[0], head.split(b"\n", 1)[0]
    keys, old_keys = _json_keys(first), _json_keys(old_first)
    if keys is not None or old_keys is not None:
        return keys == old_keys
    return bool(first.strip()) and first == old_first


def check_replaceable(
    path: str | os.PathLike[str], *, overwrite: bool = False, owned: Callable[[Path], bool] | None = None
) -> None:
    """Raise :class:`ForeignPathError` unless ``path`` is absent, the project's, recognized by ``owned``, or
    ``overwrite`` is set."""
    path = Path(path)
    if not os.path.lexists(path) or overwrite or is_owned(path) or (owned is not None and owned(path)):
        return
    kind = "folder" if path.is_dir() else "file"
    raise ForeignPathError(
        f"{path} is an existing {kind} that reflect-rl did not write; it will not replace it. Choose another "
        "path, or pass --overwrite (overwrite=True) to replace it."
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


# A temporary sibling of ``name``: ``.<name>.<pid>-<token>.tmp``, or ``.<name>.old<pid>-<token>.tmp`` for the old
# version moved aside.
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:old)?(?P<pid>[0-9]+)-[^.]*\.tmp")


def _dead_writer(leftover: Path, name: str | None = None) -> bool:
    """Whether ``leftover`` is a temporary sibling (of ``name``, if given) whose writing process has died."""
    match = _LEFTOVER.fullmatch(leftover.name)
    if match is None or (name is not None and match["name"] != name):
        return False
    return not _alive(int(match["pid"]))


def _remove(leftover: Path) -> None:
    if leftover.is_dir() and not leftover.is_symlink():
        shutil.rmtree(leftover, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _clean_leftovers(path: Path) -> None:
    """Remove temporary siblings of ``path`` left by writes whose process has died (killed mid-write)."""
    if not path.parent.is_dir():
        return
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        if _dead_writer(leftover, path.name):
            _remove(leftover)


def remove_leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files and folders that writes killed mid-way left in ``folder`` (those of live
    processes stay); return what was removed."""
    folder = Path(folder)
    if not folder.is_dir() or not is_owned(folder):
        return []
    removed = []
    for leftover in folder.glob(".*.tmp"):
        if _dead_writer(leftover):
            _remove(leftover)
            removed.append(leftover)
    return removed


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    overwrite: bool = False,
    owned: Callable[[Path], bool] | None = None,
) -> None:
    """Write ``data`` (``str`` as UTF-8) to file ``path`` so that readers see the old file or the new one.

    The data goes to a temporary file in the same folder (created with the usual permissions, unlike
    ``tempfile``'s private ones), is flushed to disk, then ``os.replace``-d over ``path``. Missing parent
    folders are created.

    Args:
        path: The file to write.
        data: Its new content.
        overwrite: Replace an existing file even if the project did not write it.
        owned: Recognizes an existing file as one of the writer's own; default :func:`same_layout` with ``data``.

    Raises:
        ForeignPathError: ``path`` exists and is not the project's (see the module docstring).
    """
    path = Path(path)
    check_replaceable(path, overwrite=overwrite, owned=owned or (lambda existing: same_layout(existing, data)))
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "xb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_directory(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    owned: Callable[[Path], bool] | None = None,
    keep_existing: bool = False,
) -> Iterator[Path]:
    """Yield a temporary folder that replaces folder ``path`` when the block exits without an error.

    The folder gets the project's :data:`MARKER`. An existing ``path`` is moved aside first and deleted after
    the swap; on an error the temporary folder is removed and ``path`` is left as it was.

    Args:
        path: The folder to write.
        overwrite: Replace an existing file or folder even if the project did not write it.
        owned: Recognizes an existing folder as the writer's own (for example by its layout).
        keep_existing: For caches built by several processes at once: when ``path`` appears while the block
            runs (another process built it first), keep that one and drop this one.

    Raises:
        ForeignPathError: ``path`` exists and is not the project's (see the module docstring).
    """
    path = Path(path)
    check_replaceable(path, overwrite=overwrite, owned=owned)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(path)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp"))
    try:
        (temporary / MARKER).write_text(
            "written by reflect-rl; it replaces this folder only where it finds this file\n"
        )
        yield temporary
        if keep_existing and path.is_dir():
            return
        old = None
        if os.path.lexists(path):
            old = path.with_name(f".{path.name}.old{os.getpid()}-{secrets.token_hex(4)}.tmp")
            os.replace(path, old)
        try:
            os.replace(temporary, path)
        except OSError:
            if keep_existing and path.is_dir():  # another process published it between the check and the move
                return
            raise
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink()
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


def make_folder(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Create folder ``path`` (and its parents) as the project's, with :data:`MARKER`; an existing folder is
    accepted when it is the project's or empty.

    Raises:
        ForeignPathError: ``path`` is a file, or a non-empty folder the project did not write, and ``overwrite``
            is not set.
    """
    path = Path(path)
    if path.is_dir() and not is_owned(path) and not overwrite and any(path.iterdir()):
        check_replaceable(path)
    if os.path.lexists(path) and not path.is_dir():
        check_replaceable(path, overwrite=False)
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    if not marker.exists():
        marker.write_text("written by reflect-rl; it replaces this folder only where it finds this file\n")
    return path
