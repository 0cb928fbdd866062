"""The driver's abort: `sfbatch pipe --abort-run` over the journals of a failed write.

Spark's ``abort()`` gets no message from the tasks that failed, so what they left behind is
read from their journals under ``runDir/<runId>``: jobs Salesforce has not started are
aborted, jobs it is processing are left to finish (their rows load), and the summary says
so. Credentials reach the child on its standard input (the handshake line), never argv.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

from .login import Session, child_env

#: Longest wait for `pipe --abort-run`: it waits for each journal's lease (at most three lease
#: periods) and makes one call or two per unfinished job.
ABORT_TIMEOUT_SECONDS = 600
#: What every abort says, whatever pipe could do.
LOADED_STAY = "Rows that tasks already loaded stay in the org: an abort does not undo them."


@dataclass
class AbortOutcome:
    """What `pipe --abort-run` did (``result`` is its JSON result object), or why it could not."""

    exit_code: int
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def message(self) -> str:
        """One paragraph for the log and the summary."""
        if self.result.get("message"):
            return str(self.result["message"])
        return f"Aborting the run's jobs failed ({self.error or f'exit {self.exit_code}'}). {LOADED_STAY}"


def abort_argv(binary: str, run_id: str, journal_root: str, lease_period: str = "",
               resumable: bool = False) -> list[str]:
    """The `sfbatch pipe --abort-run` command line (no credentials, ever). ``resumable`` leaves
    the run resumable: a later attempt with the same run id sends the aborted jobs' rows again
    (a stream's micro-batch, which Spark runs again after a restart)."""
    argv = [binary, "pipe", "--abort-run", "--handshake", "--run-id", run_id, "--journal-dir", journal_root]
    if lease_period:
        argv += ["--lease-period", lease_period]
    if resumable:
        argv.append("--resumable")
    return argv


def abort_run(binary: str, session: Session, run_id: str, journal_root: str, lease_period: str = "",
              resumable: bool = False) -> AbortOutcome:
    """Run `sfbatch pipe --abort-run` over ``journal_root`` (``runDir/<runId>``)."""
    try:
        proc = subprocess.run(
            abort_argv(binary, run_id, journal_root, lease_period, resumable), input=session.handshake_line(),
            env=child_env(), capture_output=True, timeout=ABORT_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        return AbortOutcome(-1, error=f"sfbatch pipe --abort-run did not finish within {ABORT_TIMEOUT_SECONDS} s")
    except OSError as e:
        return AbortOutcome(-1, error=f"cannot run sfbatch: {e.strerror}")
    result: dict[str, Any] = {}
    try:
        out = json.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
        result = out.get("result") or {}
    except (ValueError, IndexError, AttributeError):
        pass
    error = ""
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and ev.get("event") == "error":
            error = f"{ev.get('name', 'Error')}: {ev.get('message', '')}"
    return AbortOutcome(proc.returncode, result, error)
