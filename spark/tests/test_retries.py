"""Exactly once under task retries: local[4,2] retries a task whose pipe was killed mid-write."""

from __future__ import annotations

import collections
import uuid
from pathlib import Path
from typing import Any

from conftest import Org
from sfbatch_spark import read_summary, write_with_results

ROWS, PARTITIONS, KILLED = 800, 4, 2


def test_killed_pipe_resumes_through_the_journal(spark: Any, org: Org, tmp_path: Path) -> None:
    t = uuid.uuid4().hex[:8]
    df = spark.createDataFrame(
        [(f"K{i}", f"Retry-{t}", f"k{i}-{t}@example.com") for i in range(ROWS)],
        "FirstName string, LastName string, Email string",
    ).repartition(PARTITIONS).localCheckpoint()  # the same rows on every attempt
    results = write_with_results(
        df, **org.creds(), sobject="Contact", operation="insert", api="bulk2", batchSize="50",
        keyColumns="Email", resultsPath=str(tmp_path / "results"), runDir=str(tmp_path / "runs"),
        testKillAfterSent=f"{KILLED}:2",  # partition 2's first pipe dies after its 2nd upload
        leasePeriod="2s",  # the retry takes the killed attempt's journal over after 2 s, not 30
    )
    summary = read_summary(str(tmp_path / "results"))
    assert summary["attempts"][str(KILLED)] == 1, summary  # Spark retried that task once
    rows = results.collect()
    # Every input row has exactly one result, and each loaded row exists once in the org.
    assert len(rows) == ROWS
    assert collections.Counter(r["Email"] for r in rows).most_common(1)[0][1] == 1
    assert {r["sf__Outcome"] for r in rows} == {"succeeded"}
    org_rows = org.query(f"SELECT Id, Email FROM Contact WHERE LastName = 'Retry-{t}'")
    assert len(org_rows) == ROWS
    assert {r["Email"]: r["Id"] for r in org_rows} == {r["Email"]: r["sf__Id"] for r in rows}
    assert summary["counts"]["succeeded"] == ROWS

    # The returned DataFrame only reads files: counting and collecting again loads nothing.
    assert results.count() == ROWS
    results.collect()
    assert org.count(f"WHERE LastName = 'Retry-{t}'") == ROWS
