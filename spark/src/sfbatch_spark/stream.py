"""``df.writeStream.format("sfbatch")``: each micro-batch loaded through `sfbatch pipe`, once.

A micro-batch is written like a batch write (one `sfbatch pipe` per partition, results under
``resultsPath/batchId=N/``). Everything a batch leaves is keyed by the query's ``runDir``, the
batch id and the partition, under ``runDir/stream/batchId=N/``, so that a re-run of the same
batch id (Spark retrying a task, or a query restarted from its checkpoint after a failure, a
kill or a stop between the sink's commit and Spark's commit log) loads nothing twice:

* ``part-P/`` is the journal of partition P's pipe (``--run-id batchId=N --journal-dir``): a
  pipe killed part-way leaves it, and the re-run's pipe resumes from it (rows already
  loaded are answered from the journal, jobs in flight are collected, nothing is sent twice);
* ``part-P.json`` records a finished partition's outcome before the task reports it; a
  re-run task that finds it returns it without starting a pipe;
* ``_committed`` marks a batch the sink committed; it is not committed again.

A file or Kafka source gives a re-run batch the same rows in the same partitions (pipe checks
that against the journal's row hashes). ``runDir`` belongs to one query, like its
``checkpointLocation``: another query with the same ``runDir`` would find these records.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import pyarrow as pa
from pyspark.sql.datasource import DataSourceStreamArrowWriter
from pyspark.sql.types import StructType

from . import options as opt
from .login import Session

#: Options Spark itself reads from a streaming write.
SPARK_STREAM_OPTIONS = ("checkpointlocation", "queryname", "path")

#: Spark's local property holding the micro-batch id in every task of the batch.
BATCH_ID_PROPERTY = "streaming.sql.batchId"


class SfbatchStreamWriter(DataSourceStreamArrowWriter):
    """Writes each micro-batch with the batch writer; records make re-runs load nothing twice."""

    def __init__(self, cfg: opt.WriteConfig, session: Session, binary: str) -> None:
        self.cfg = cfg
        self.session = session
        self.binary = binary

    def __repr__(self) -> str:  # never the handshake
        return f"SfbatchStreamWriter(cfg={self.cfg!r})"

    @classmethod
    def prepare(cls, options: Mapping[str, str], schema: StructType) -> "SfbatchStreamWriter":
        from .datasource import FATAL_FILE, SfbatchWriter

        if not any(str(k).lower() == "rundir" for k in options):
            raise opt.OptionError(
                "runDir: required by a stream (a folder every executor can open: it records the "
                "partitions each micro-batch loaded, so a re-run batch loads nothing twice)"
            )
        # Spark's own stream options are not the writer's.
        w = SfbatchWriter.prepare({k: v for k, v in options.items() if str(k).lower() not in SPARK_STREAM_OPTIONS}, schema)
        # A batch that failed for good before this start is tried again: the options may have
        # changed (new credentials); its journals still keep it from loading anything twice.
        for fatal in (Path(w.cfg.run_dir) / "stream").glob(f"batchId=*/{FATAL_FILE}"):
            fatal.unlink(missing_ok=True)
        return cls(w.cfg, w.session, w.binary)

    def _batch_writer(self, batch_id: int) -> Any:
        """The batch write of one micro-batch, with run id ``batchId=N`` under
        ``runDir/stream``: its journals are ``runDir/stream/batchId=N/part-P``."""
        from .datasource import SfbatchWriter

        results_path = os.path.join(self.cfg.results_path, f"batchId={batch_id}") if self.cfg.results_path else ""
        cfg = dataclasses.replace(self.cfg, results_path=results_path, run_dir=str(self._stream_dir()))
        w = SfbatchWriter(cfg, self.session, self._batch_dir(batch_id).name, self.binary)
        w.resumable_abort = True  # the batch runs again, under the same id, after a restart
        return w

    def _stream_dir(self) -> Path:
        return Path(self.cfg.run_dir) / "stream"

    def _batch_dir(self, batch_id: int) -> Path:
        return self._stream_dir() / f"batchId={batch_id}"

    def write(self, iterator: Iterator[pa.RecordBatch]) -> Any:
        from pyspark import TaskContext

        from .datasource import SfbatchCommitMessage

        ctx = TaskContext.get()
        assert ctx is not None
        batch_id = int(ctx.getLocalProperty(BATCH_ID_PROPERTY) or "0")
        record = self._batch_dir(batch_id) / f"part-{ctx.partitionId():05d}.json"
        if record.exists():
            return SfbatchCommitMessage(**json.loads(record.read_text(encoding="utf-8")))
        msg = self._batch_writer(batch_id).write(iterator)
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(msg)), encoding="utf-8")
        os.replace(tmp, record)
        return msg

    def commit(self, messages: list[Any], batchId: int) -> None:
        done = self._batch_dir(batchId) / "_committed"
        if done.exists():
            return  # committed before a restart; Spark re-ran the batch
        self._batch_writer(batchId).commit(messages)
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text("", encoding="utf-8")

    def abort(self, messages: list[Any], batchId: int) -> None:
        self._batch_writer(batchId).abort(messages)
