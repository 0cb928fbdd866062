"""Build hooks: compile the sfbatch binary into the wheel and tag it for its platform.

The wheel carries ``sfbatch_spark/bin/sfbatch``, built from the Go module one folder up
(``SFBATCH_GO_MODULE`` overrides) with ``CGO_ENABLED=0`` for ``GOOS=linux`` and the target
architecture: the machine's own, or ``SFBATCH_WHEEL_ARCH`` (``x86_64`` or ``aarch64``) to
cross-compile. ``SFBATCH_PREBUILT_BIN`` uses an existing binary instead of compiling.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
WHEEL_PLATFORM = {"amd64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def target_goarch() -> str:
    arch = os.environ.get("SFBATCH_WHEEL_ARCH") or platform.machine()
    try:
        return GOARCH[arch.lower()]
    except KeyError:
        raise SystemExit(f"sfbatch-spark: unsupported architecture {arch!r} (x86_64 or aarch64)")


class BuildWithBinary(build_py):
    """build_py that also compiles sfbatch into sfbatch_spark/bin/."""

    def run(self) -> None:
        super().run()
        dest = (Path(self.build_lib) / "sfbatch_spark" / "bin" / "sfbatch").resolve()
        dest.parent.mkdir(parents=True, exist_ok=True)
        prebuilt = os.environ.get("SFBATCH_PREBUILT_BIN")
        if prebuilt:
            shutil.copyfile(prebuilt, dest)
        else:
            module = Path(os.environ.get("SFBATCH_GO_MODULE", HERE.parent))
            if not (module / "go.mod").is_file():
                raise SystemExit(f"sfbatch-spark: no go.mod in {module}; set SFBATCH_GO_MODULE")
            env = dict(os.environ, CGO_ENABLED="0", GOOS="linux", GOARCH=target_goarch())
            subprocess.run(
                ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(dest), "./cmd/sfbatch"],
                cwd=module, env=env, check=True,
            )
        dest.chmod(dest.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class PlatformWheel(bdist_wheel):
    """A py3-none-<platform> wheel: the Python code is pure, the binary is not."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", WHEEL_PLATFORM[target_goarch()]


setup(cmdclass={"build_py": BuildWithBinary, "bdist_wheel": PlatformWheel})
