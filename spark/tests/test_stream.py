"""df.writeStream.format("sfbatch") on local Spark: micro-batches from a file source, the
query stopped and restarted mid-way, a micro-batch re-run under the same batch id; every
row is loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import Org

ROWS_PER_FILE = 40


def add_file(src: Path, k: int) -> None:
    t = pa.table({"LastName": [f"Stream{k}-{i}" for i in range(ROWS_PER_FILE)],
                  "Email": [f"s{k}.{i}@example.com" for i in range(ROWS_PER_FILE)]})
    tmp = src.parent / f".f{k}.parquet"
    pq.write_table(t, tmp)
    shutil.move(str(tmp), str(src / f"f{k}.parquet"))  # whole files only


def start(spark: Any, org: Org, src: Path, tmp: Path) -> Any:
    stream = (spark.readStream.schema("LastName string, Email string").option("maxFilesPerTrigger", 1)
              .parquet(str(src)))
    return (stream.writeStream.format("sfbatch")
            .options(**org.creds(caCertFile=org.info["ca_cert_file"]))
            .option("sobject", "Contact").option("operation", "insert")
            .option("keyColumns", "LastName")
            .option("runDir", str(tmp / "run")).option("resultsPath", str(tmp / "results"))
            .option("checkpointLocation", str(tmp / "checkpoint"))
            .start())


def test_stream_loads_each_row_once(spark: Any, org: Org, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for k in range(2):
        add_file(src, k)
    q = start(spark, org, src, tmp_path)
    q.processAllAvailable()
    q.stop()
    assert org.count("WHERE LastName LIKE 'Stream%'") == 2 * ROWS_PER_FILE

    # Spark did not record batch 1 as committed (a crash between the sink's commit and the
    # commit log): after the restart it runs batch 1 again, under the same id.
    for name in ("1", ".1.crc"):
        (tmp_path / "checkpoint" / "commits" / name).unlink(missing_ok=True)
    add_file(src, 2)
    q = start(spark, org, src, tmp_path)
    q.processAllAvailable()
    q.stop()
    assert (tmp_path / "checkpoint" / "commits" / "1").exists(), "Spark did not run batch 1 again"
    assert org.count("WHERE LastName LIKE 'Stream%'") == 3 * ROWS_PER_FILE
    for k in range(3):
        assert org.count(f"WHERE LastName LIKE 'Stream{k}-%'") == ROWS_PER_FILE
    # One results folder per micro-batch, each with its rows' results.
    batches = sorted(p.name for p in (tmp_path / "results").iterdir() if p.name.startswith("batchId="))
    assert batches == ["batchId=0", "batchId=1", "batchId=2"]
    total = 0
    for b in batches:
        t = pq.read_table(str(tmp_path / "results" / b))
        assert set(t.column("sf__Outcome").to_pylist()) == {"succeeded"}
        total += t.num_rows
    assert total == 3 * ROWS_PER_FILE


KILL_ROWS = 200


def fail_retries_while(flag: Path) -> Any:
    """A mapInArrow function that fails every retry of a task (attempt 1 on) while flag
    exists: with local[4,2] a task whose first attempt failed then fails the query."""
    path = str(flag)

    def fn(batches: Any) -> Any:
        import os

        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None and ctx.attemptNumber() > 0 and os.path.exists(path):
            raise RuntimeError("test: the retry fails too; the query stops")
        yield from batches

    return fn


def test_stream_killed_mid_batch_resumes_after_restart(spark: Any, org: Org, tmp_path: Path) -> None:
    """A micro-batch whose pipe was killed part-way, whose query then failed, is run again
    under the same batch id when the query restarts from its checkpoint: its pipe resumes
    the killed one's journal (runDir/stream/batchId=0/part-00000), and no row is loaded twice."""
    import uuid

    t = uuid.uuid4().hex[:6]
    src, flag = tmp_path / "in", tmp_path / "fail-retries"
    src.mkdir()
    flag.touch()

    def add(k: int) -> None:
        tb = pa.table({"LastName": [f"Kill{t}-{k}-{i}" for i in range(KILL_ROWS)],
                       "Email": [f"k{t}.{k}.{i}@example.com" for i in range(KILL_ROWS)]})
        pq.write_table(tb, src.parent / f".k{k}.parquet")
        shutil.move(str(src.parent / f".k{k}.parquet"), str(src / f"k{k}.parquet"))

    def run(**extra: str) -> Any:
        stream = (spark.readStream.schema("LastName string, Email string").option("maxFilesPerTrigger", 1)
                  .parquet(str(src)))
        stream = stream.mapInArrow(fail_retries_while(flag), stream.schema)
        w = (stream.writeStream.format("sfbatch").options(**org.creds(caCertFile=org.info["ca_cert_file"]))
             .option("sobject", "Contact").option("operation", "insert").option("api", "bulk1")
             .option("batchSize", "50").option("keyColumns", "Email")
             .option("runDir", str(tmp_path / "run")).option("resultsPath", str(tmp_path / "results"))
             .option("checkpointLocation", str(tmp_path / "checkpoint")))
        for k, v in extra.items():
            w = w.option(k, v)
        return w.start()

    add(0)
    # Batch 0's pipe dies once its 2nd Bulk API 1.0 batch is uploaded; Salesforce processes both
    # batches all the same, so a re-run without the journal would insert their rows again.
    q = run(testKillAfterSent="0:2")
    with pytest.raises(Exception):
        q.processAllAvailable()
    q.stop()
    journal = tmp_path / "run" / "stream" / "batchId=0" / "part-00000"
    assert journal.is_dir(), "the killed pipe left no journal"
    assert not (tmp_path / "run" / "stream" / "batchId=0" / "part-00000.json").exists()
    assert not (tmp_path / "checkpoint" / "commits" / "0").exists()
    assert org.count(f"WHERE LastName LIKE 'Kill{t}-0-%'") < KILL_ROWS

    flag.unlink()
    add(1)
    q = run()
    q.processAllAvailable()
    q.stop()
    assert (tmp_path / "checkpoint" / "commits" / "0").exists(), "Spark did not run batch 0 again"
    for k in range(2):
        assert org.count(f"WHERE LastName LIKE 'Kill{t}-{k}-%'") == KILL_ROWS
    got = pq.read_table(str(tmp_path / "results" / "batchId=0"))
    assert got.num_rows == KILL_ROWS
    assert set(got.column("sf__Outcome").to_pylist()) == {"succeeded"}
    assert len(set(got.column("sf__Id").to_pylist())) == KILL_ROWS
