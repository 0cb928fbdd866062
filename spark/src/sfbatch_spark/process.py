"""One task's `sfbatch pipe`: Arrow in on standard input, results out, events on standard error.

The calling thread writes the partition to the child's standard input while one thread reads
its results (standard output) and another its events (standard error): with a single thread a
full pipe in one direction would block the other for ever. Nothing here lives in a module
global: Python workers are reused between tasks.
"""

from __future__ import annotations

import collections
import ctypes
import json
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

#: Exit codes of `sfbatch pipe` (the contracts').
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ROWS_FAILED, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
#: Exits after which every row has its outcome in the results.
NORMAL_EXITS = (EXIT_OK, EXIT_ROWS_FAILED)
#: Exits a retry cannot help: nothing was sent and the same input would fail the same way.
FATAL_EXITS = (EXIT_USAGE, EXIT_AUTH)

#: Standard-error lines kept for an error message (the last ones).
MAX_STDERR_LINES = 20
#: Longest standard-error line kept, in characters.
MAX_STDERR_LINE = 2000
#: Seconds a child gets to stop after SIGTERM before SIGKILL.
TERMINATE_GRACE_SECONDS = 10
#: Outcome names of the summary counts, by sf__Outcome value.
OUTCOME_KEYS = {"succeeded": "succeeded", "failed": "failed", "not processed": "notProcessed", "unknown": "unknown"}

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    """Ask Linux to send SIGTERM to the child when the task's process dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


@dataclass
class PipeOutcome:
    """What one run of `sfbatch pipe` did."""

    exit_code: int
    rows_sent: int
    rows_returned: int
    counts: dict[str, int]
    error: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    stderr_tail: list[str] = field(default_factory=list)

    def message(self) -> str:
        """pipe's own error message, or the last lines it wrote to standard error."""
        if self.error:
            return f"{self.error.get('name', 'Error')}: {self.error.get('message', '')}"
        return " | ".join(self.stderr_tail[-5:]) or f"sfbatch pipe exited {self.exit_code}"


class _Results(threading.Thread):
    """Reads pipe's Arrow results from its standard output and hands each batch on."""

    def __init__(self, stream: Any, sink: Callable[[pa.RecordBatch], None]) -> None:
        super().__init__(name="sfbatch-results", daemon=True)
        self.stream, self.sink = stream, sink
        self.rows = 0
        self.counts = {k: 0 for k in OUTCOME_KEYS.values()}
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            try:
                reader = pa.ipc.open_stream(self.stream)
            except pa.ArrowInvalid:
                return  # pipe wrote nothing (it failed before its first result)
            for batch in reader:
                self.rows += batch.num_rows
                outcomes = batch.column(batch.schema.get_field_index("sf__Outcome"))
                for value, n in zip(*_value_counts(outcomes)):
                    key = OUTCOME_KEYS.get(value)
                    if key is None:
                        raise ValueError(f"sfbatch pipe returned an unknown outcome {value!r}")
                    self.counts[key] += n
                self.sink(batch)
        except BaseException as e:  # reported by the task after the child exits
            self.failure = e
        finally:
            _drain(self.stream)


def _value_counts(column: pa.Array) -> tuple[list[Any], list[int]]:
    vc = column.value_counts()
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()


def _drain(stream: Any) -> None:
    try:
        while stream.read(1 << 16):
            pass
    except (OSError, ValueError):
        pass


class _Events(threading.Thread):
    """Reads pipe's JSON Lines events from its standard error."""

    def __init__(self, stream: Any) -> None:
        super().__init__(name="sfbatch-events", daemon=True)
        self.stream = stream
        self.error: dict[str, Any] | None = None
        self.summary: dict[str, Any] | None = None
        self.progress: dict[str, Any] | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=MAX_STDERR_LINES)

    def run(self) -> None:
        for raw in self.stream:
            line = raw.decode("utf-8", "replace").strip()[:MAX_STDERR_LINE]
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
            if isinstance(ev, dict) and "event" in ev:
                kind = ev["event"]
                if kind == "error":
                    self.error = ev
                elif kind == "summary":
                    self.summary = ev
                elif kind == "progress":
                    self.progress = ev
                    continue
            self.tail.append(line)


def run_pipe(
    argv: list[str],
    env: dict[str, str],
    handshake: bytes,
    batches: Iterable[pa.RecordBatch],
    sink: Callable[[pa.RecordBatch], None],
) -> PipeOutcome:
    """Run `sfbatch pipe` over ``batches`` (at least one) and return what it did.

    ``sink`` receives each result batch on the results thread. The child is stopped
    (SIGTERM, then SIGKILL) if anything here fails, and dies with the task's process.
    """
    it: Iterator[pa.RecordBatch] = iter(batches)
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        close_fds=True, preexec_fn=_die_with_parent,
    )
    results, events = _Results(proc.stdout, sink), _Events(proc.stderr)
    results.start()
    events.start()
    sent = 0
    try:
        try:
            assert proc.stdin is not None
            proc.stdin.write(handshake)
            writer = None
            for batch in it:
                if writer is None:
                    writer = pa.ipc.new_stream(proc.stdin, batch.schema)
                writer.write_batch(batch)
                sent += batch.num_rows
            if writer is not None:
                writer.close()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError, OSError, pa.ArrowIOError):
            # The child stopped reading: its exit code and events say why.
            _close_quietly(proc.stdin)
        code = proc.wait()
        results.join()
        events.join()
    except BaseException:
        _stop(proc)
        raise
    if results.failure is not None and code in NORMAL_EXITS:
        raise RuntimeError(f"reading sfbatch pipe's results failed: {results.failure}") from results.failure
    return PipeOutcome(
        exit_code=code, rows_sent=sent, rows_returned=results.rows, counts=results.counts,
        error=events.error, summary=events.summary, stderr_tail=list(events.tail),
    )


def _close_quietly(stream: Any) -> None:
    try:
        if stream is not None:
            stream.close()
    except OSError:
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the child: SIGTERM (pipe aborts what it can), then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pipe_env(base: dict[str, str], kill_after: int | None) -> dict[str, str]:
    """The child's environment, with the test-only fault hook when asked for."""
    env = dict(base)
    if kill_after is not None:
        env["SFBATCH_PIPE_TEST_KILL_AFTER_SENT"] = str(kill_after)
    return env
