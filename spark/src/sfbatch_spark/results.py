"""Per-row results on disk: one Parquet file per task attempt, merged by the driver's commit.

Layout under ``resultsPath`` (a folder every executor opens as a path)::

    _attempts/<runId>/part-00003-attempt-0-<taskAttemptId>.parquet   written by each attempt
    part-00003-<runId>.parquet                                        committed attempts only
    _summary.json                                                     the run's summary

Spark's file readers skip names starting with ``_``, so ``spark.read.parquet(resultsPath)``
sees exactly the committed attempts: one row per input row.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

SUMMARY_FILE = "_summary.json"
ATTEMPTS_DIR = "_attempts"
#: Rows buffered before a Parquet row group is written (memory per task stays bounded).
ROWS_PER_ROW_GROUP = 65536
#: The contracts' result columns, in order, before the key columns.
RESULT_COLUMNS = (
    "sf__Row", "sf__Outcome", "sf__Id", "sf__Created", "sf__ErrorCode", "sf__Error",
    "sf__Fields", "sf__Job", "sf__Batch",
)


@dataclass
class Counts:
    """Rows by outcome."""

    succeeded: int = 0
    failed: int = 0
    notProcessed: int = 0  # noqa: N815 - the contracts' JSON name
    unknown: int = 0

    def add(self, other: dict[str, int]) -> None:
        for k, v in other.items():
            setattr(self, k, getattr(self, k) + int(v))

    def total(self) -> int:
        return self.succeeded + self.failed + self.notProcessed + self.unknown


@dataclass
class Summary:
    """What one write did, as `_summary.json` holds it and commit() reports it."""

    runId: str  # noqa: N815
    sobject: str
    operation: str
    state: str
    rows: int = 0
    counts: Counts = field(default_factory=Counts)
    #: Row resubmissions by the committed attempts (UNABLE_TO_LOCK_ROW and other retryable codes).
    retried: int = 0
    partitions: int = 0
    #: The attempt number Spark committed, by partition id (a retried task shows 1 or more).
    attempts: dict[str, int] = field(default_factory=dict)
    resultsPath: str = ""  # noqa: N815
    runDir: str = ""  # noqa: N815
    notes: list[str] = field(default_factory=list)
    #: The write's concurrency: the user's total, the tasks it was split between, each task's
    #: share (``None`` where not given).
    concurrency: dict[str, int | None] = field(default_factory=dict)
    #: The write's maxApiShare: the user's share, the partitions it was split between, each
    #: task's part (empty without a share).
    maxApiShare: dict[str, float | int | None] = field(default_factory=dict)
    #: The --concurrency each committed task's pipe ran with, by partition id.
    taskConcurrency: dict[str, int] = field(default_factory=dict)  # noqa: N815
    #: What `sfbatch pipe --abort-run` did when the write was aborted with runDir.
    abort: dict[str, object] | None = None

    def to_json(self) -> str:
        d = dict(self.__dict__)
        d["counts"] = dict(self.counts.__dict__)
        return json.dumps(d, indent=2) + "\n"

    def line(self) -> str:
        c = self.counts
        return (
            f"sfbatch {self.operation} {self.sobject} run {self.runId}: {self.state}, {self.rows} rows: "
            f"{c.succeeded} succeeded, {c.failed} failed, {c.notProcessed} not processed, {c.unknown} unknown"
        )


def attempts_dir(results_path: str, run_id: str) -> Path:
    return Path(results_path) / ATTEMPTS_DIR / run_id


def attempt_file(results_path: str, run_id: str, partition: int, attempt: int, task_attempt_id: int) -> Path:
    return attempts_dir(results_path, run_id) / f"part-{partition:05d}-attempt-{attempt}-{task_attempt_id}.parquet"


def committed_file(results_path: str, run_id: str, partition: int) -> Path:
    return Path(results_path) / f"part-{partition:05d}-{run_id}.parquet"


def check_results_path(results_path: str) -> None:
    """Refuse a results folder that already holds a write's results; create it otherwise."""
    p = Path(results_path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"resultsPath: {results_path} exists and is not a folder")
    if p.is_dir():
        taken = [n for n in os.listdir(p) if n == SUMMARY_FILE or n.endswith(".parquet")]
        if taken:
            raise ValueError(
                f"resultsPath: {results_path} already holds results ({taken[0]}); give each write its own folder"
            )
    p.mkdir(parents=True, exist_ok=True)


class AttemptWriter:
    """Writes one attempt's result batches to its Parquet file, a row group at a time.

    Used by the results thread only; ``close`` is called once that thread has finished.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self.rows = 0

    def __call__(self, batch: pa.RecordBatch) -> None:
        if self.path is None:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        if self._pending_rows >= ROWS_PER_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if not self._pending or self.path is None:
            return
        table = pa.Table.from_batches(self._pending)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(self.path), table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows
        self._pending, self._pending_rows = [], 0

    def close(self) -> str | None:
        """Finish the file; return its path, or None when the attempt had no result rows."""
        self._flush()
        if self._writer is None:
            return None
        self._writer.close()
        return str(self.path)


def publish(results_path: str, run_id: str, committed: Iterable[tuple[int, str]]) -> None:
    """Move each committed attempt's file next to the others and drop the attempts folder.

    ``committed`` pairs a partition id with its committed attempt's file. Files of attempts
    Spark did not commit (failed, killed or losing speculative attempts) are removed.
    """
    for partition, path in committed:
        os.replace(path, committed_file(results_path, run_id, partition))
    shutil.rmtree(attempts_dir(results_path, run_id), ignore_errors=True)
    try:
        os.rmdir(Path(results_path) / ATTEMPTS_DIR)
    except OSError:
        pass  # another run's attempts are still there


def write_summary(results_path: str, summary: Summary) -> None:
    """Write ``_summary.json`` (via a temporary name, so readers never see half of it)."""
    path = Path(results_path) / SUMMARY_FILE
    tmp = path.with_name(f"_summary.{summary.runId}.tmp")
    tmp.write_text(summary.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def read_summary(results_path: str) -> dict[str, Any]:
    """The ``_summary.json`` of a write."""
    with open(Path(results_path) / SUMMARY_FILE, encoding="utf-8") as f:
        return json.load(f)
