"""Per-row results, failing rows, empty partitions, nulls, lock contention, no secrets in the UI."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import Org
from sfbatch_spark import RESULT_COLUMNS, read_summary, write_with_results


def tag() -> str:
    return uuid.uuid4().hex[:8]


def test_insert_results_one_row_per_input_row(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    df = spark.createDataFrame(
        [{"FirstName": f"R{i}", "LastName": f"Res-{t}", "Email": f"r{i}-{t}@example.com"} for i in range(50)]
    ).repartition(3)
    res = write_with_results(df, **org.creds(), sobject="Contact", keyColumns="Email",
                             resultsPath=str(tmp_path / "results"))
    rows = res.collect()
    assert res.columns == list(RESULT_COLUMNS) + ["Email"]
    assert len(rows) == 50
    assert {r["sf__Outcome"] for r in rows} == {"succeeded"}
    assert all(r["sf__Created"] for r in rows)
    org_ids = {r["Email"]: r["Id"] for r in org.query(f"SELECT Id, Email FROM Contact WHERE LastName = 'Res-{t}'")}
    assert {r["Email"]: r["sf__Id"] for r in rows} == org_ids
    s = read_summary(str(tmp_path / "results"))
    assert (s["state"], s["rows"], s["counts"]["succeeded"], s["counts"]["failed"]) == ("committed", 50, 50, 0)
    # Only Parquet and _summary.json: the attempts folder is gone after the commit.
    assert sorted(p.suffix or p.name for p in (tmp_path / "results").iterdir()) == [".json", ".parquet", ".parquet", ".parquet"]


def test_failing_rows_are_results_not_errors(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    data = [{"FirstName": f"F{i}", "LastName": None if i % 5 == 0 else f"Fail-{t}", "Email": f"f{i}-{t}@x.com"}
            for i in range(20)]
    df = spark.createDataFrame(data, "FirstName string, LastName string, Email string")
    res = write_with_results(df, **org.creds(), sobject="Contact", api="bulk2", keyColumns="Email",
                             resultsPath=str(tmp_path / "r"))
    by_email = {r["Email"]: r for r in res.collect()}
    assert len(by_email) == 20
    for i in range(20):
        r = by_email[f"f{i}-{t}@x.com"]
        if i % 5 == 0:
            assert (r["sf__Outcome"], r["sf__ErrorCode"]) == ("failed", "REQUIRED_FIELD_MISSING")
            assert r["sf__Id"] is None
        else:
            assert r["sf__Outcome"] == "succeeded" and r["sf__Id"]
    assert org.count(f"WHERE LastName = 'Fail-{t}'") == 16
    assert read_summary(str(tmp_path / "r"))["counts"] == {"succeeded": 16, "failed": 4, "notProcessed": 0, "unknown": 0}


def test_empty_partitions(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    df = spark.createDataFrame([{"LastName": f"Empty-{t}", "FirstName": str(i)} for i in range(3)]).repartition(8)
    assert df.rdd.getNumPartitions() == 8  # at least five of them are empty
    res = write_with_results(df, **org.creds(), sobject="Contact", resultsPath=str(tmp_path / "r"))
    assert res.count() == 3
    assert org.count(f"WHERE LastName = 'Empty-{t}'") == 3
    # A DataFrame with no rows at all: no task starts a pipe, the results are empty.
    res = write_with_results(df.limit(0), **org.creds(), sobject="Contact", resultsPath=str(tmp_path / "r0"))
    assert res.count() == 0
    assert read_summary(str(tmp_path / "r0"))["rows"] == 0


@pytest.mark.parametrize("ignore, phone_after", [("true", "555-0001"), ("false", None)])
def test_ignore_null_values(spark: Any, org: Org, tmp_path: Path, ignore: str, phone_after: Any) -> None:
    t = tag()
    ext = f"NULL-{t}"
    first = spark.createDataFrame([{"External_Id__c": ext, "LastName": "Nulls", "Phone": "555-0001",
                                    "Title": "Boss"}])
    write_with_results(first, **org.creds(), sobject="Contact", operation="upsert", upsertField="External_Id__c",
                       nullValue="skip", resultsPath=str(tmp_path / "a"))
    second = spark.createDataFrame([(ext, None, "")], "External_Id__c string, Phone string, Title string")
    res = write_with_results(second, **org.creds(), sobject="Contact", operation="upsert",
                             upsertField="External_Id__c", ignoreNullValues=ignore, resultsPath=str(tmp_path / "b"))
    assert [r["sf__Outcome"] for r in res.collect()] == ["succeeded"]
    rec = org.query(f"SELECT Phone, Title FROM Contact WHERE External_Id__c = '{ext}'")
    assert rec[0]["Phone"] == phone_after
    # An empty string is sent as empty, never as a null: Salesforce leaves the field as it was.
    assert rec[0]["Title"] == "Boss"


def test_lock_contention_is_retried(spark: Any, org: Org, tmp_path: Path) -> None:
    """The emulator's lock contention fails some rows with UNABLE_TO_LOCK_ROW on their first
    attempt (rows of a Parallel Bulk API 1.0 job whose parent an earlier batch also
    references); pipe resubmits them in a retry pass. The summary counts the resubmissions,
    the results show rows that ended in a retry pass's job, and every row ends succeeded once."""
    t = tag()
    acct = spark.createDataFrame([{"Name": f"Lock-{t}-{i}", "Oracle_Id__c": f"LOCK-{t}-{i}"} for i in range(3)])
    write_with_results(acct, **org.creds(), sobject="Account", operation="upsert", upsertField="Oracle_Id__c",
                       resultsPath=str(tmp_path / "a"))

    def contacts(name: str) -> Any:
        return spark.createDataFrame(
            [(f"L{i}", name, f"LOCK-{t}-{i % 3}") for i in range(300)],
            "FirstName string, LastName string, `Account.Oracle_Id__c` string",
        ).repartition(2)

    opts = dict(org.creds(), sobject="Contact", api_version="1", batchSize="25")
    org.lock_contention(0.2)
    try:
        res = write_with_results(contacts(f"Lock-{t}"), **opts, retries="10", keyColumns="FirstName",
                                 resultsPath=str(tmp_path / "c"))
        rows = res.collect()
    finally:
        org.lock_contention(0)
    summary = read_summary(str(tmp_path / "c"))
    # Contention happened: rows were resubmitted, and some ended in a retry pass's job (each
    # partition's first pass is one Bulk API 1.0 job; a retry pass is another).
    assert summary["retried"] > 0, summary
    assert len({r["sf__Job"] for r in rows}) > 2, "no row ended in a retry pass's job"
    # Every row ends succeeded exactly once.
    assert len(rows) == 300 and {r["sf__Outcome"] for r in rows} == {"succeeded"}
    assert sorted(r["FirstName"] for r in rows) == sorted(f"L{i}" for i in range(300))
    assert len({r["sf__Id"] for r in rows}) == 300
    assert summary["counts"]["succeeded"] == 300
    assert org.count(f"WHERE LastName = 'Lock-{t}'") == 300


def test_no_secret_in_spark_ui_or_errors(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    df = spark.createDataFrame([{"LastName": f"UI-{t}"}])
    creds = org.creds()
    write_with_results(df, **creds, sobject="Contact", resultsPath=str(tmp_path / "r"))
    sc = spark.sparkContext
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    pages = []
    for path in ("/sql?details=true&planDescription=true", "/environment", "/jobs", "/stages?details=true"):
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            pages.append(resp.read().decode())
    text = "\n".join(pages)
    assert "AppendData" in text or "sfbatch" in text  # the write's plan is there
    for secret in (creds["password"], creds["security_token"]):
        assert secret not in text
    assert os.environ.get("SF_PASSWORD") is None
    sessions = [json.dumps(org.info["access_token"])]
    assert not any(s.strip('"') in text for s in sessions)
