"""The task's process plumbing without Spark: a task that dies or fails takes its pipe with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import Org, sfbatch_binary
from sfbatch_spark import process
from sfbatch_spark.login import child_env

HERE = Path(__file__).resolve().parent


def pipes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pipe" in argv and marker.encode() in argv:
                found.append(int(pid))
    return found


def wait_for(cond, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def handshake(org: Org) -> bytes:
    import json

    ca = Path(org.info["ca_cert_file"]).read_text()
    return json.dumps({"accessToken": org.info["access_token"], "instanceUrl": org.url, "caCert": ca}).encode() + b"\n"


def test_failing_input_stops_the_pipe(org: Org) -> None:
    org.relogin()
    marker = str(6000 + uuid.uuid4().int % 999)
    argv = [sfbatch_binary(), "pipe", "insert", "-s", "Contact", "--handshake", "--batch-size", marker]

    def batches():  # type: ignore[no-untyped-def]
        yield pa.RecordBatch.from_pylist([{"LastName": "Proc-fail"}])
        assert wait_for(lambda: pipes_with(marker), 30)
        raise RuntimeError("the upstream of the task failed")

    with pytest.raises(RuntimeError, match="upstream"):
        process.run_pipe(argv, child_env(), handshake(org), batches(), lambda b: None)
    assert not pipes_with(marker)


def test_task_process_killed_takes_its_pipe(org: Org, tmp_path: Path) -> None:
    org.relogin()
    marker = str(5000 + uuid.uuid4().int % 999)
    (tmp_path / "hs").write_bytes(handshake(org))
    script = textwrap.dedent(f"""
        import time, pyarrow as pa
        from sfbatch_spark import process
        from sfbatch_spark.login import child_env
        def batches():
            yield pa.RecordBatch.from_pylist([{{"LastName": "Proc-kill"}}])
            time.sleep(600)  # a task blocked on its input when Spark kills it
        argv = [{sfbatch_binary()!r}, "pipe", "insert", "-s", "Contact", "--handshake", "--batch-size", {marker!r}]
        process.run_pipe(argv, child_env(), open({str(tmp_path / "hs")!r}, "rb").read(), batches(), lambda b: None)
    """)
    task = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        assert wait_for(lambda: pipes_with(marker), 60), "the task never started its pipe"
        task.send_signal(signal.SIGKILL)  # what Spark does to a Python worker of a killed task
        task.wait(30)
        assert wait_for(lambda: not pipes_with(marker), 30), "pipe outlived its task"
    finally:
        if task.poll() is None:
            task.kill()
            task.wait()
