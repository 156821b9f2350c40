"""Read-only, in-memory snapshots of a repository, confined to its root.

A :class:`Snapshot` holds a repository's tree (names, kinds, sizes) after one scan; file contents are
read lazily, the first time a file is shown, and cached. Nothing here writes, copies, runs a shell or
changes the working directory. The rules:

* Hidden entries (names starting with ``.``, so ``.git`` too) and build noise (:data:`NOISE_DIRS`,
  :data:`NOISE_SUFFIXES`) are left out.
* Special files (FIFOs, devices, sockets) are left out; they are never opened.
* Symbolic links are never followed out of the root: a link whose target lies outside it, a link to a
  directory (not followed: links could loop) and a broken or looping link are listed with a note and offer
  no command. A link to a regular file inside the root behaves as that file.
* Every folder scanned and every file read is reached from a descriptor of the root, one name at a time,
  with ``O_NOFOLLOW`` on every name (``openat``), never through a path that the kernel resolves: a folder
  swapped for a link by a concurrent writer, while the snapshot is scanned or read, leads nowhere outside
  the root. Such a folder is listed as ``unreadable`` and such a file shown as unreadable. The root's
  descriptor must be the folder scanned (same device and inode), or reads are refused. Files are opened
  with ``O_NONBLOCK`` and read only if the open handle is a regular file.
* Binary files (a NUL byte in the first 8 KiB) are shown as ``[binary file, N bytes]``; other files are
  decoded as UTF-8 with replacement characters, cut to a number of lines and characters (see
  :meth:`Snapshot.render`), with a note of what was cut.
* Names with spaces, quotes, backslashes, control or non-BMP characters, or undecodable bytes are shown
  quoted and escaped (:func:`display_name`), so every entry of a directory has a distinct, one-line name.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator

#: Directory names left out of every snapshot (build output and caches), besides ``*.egg-info``.
NOISE_DIRS: frozenset[str] = frozenset(
    {"__pycache__", "__pypackages__", "node_modules", "build", "dist", "htmlcov", "site-packages"}
)
#: File suffixes left out of every snapshot (compiled artefacts).
NOISE_SUFFIXES: tuple[str, ...] = (".pyc", ".pyo")
#: Suffixes of data files: :meth:`Snapshot.render` shows fewer lines of them.
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".ndjson", ".psv")
#: A scan stops with :class:`RepositoryError` beyond this many entries or this nesting depth.
MAX_ENTRIES = 200_000
MAX_DEPTH = 64

DIR, FILE, LINK = "dir", "file", "link"
_BINARY_PROBE = 8192
_READ_LIMIT = 1 << 16  # bytes read to show a file: more than 100 lines of 200 characters
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
# Errors of an open with O_NOFOLLOW / O_DIRECTORY that met a link, or a file where a folder was scanned.
_SWAPPED = frozenset({errno.ELOOP, errno.ENOTDIR, getattr(errno, "EMLINK", errno.ELOOP)})
# Walking by descriptors needs openat, fstatat, faccessat and fdopendir (Linux, macOS, the BSDs); checked at
# import, as tests replace os.open.
_HAS_DIR_FD = {os.open, os.stat, os.access} <= os.supports_dir_fd and os.scandir in os.supports_fd


class RepositoryError(ValueError):
    """A repository cannot be used: missing, empty, too large, or without eligible files."""


class Node:
    """One entry of a snapshot. Read-only by convention; built by :func:`load_snapshot`.

    Attributes:
        index: Position in :attr:`Snapshot.nodes` (the root is 0).
        parent: Index of the parent directory, ``-1`` for the root.
        name: The entry's name on disk (undecodable bytes as surrogate escapes).
        display: The name as shown in observations and commands (see :func:`display_name`).
        path: POSIX path relative to the root (``""`` for the root).
        kind: ``"dir"``, ``"file"`` or ``"link"`` (a link that is listed but not followed).
        size: Size in bytes (files), 0 otherwise.
        depth: Directories between the root and the entry (root's children have depth 0).
        children: Indices of the visible children, directories first, then by name (directories).
        note: Why a ``"link"`` is not followed, or ``"unreadable"`` for a file or directory that the
            process may not read; empty otherwise.
        real_path: The absolute path of the entry (a link's target for a link to a file), a string only: it is
            read by walking its names from the root's descriptor, never opened as a path.
    """

    __slots__ = ("index", "parent", "name", "display", "path", "kind", "size", "depth", "children", "note", "real_path")

    def __init__(
        self, index: int, parent: int, name: str, path: str, kind: str, size: int, depth: int, note: str, real_path: str
    ):
        self.index = index
        self.parent = parent
        self.name = name
        self.display = display_name(name) if name else ""
        self.path = path
        self.kind = kind
        self.size = size
        self.depth = depth
        self.children: tuple[int, ...] = ()
        self.note = note
        self.real_path = real_path

    def __repr__(self) -> str:
        return f"Node({self.path!r}, kind={self.kind!r})"


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _ESCAPES:
        return _ESCAPES[char]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by os.fsdecode as a surrogate escape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x10000 and char.isprintable():
        return char
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def display_name(name: str) -> str:
    """``name`` as shown to the agent: unchanged when plain, else quoted with escapes.

    A name is plain when every character is printable, in the Basic Multilingual Plane and none of space,
    ``"``, ``'`` or backslash. Otherwise it is wrapped in double quotes, with ``\\"``, ``\\\\``,
    ``\\n``, ``\\t`` and ``\\r`` for quotes, backslashes and those controls, ``\\xNN`` for an
    undecodable byte, and ``\\uNNNN`` / ``\\UNNNNNNNN`` for other characters that are not printable BMP
    characters (emoji included). Distinct names give distinct display names.
    """
    if all(c.isprintable() and c not in " \"'\\" and ord(c) < 0x10000 for c in name):
        return name
    return '"' + "".join(_escape(c) for c in name) + '"'


def _within(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _parts(root: str, path: str) -> list[str]:
    """The names leading from ``root`` to ``path``, a path under it."""
    return path[len(root) + 1 :].split(os.sep)


def _is_noise(name: str, is_dir: bool) -> bool:
    if name.startswith("."):
        return True
    if is_dir:
        return name in NOISE_DIRS or name.endswith(".egg-info")
    return name.endswith(NOISE_SUFFIXES)


def _sort_key(node: Node) -> tuple[bool, str, str]:
    return (node.kind != DIR, node.name.casefold(), node.name)


class Snapshot:
    """A repository's tree, scanned once; contents read lazily and cached. See the module docstring.

    Use :func:`load_snapshot`, which shares one snapshot per real path within a process. A snapshot
    pickles as its root path and is re-scanned (or taken from that cache) where it is unpickled; deep
    copies share it.

    Attributes:
        root: The repository's real (symlink-free) absolute path.
        name: The root folder's name.
        nodes: Every visible entry; ``nodes[0]`` is the root directory.
    """

    def __init__(self, root: str | os.PathLike[str]):
        path = os.fspath(root)
        if not os.path.isdir(path):
            raise RepositoryError(f"Repository {path!r} does not exist or is not a directory; pass an existing folder.")
        if not _HAS_DIR_FD:
            raise RepositoryError(
                f"Repository {path!r} cannot be read safely here: this platform's Python lacks dir_fd support for "
                "os.open, os.stat and os.access, or os.scandir of a descriptor; use Linux or macOS."
            )
        self.root = os.path.realpath(path)
        self.name = os.path.basename(self.root) or self.root
        self._root_id: tuple[int, int] | None = None  # (st_dev, st_ino) of the root scanned
        self.nodes: tuple[Node, ...] = self._scan()
        self._by_path = {node.path: node.index for node in self.nodes}
        self._rendered: dict[tuple[int, int, int, int], str] = {}
        if len(self.nodes) == 1:
            raise RepositoryError(
                f"Repository {path!r} is empty: it holds no visible entries (hidden files, build folders and "
                "special files are left out)."
            )

    def __reduce__(self) -> tuple:
        return (load_snapshot, (self.root,))

    def __copy__(self) -> Snapshot:
        return self

    def __deepcopy__(self, memo: dict) -> Snapshot:
        return self

    def __repr__(self) -> str:
        return f"Snapshot({self.root!r}, {len(self.nodes)} entries)"

    # -- scanning ---------------------------------------------------------------------------------

    def _open_root(self) -> int:
        """A descriptor of the root. The scan records which folder it is; every later open must find that one.

        Raises:
            OSError: The root cannot be opened, or another folder is at its path now.
        """
        fd = os.open(self.root, _DIRECTORY_FLAGS)
        info = os.fstat(fd)
        if self._root_id is None:
            self._root_id = (info.st_dev, info.st_ino)
        elif self._root_id != (info.st_dev, info.st_ino):
            os.close(fd)
            raise PermissionError(
                f"repository {self.root!r} was replaced since it was scanned (another folder is at its path); "
                "scan it again (load_snapshot.cache_clear(), then load_snapshot)"
            )
        return fd

    def _scan(self) -> tuple[Node, ...]:
        root = Node(0, -1, "", "", DIR, 0, -1, "", self.root)
        nodes = [root]
        try:
            fd = self._open_root()
        except OSError as error:
            raise RepositoryError(
                f"Repository {self.root!r} cannot be opened ({error}); pass a readable folder."
            ) from error
        try:
            self._scan_tree(fd, root, nodes)
        finally:
            os.close(fd)
        return tuple(nodes)

    def _scan_tree(self, fd: int, directory: Node, nodes: list[Node]) -> None:
        """Add the entries under ``directory`` (open as ``fd``) to ``nodes``: its children, then each folder's tree.

        Children get their indices before any folder is entered, and folders are entered in listing order, so
        indices are the same on every scan. A child folder is opened from ``fd`` with ``O_NOFOLLOW``: if it
        was swapped for a link since it was listed, the open fails and it is marked unreadable.
        """
        if directory.depth + 1 >= MAX_DEPTH:
            raise RepositoryError(f"Repository {self.root!r} nests deeper than {MAX_DEPTH} levels; pass a sub-folder.")
        children = sorted(self._scan_directory(fd, directory), key=_sort_key)
        for child in children:
            child.index = len(nodes)
            nodes.append(child)
        if len(nodes) > MAX_ENTRIES:
            raise RepositoryError(f"Repository {self.root!r} has over {MAX_ENTRIES} entries; pass a sub-folder.")
        directory.children = tuple(child.index for child in children)
        for child in children:
            if child.kind != DIR:
                continue
            try:
                child_fd = os.open(child.name, _DIRECTORY_FLAGS, dir_fd=fd)
            except OSError:
                child.note = "unreadable"
                continue
            try:
                self._scan_tree(child_fd, child, nodes)
            finally:
                os.close(child_fd)

    def _scan_directory(self, fd: int, directory: Node) -> Iterator[Node]:
        try:
            entries = list(os.scandir(fd))
        except OSError:
            directory.note = "unreadable"
            return
        depth = directory.depth + 1
        for entry in entries:
            name = entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            mode = info.st_mode
            path = f"{directory.path}/{name}" if directory.path else name
            real_path = os.path.join(directory.real_path, name)
            if stat.S_ISDIR(mode):
                if not _is_noise(name, True):
                    note = "" if os.access(name, os.R_OK | os.X_OK, dir_fd=fd) else "unreadable"
                    yield Node(-1, directory.index, name, path, DIR, 0, depth, note, real_path)
            elif stat.S_ISREG(mode):
                if not _is_noise(name, False):
                    note = "" if os.access(name, os.R_OK, dir_fd=fd) else "unreadable"
                    yield Node(-1, directory.index, name, path, FILE, info.st_size, depth, note, real_path)
            elif stat.S_ISLNK(mode) and not _is_noise(name, False):
                node = self._link(real_path, directory.index, path, depth)
                if node is not None:
                    yield node
            # FIFOs, devices and sockets are skipped without being opened.

    def _link(self, link: str, parent: int, path: str, depth: int) -> Node | None:
        name = os.path.basename(link)
        try:
            # Only a string: where the link points. Its target is then reached by descriptors, not by this path.
            target = os.path.realpath(link)
        except OSError:  # the link changed while it was resolved
            return Node(-1, parent, name, path, LINK, 0, depth, "broken link", "")
        if not _within(self.root, target):
            return Node(-1, parent, name, path, LINK, 0, depth, "link outside the repository, not followed", "")
        if target == self.root:
            return Node(-1, parent, name, path, LINK, 0, depth, "link to a directory, not followed", "")
        parts = _parts(self.root, target)
        try:
            fd = self._open_parent(parts)
        except OSError:
            return Node(-1, parent, name, path, LINK, 0, depth, "broken link", "")
        try:
            info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            readable = os.access(parts[-1], os.R_OK, dir_fd=fd)
        except OSError:
            return Node(-1, parent, name, path, LINK, 0, depth, "broken link", "")
        finally:
            os.close(fd)
        if stat.S_ISREG(info.st_mode):
            return Node(-1, parent, name, path, FILE, info.st_size, depth, "" if readable else "unreadable", target)
        if stat.S_ISDIR(info.st_mode):
            return Node(-1, parent, name, path, LINK, 0, depth, "link to a directory, not followed", "")
        if stat.S_ISLNK(info.st_mode):  # the target became a link after it was resolved
            return Node(-1, parent, name, path, LINK, 0, depth, "broken link", "")
        return None  # a link to a special file

    def _open_parent(self, parts: list[str]) -> int:
        """A descriptor of the folder holding ``parts[-1]``, reached from the root's without following links.

        Raises:
            OSError: A folder on the way is missing, or is no longer a folder (a link, a file).
        """
        fd = self._open_root()
        for part in parts[:-1]:
            try:
                child = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
            finally:
                os.close(fd)
            fd = child
        return fd

    # -- lookup -----------------------------------------------------------------------------------

    def find(self, path: str) -> Node | None:
        """The node at POSIX ``path`` relative to the root (``""`` is the root), or ``None``."""
        index = self._by_path.get(path)
        return None if index is None else self.nodes[index]

    def files(self) -> Iterator[Node]:
        """Every file node, in scan order."""
        return (node for node in self.nodes if node.kind == FILE)

    def ancestors(self, node: Node) -> list[int]:
        """Indices of the directories from the root down to ``node``'s parent."""
        chain = []
        index = node.parent
        while index >= 0:
            chain.append(index)
            index = self.nodes[index].parent
        return chain[::-1]

    def location(self, node: Node) -> str:
        """``node``'s path as shown to the agent: the repository's name, then display names, ``/``-joined."""
        parts = [self.nodes[i].display for i in self.ancestors(node)[1:]]
        parts.append(node.display)
        return "/".join([self.name, *[p for p in parts if p]])

    # -- contents ---------------------------------------------------------------------------------

    def read_bytes(self, node: Node, limit: int) -> tuple[bytes, int]:
        """The first ``limit`` bytes of file ``node`` and its size.

        Raises:
            OSError: The file cannot be read, is no longer a regular file, or now resolves outside the root.
        """
        if node.kind != FILE:
            raise IsADirectoryError(f"{node.path!r} is not a file")
        parts = _parts(self.root, node.real_path)
        try:
            parent = self._open_parent(parts)
            try:
                fd = os.open(parts[-1], _OPEN_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        except OSError as error:
            if error.errno in _SWAPPED:
                raise PermissionError(
                    f"{node.path!r} changed since the scan: a folder on its path, or the file itself, was replaced "
                    "(by a link, which is not followed, or by a file)"
                ) from error
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{node.path!r} is no longer a regular file")
            chunks, remaining = [], min(limit, info.st_size)
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks), info.st_size
        finally:
            os.close(fd)

    def read_text(self, node: Node, max_bytes: int) -> str | None:
        """The whole text of file ``node``, or ``None`` if it is unreadable, binary or over ``max_bytes``."""
        if node.kind != FILE or node.size > max_bytes:
            return None
        try:
            data, size = self.read_bytes(node, max_bytes + 1)
        except OSError:
            return None
        if size > max_bytes or b"\0" in data[:_BINARY_PROBE]:
            return None
        return data.decode("utf-8", "replace")

    def render(
        self, node: Node, *, max_lines: int, max_data_lines: int, max_chars: int, max_line_chars: int = 200
    ) -> str:
        """What ``cat`` shows for file ``node``: a header line, then the (cut) text. Cached.

        Text files show at most ``max_lines`` lines, data files (:data:`DATA_SUFFIXES`) at most
        ``max_data_lines``; each line at most ``max_line_chars`` characters and the whole at most
        ``max_chars``; a last line says what was cut. Binary files show ``[binary file, N bytes]``;
        unreadable ones ``[unreadable file: reason]``.
        """
        key = (node.index, max_lines, max_data_lines, max_chars)
        text = self._rendered.get(key)
        if text is None:
            lines = max_data_lines if node.name.lower().endswith(DATA_SUFFIXES) else max_lines
            text = self._rendered[key] = f"Content of {node.display}:\n" + self._render_body(
                node, lines, max_chars, max_line_chars
            )
        return text

    def _render_body(self, node: Node, max_lines: int, max_chars: int, max_line_chars: int) -> str:
        try:
            data, size = self.read_bytes(node, _READ_LIMIT)
        except OSError as error:
            return f"[unreadable file: {error.strerror or error}]"
        if size == 0:
            return "[empty file]"
        if b"\0" in data[:_BINARY_PROBE]:
            return f"[binary file, {size:,} bytes]"
        whole = len(data) >= size
        if not whole:
            data = data[: data.rfind(b"\n") + 1] or data  # drop a partial last line (and a split character)
        lines = data.decode("utf-8", "replace").splitlines()
        shown, used = [], 0
        for line in lines[:max_lines]:
            if len(line) > max_line_chars:
                line = line[:max_line_chars] + " [...]"
            if used + len(line) + 1 > max_chars and shown:
                break
            shown.append(line[:max_chars])
            used += len(line) + 1
        if whole and len(shown) == len(lines):
            return "\n".join(shown)
        if whole:
            note = f"[showing lines 1-{len(shown)} of {len(lines)}; the rest is cut]"
        else:
            note = f"[showing the first {len(shown)} lines of a {size:,}-byte file; the rest is cut]"
        return "\n".join([*shown, note])


@functools.lru_cache(maxsize=256)
def _cached_snapshot(real_root: str) -> Snapshot:
    return Snapshot(real_root)


def load_snapshot(root: str | os.PathLike[str]) -> Snapshot:
    """The snapshot of repository ``root``, shared by every caller in this process (keyed by real path).

    A repository changed on disk after its first load keeps its first tree in this process; call
    ``load_snapshot.cache_clear()`` to scan again.

    Raises:
        RepositoryError: ``root`` is missing, not a directory, empty, too large or too deep.
    """
    path = os.fspath(root)
    if not os.path.isdir(path):
        raise RepositoryError(f"Repository {path!r} does not exist or is not a directory; pass an existing folder.")
    return _cached_snapshot(os.path.realpath(path))


load_snapshot.cache_clear = _cached_snapshot.cache_clear  # type: ignore[attr-defined]
