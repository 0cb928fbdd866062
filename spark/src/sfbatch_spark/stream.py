"""``df.writeStream.format("sfbatch")``: each micro-batch loaded through `sfbatch pipe`, once.

A micro-batch is written like a batch write (one `sfbatch pipe` per partition, results under
``resultsPath/batchId=N/``). What makes a re-run of the same batch id (a restart after a
failure, a query stopped between its sink commit and Spark's commit log) load nothing twice:
every task that finished its partition records its outcome under
``runDir/stream/batchId=N/part-P.json`` before it reports, and a task that finds that record
returns it instead of loading again; a batch the sink committed is not committed again. A
file or Kafka source gives a re-run batch the same rows in the same partitions.
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
        from .datasource import SfbatchWriter

        if not any(str(k).lower() == "rundir" for k in options):
            raise opt.OptionError(
                "runDir: required by a stream (a folder every executor can open: it records the "
                "partitions each micro-batch loaded, so a re-run batch loads nothing twice)"
            )
        # Spark's own stream options are not the writer's.
        w = SfbatchWriter.prepare({k: v for k, v in options.items() if str(k).lower() not in SPARK_STREAM_OPTIONS}, schema)
        return cls(w.cfg, w.session, w.binary)

    def _batch_writer(self, batch_id: int) -> Any:
        from .datasource import SfbatchWriter

        results_path = os.path.join(self.cfg.results_path, f"batchId={batch_id}") if self.cfg.results_path else ""
        # The stream's own records (below) keep a batch to one load per partition; the pipe
        # runs without a journal.
        cfg = dataclasses.replace(self.cfg, results_path=results_path, run_dir="")
        return SfbatchWriter(cfg, self.session, f"batch-{batch_id}", self.binary)

    def _batch_dir(self, batch_id: int) -> Path:
        return Path(self.cfg.run_dir) / "stream" / f"batchId={batch_id}"

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
