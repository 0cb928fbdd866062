"""Finding the sfbatch binary: an option, then SFBATCH_BIN, then the one in this wheel."""

from __future__ import annotations

import os
import stat
from pathlib import Path

ENV_BIN = "SFBATCH_BIN"


class BinaryError(RuntimeError):
    """The sfbatch binary is missing or cannot be run."""


def packaged_binary() -> Path:
    """The sfbatch binary shipped inside this wheel (it may be absent in a source checkout)."""
    return Path(__file__).resolve().parent / "bin" / "sfbatch"


def find_binary(override: str | None = None) -> str:
    """Return the path of an executable sfbatch binary.

    ``override`` (the ``sfbatchBinary`` option) wins over ``SFBATCH_BIN``, which wins over the
    packaged binary. The packaged binary's executable bit is checked at first use and set when
    an installer dropped it (some copy wheels' files without their modes).
    """
    source = "the sfbatchBinary option"
    path = override
    if not path:
        path, source = os.environ.get(ENV_BIN), ENV_BIN
    if not path:
        path, source = str(packaged_binary()), "the sfbatch-spark wheel"
    p = Path(path)
    if not p.is_file():
        raise BinaryError(
            f"sfbatch binary not found at {path} (from {source}); install the sfbatch-spark wheel "
            f"for this platform or set {ENV_BIN}"
        )
    if not os.access(p, os.X_OK):
        try:
            p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as e:
            raise BinaryError(f"sfbatch binary at {path} is not executable and cannot be made so: {e}") from None
        if not os.access(p, os.X_OK):
            raise BinaryError(f"sfbatch binary at {path} is not executable (mounted noexec?); set {ENV_BIN}")
    return str(p)
