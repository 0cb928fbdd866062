"""A write that fails for good: abort() reads the journals and aborts the jobs left Open."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import Org
from sfbatch_spark import read_summary

ROWS, PARTITIONS, FAILING = 600, 2, 1


def test_task_failing_for_good_leaves_no_open_job(spark: Any, org: Org, tmp_path: Path) -> None:
    """Partition 1's pipe is killed after its 2nd upload in both attempts that local[4,2]
    allows, so each attempt leaves a Bulk API 2.0 job uploaded and never closed (Open), and
    the write fails. abort() runs `sfbatch pipe --abort-run` over the journals: the Open job
    is aborted, the write's error carries abort's message, which says that rows already
    loaded stay in the org, and the org holds no duplicate."""
    t = uuid.uuid4().hex[:8]
    open_before = {i for i, s in org.ingest_jobs().items() if s == "Open"}
    df = spark.createDataFrame(
        [(f"A{i}", f"Abort-{t}", f"a{i}-{t}@example.com") for i in range(ROWS)],
        "FirstName string, LastName string, Email string",
    ).repartition(PARTITIONS).localCheckpoint()
    results, runs = tmp_path / "results", tmp_path / "runs"
    with pytest.raises(Exception) as ei:
        df.write.format("sfbatch").mode("append").options(**org.creds()).options(
            sobject="Contact", api="bulk2", batchSize="50",
            concurrency="2", tasksAtOnce="2",  # one job at a time per task
            resultsPath=str(results), runDir=str(runs), leasePeriod="2s",
            testKillAfterSent=f"{FAILING}:2:2",  # every attempt of partition 1 dies after 2 uploads
        ).save()

    summary = read_summary(str(results))
    assert summary["state"] == "aborted"
    ab = summary["abort"]
    assert ab["exitCode"] == 0, ab
    assert ab["aborted"], ab
    assert {j["partition"] for j in ab["aborted"]} == {f"part-{FAILING:05d}"}
    jobs = org.ingest_jobs()
    for j in ab["aborted"]:
        assert jobs[j["job"]] == "Aborted"
    assert ab["rowsNotProcessed"] == 50 * len(ab["aborted"])
    # No job of this write stays Open.
    assert {i for i, s in jobs.items() if s == "Open"} <= open_before
    # abort's message: in the summary, in runDir, and in the error the write raised.
    assert "stay in the org" in ab["message"]
    assert any("stay in the org" in n for n in summary["notes"])
    run_dir = next(runs.iterdir())
    assert json.loads((run_dir / "_abort.json").read_text())["aborted"] == ab["aborted"]
    text = str(ei.value)
    assert "sfbatch abort" in text and "stay in the org" in text, text[-3000:]
    # What the failed partition loaded stays, once: no email twice.
    emails = [r["Email"] for r in org.query(f"SELECT Email FROM Contact WHERE LastName = 'Abort-{t}'")]
    assert len(emails) == len(set(emails))
    assert len(emails) <= ROWS - ab["rowsNotProcessed"]
