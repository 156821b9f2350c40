"""A concurrent writer that swaps a folder of a repository for a link to an outside folder, and back.

Code that checks a path and then opens it (``realpath``, then ``open``) can be raced: between the two
steps the folder becomes a link, and the open follows it out of the repository. :class:`RepositoryFlipper`
is that writer. Its outside folder is a twin of the flipped one: every file at the same relative path, each
holding :attr:`RepositoryFlipper.secret`, plus a file named after the secret, so a leaked content or a
leaked name shows up as the secret in whatever the reader produced::

    with RepositoryFlipper(repo / "docs", tmp_path / "outside") as flipper:
        ...  # read the repository; nothing read may contain flipper.secret
    assert flipper.flips > 0

:meth:`RepositoryFlipper.to_link` and :meth:`RepositoryFlipper.to_folder` make one swap each, for a
test that puts the writer at one chosen moment instead of running the thread.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Callable
from types import TracebackType

#: What every file of the outside twin holds, and the name of one extra file there.
SECRET = "FLIPPER-OUTSIDE-SECRET"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2`` (Linux), or ``None`` where the C library has none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_RENAMEAT2 = _load_renameat2()


class RepositoryFlipper:
    """Swaps ``folder`` for a symbolic link to ``outside``, and back, in a thread, until the context exits.

    Where the system can (Linux's ``renameat2`` with ``RENAME_EXCHANGE``), a swap is one atomic exchange of
    the folder and a link parked next to it, so ``folder`` is always either the folder or the link, as a
    hostile writer would make it; the link stays parked after the flipper stops. Elsewhere a swap is two
    steps (the folder renamed away, then the link made), with a moment when ``folder`` is missing. The
    parked entry has a hidden name (``.<name>.flipper``), which a scan of the repository leaves out. On
    exit the thread stops and the real folder is back in its place.

    Args:
        folder: A folder inside the repository (it must exist and be a real folder).
        outside: Where to build the outside twin (it must not exist yet); it lies outside the repository.
        secret: What the twin's files hold and the stem of its extra file's name.
        hold: Seconds each state (folder, link) is held before the next swap. A pause lets a reader in another
            thread make progress in each state; 0 swaps as fast as the GIL lets it. At the default (0.1 ms) an
            unsafe reader leaked most often.

    Attributes:
        flips: Completed round trips (folder to link and back) so far.
        atomic: Whether a swap is one atomic exchange.
        secret: As passed.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        outside: str | os.PathLike[str],
        *,
        secret: str = SECRET,
        hold: float = 1e-4,
    ):
        self.folder = os.fspath(folder).rstrip(os.sep)
        self.outside = os.fspath(outside)
        self.secret = secret
        self.hold = hold
        if os.path.islink(self.folder) or not os.path.isdir(self.folder):
            raise ValueError(f"RepositoryFlipper needs a real folder to flip, got {self.folder!r}; create it first.")
        if os.path.lexists(self.outside):
            raise ValueError(
                f"RepositoryFlipper builds its outside twin at {self.outside!r}, which exists; pass a new path."
            )
        head, name = os.path.split(self.folder)
        self.parked = os.path.join(head, f".{name}.flipper")
        self.flips = 0
        self._linked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._build_twin()
        os.symlink(self.outside, self.parked)
        self.atomic = self._exchange() and self._exchange()  # a probe: there and back
        if not self.atomic:
            os.unlink(self.parked)  # the two-step swap parks the folder there

    def _build_twin(self) -> None:
        for directory, _, files in os.walk(self.folder):
            twin = os.path.join(self.outside, os.path.relpath(directory, self.folder))
            os.makedirs(twin, exist_ok=True)
            for name in [*files, f"{self.secret}.txt"]:
                with open(os.path.join(twin, name), "w", encoding="utf-8") as file:
                    file.write(f"{self.secret}\n")

    def _exchange(self) -> bool:
        """Swap the folder and the parked entry atomically; ``False`` where the system cannot (nothing moved)."""
        if _RENAMEAT2 is None:
            return False
        folder, parked = os.fsencode(self.folder), os.fsencode(self.parked)
        if _RENAMEAT2(_AT_FDCWD, folder, _AT_FDCWD, parked, _RENAME_EXCHANGE) == 0:
            return True
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a kernel or file system without exchange
            return False
        raise OSError(code, os.strerror(code), self.folder)

    def to_link(self) -> None:
        """Put the link to the outside twin where the folder was; the folder waits under the hidden name."""
        if self._linked:
            raise RuntimeError(f"{self.folder!r} is already the link; call to_folder first.")
        if not (self.atomic and self._exchange()):
            os.rename(self.folder, self.parked)
            os.symlink(self.outside, self.folder)
        self._linked = True

    def to_folder(self) -> None:
        """Put the real folder back; the link waits under the hidden name."""
        if not self._linked:
            raise RuntimeError(f"{self.folder!r} is already the folder; call to_link first.")
        if not (self.atomic and self._exchange()):
            os.unlink(self.folder)
            os.rename(self.parked, self.folder)
        self._linked = False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.to_link()
                self._stop.wait(self.hold)
                self.to_folder()
                self._stop.wait(self.hold)
                self.flips += 1
        except BaseException as failure:  # re-raised by __exit__: a writer that died silently tests nothing
            self._failure = failure

    def __enter__(self) -> RepositoryFlipper:
        self._thread = threading.Thread(target=self._run, name="repository-flipper", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._linked:
            self.to_folder()
        elif not self.atomic and not os.path.lexists(self.folder):  # a two-step swap failed halfway
            os.rename(self.parked, self.folder)
        if self._failure is not None and error is None:
            raise RuntimeError(
                f"The repository flipper of {self.folder!r} stopped: {self._failure!r}"
            ) from self._failure
