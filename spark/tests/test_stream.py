"""df.writeStream.format("sfbatch") on local Spark: micro-batches from a file source, the
query stopped and restarted mid-way, a micro-batch re-run under the same batch id; every
row is loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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
