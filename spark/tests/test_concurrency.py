"""The write's concurrency is the total: the driver splits it between the tasks at once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from conftest import Org
from sfbatch_spark import read_summary, write_with_results


def test_concurrency_is_split_between_the_tasks(spark: Any, org: Org, tmp_path: Path) -> None:
    """local[4,2] has 4 task slots: on 4 partitions concurrency 8 gives each task's pipe
    --concurrency 2; on 2 partitions it gives 4."""
    t = uuid.uuid4().hex[:8]
    for parts, per_task in ((4, 2), (2, 4)):
        df = spark.createDataFrame(
            [(f"C{i}", f"Conc-{t}-{parts}") for i in range(40)], "FirstName string, LastName string",
        ).repartition(parts).localCheckpoint()
        path = tmp_path / f"r{parts}"
        res = write_with_results(df, **org.creds(), sobject="Contact", concurrency="8", resultsPath=str(path))
        s = read_summary(str(path))
        assert s["concurrency"] == {"total": 8, "tasksAtOnce": parts, "perTask": per_task}
        # What each task's pipe ran with (read back from the argv each task built).
        assert s["taskConcurrency"] == {str(p): per_task for p in range(parts)}
        assert res.count() == 40


def test_api_share_is_split_between_the_partitions(spark: Any, org: Org, tmp_path: Path) -> None:
    """maxApiShare is the whole write's: write_with_results counts the partitions and each
    task's pipe gets its part; a plain df.write without numPartitions is refused before any
    task starts."""
    t = uuid.uuid4().hex[:8]
    df = spark.createDataFrame(
        [(f"S{i}", f"Share-{t}") for i in range(30)], "FirstName string, LastName string",
    ).repartition(3).localCheckpoint()
    path = tmp_path / "share"
    res = write_with_results(df, **org.creds(), sobject="Contact", maxApiShare="60%", resultsPath=str(path))
    s = read_summary(str(path))
    assert s["maxApiShare"]["total"] == 0.6 and s["maxApiShare"]["partitions"] == 3
    assert abs(s["maxApiShare"]["perTask"] - 0.2) < 1e-9
    assert res.filter("sf__Outcome = 'succeeded'").count() == 30
    try:
        df.write.format("sfbatch").mode("append").options(**org.creds(), sobject="Contact", maxApiShare="0.5").save()
    except Exception as e:  # noqa: BLE001 - Spark wraps the data source's error
        assert "numPartitions" in str(e)
    else:
        raise AssertionError("maxApiShare without numPartitions was accepted")
