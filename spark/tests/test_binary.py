"""The sfbatch binary: the option, then SFBATCH_BIN, then the wheel's; executable bit checked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sfbatch_spark.binary import BinaryError, find_binary, packaged_binary


def test_wheel_carries_an_executable_binary() -> None:
    if os.environ.get("SFBATCH_BIN"):
        pytest.skip("SFBATCH_BIN is set: running from a source tree, not the installed wheel")
    p = packaged_binary()
    assert p.is_file() and os.access(p, os.X_OK)
    out = subprocess.run([str(p), "token", "--help"], capture_output=True, text=True, check=True).stdout
    assert "Log in" in out


def test_override_and_exec_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "sfbatch"
    shutil.copyfile(find_binary(), copy)
    copy.chmod(0o644)  # as some installers leave it
    assert find_binary(str(copy)) == str(copy)
    assert os.access(copy, os.X_OK)
    monkeypatch.setenv("SFBATCH_BIN", str(copy))
    assert find_binary() == str(copy)


def test_missing_binary_names_the_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SFBATCH_BIN", str(tmp_path / "nope"))
    with pytest.raises(BinaryError, match="from SFBATCH_BIN"):
        find_binary()
