"""spark.read.format("sfbatch") on local Spark against `sfbatch emulator`.

The emulator is seeded through its --data file (SQLite rows written here, not by a load),
with ids of real shape that cluster: several pods, each a run of consecutive record numbers
far apart from the others, of very different sizes. SFBATCH_READ_ROWS sets the row count
(default 200,000).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from pyspark.sql import functions as F

from conftest import Org, sfbatch_binary

ROWS = int(os.environ.get("SFBATCH_READ_ROWS", "200000"))
CHANGE_ROWS = 1000
PARTITIONS = 8
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: (pod, first record number, share of the rows): clusters as orgs that moved pods have.
CLUSTERS = (("5e", 10_000, 0.55), ("8a", 3_000_000, 0.25), ("Dn", 90_000_000, 0.15), ("Hq", 7_000, 0.05))

SCHEMA = {"objects": [
    {"name": "Reading__c", "label": "Reading", "labelPlural": "Readings", "keyPrefix": "a0R", "fields": [
        {"name": "Name", "type": "string", "length": 80},
        {"name": "Qty__c", "type": "int"},
        {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2},
        {"name": "Rate__c", "type": "percent", "precision": 5, "scale": 2},
        {"name": "Score__c", "type": "double", "precision": 18, "scale": 6},
        {"name": "Paid__c", "type": "boolean"},
        {"name": "Due__c", "type": "date"},
        {"name": "At__c", "type": "datetime"},
        {"name": "Kind__c", "type": "picklist", "values": ["A", "B", "C"]},
    ]},
    {"name": "Change__c", "label": "Change", "labelPlural": "Changes", "keyPrefix": "a0S", "fields": [
        {"name": "Name", "type": "string", "length": 80},
    ]},
    {"name": "Site__c", "label": "Site", "labelPlural": "Sites", "keyPrefix": "a0T", "fields": [
        {"name": "Name", "type": "string", "length": 80},
        {"name": "Loc__c", "type": "location", "scale": 6},
    ]},
]}

READ_QUERY = "SELECT Id, Name, Qty__c, Amount__c, Rate__c, Score__c, Paid__c, Due__c, At__c, Kind__c FROM Reading__c"


def b62(n: int, width: int) -> str:
    s = ""
    while n or len(s) < width:
        s = B62[n % 62] + s
        n //= 62
    return s


def id18(id15: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    out = ""
    for g in range(3):
        bits = sum(1 << i for i in range(5) if "A" <= id15[g * 5 + i] <= "Z")
        out += alphabet[bits]
    return id15 + out


def clustered_ids(prefix: str, n: int) -> list[str]:
    ids: list[str] = []
    for k, (pod, start, share) in enumerate(CLUSTERS):
        count = n - len(ids) if k == len(CLUSTERS) - 1 else int(n * share)
        ids += [id18(prefix + pod + "0" + b62(start + i, 9)) for i in range(count)]
    return ids


def row(i: int) -> dict[str, Any]:
    """The values of Reading__c number i (1-based), as the data file holds them."""
    r: dict[str, Any] = {
        "Name": f"Row {i}", "Amount__c": i + 0.25, "Rate__c": (i % 100) / 4, "Score__c": i / 8,
        "Paid__c": i % 2 == 0, "Due__c": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "At__c": f"2024-07-01T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.000Z", "Kind__c": "ABC"[i % 3],
        "CreatedDate": "2024-01-01T00:00:00.000Z", "SystemModstamp": "2024-01-01T00:00:00.000Z",
    }
    if i % 10:
        r["Qty__c"] = i
    return r


def start_read_org(d: Path) -> tuple[Org, subprocess.Popen[bytes]]:
    """Seed a data file in folder d and start `sfbatch emulator` on it."""
    (d / "schema.json").write_text(json.dumps(SCHEMA))
    db = sqlite3.connect(d / "org.db")
    db.execute("CREATE TABLE records (object TEXT NOT NULL, id TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("CREATE INDEX records_object ON records(object, id)")
    db.execute("CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)")
    ids = clustered_ids("a0R", ROWS)
    db.executemany("INSERT INTO records VALUES ('Reading__c', ?, ?)",
                   ((rid, json.dumps(row(i + 1))) for i, rid in enumerate(ids)))
    db.executemany("INSERT INTO records VALUES ('Change__c', ?, ?)", (
        (rid, json.dumps({"Name": f"C{i}", "SystemModstamp": "2024-01-01T00:00:00.000Z"}))
        for i, rid in enumerate(clustered_ids("a0S", CHANGE_ROWS))))
    db.commit()
    db.close()
    proc = subprocess.Popen(
        [sfbatch_binary(), "emulator", "--json", "--addr", "127.0.0.1:0", "--ca-cert-dir", str(d),
         "--schema", str(d / "schema.json"), "--data", str(d / "org.db")],
        stdout=subprocess.PIPE, stderr=open(d / "emulator.log", "wb"), stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise RuntimeError("sfbatch emulator did not start: " + (d / "emulator.log").read_text())
    info = json.loads(line)
    info = info.get("result", info)  # the sf CLI's {"status", "result"} shape
    o = Org(info)
    o.ids = ids  # type: ignore[attr-defined]
    return o, proc


@pytest.fixture(scope="module")
def read_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    o, proc = start_read_org(tmp_path_factory.mktemp("read-emulator"))
    try:
        yield o
    finally:
        proc.terminate()
        proc.wait(30)


def reader(spark: Any, org: Org, **options: Any) -> Any:
    r = spark.read.format("sfbatch").options(**org.creds(caCertFile=org.info["ca_cert_file"]))
    return r.options(**{k: str(v) for k, v in options.items()}).load()


def open_query_jobs(org: Org) -> set[str]:
    res = org.request("GET", "/services/data/v62.0/jobs/query")
    return {j["id"] for j in res.get("records", [])}


def check_every_row_once(df: Any, picks: tuple[int, ...] = ()) -> tuple[list[Any], list[Any]]:
    """One action: rows per partition, over all partitions the distinct ids and sums, and the
    rows named "Row i" for i in picks."""
    names = [f"Row {i}" for i in picks] or ["none"]
    per_part = df.groupBy(F.spark_partition_id().alias("p")).agg(
        F.count("*").alias("n"), F.countDistinct("Id").alias("ids"),
        F.sum("Qty__c").alias("qty"), F.sum(F.col("Paid__c").cast("int")).alias("paid"),
        F.collect_list(F.when(F.col("Name").isin(names), F.struct(*df.columns))).alias("picked"),
    ).collect()
    n = sum(r["n"] for r in per_part)
    assert n == ROWS, f"read {n} rows, want {ROWS}"
    assert sum(r["ids"] for r in per_part) == ROWS, "an id was read twice"
    assert sum(r["qty"] for r in per_part) == sum(i for i in range(1, ROWS + 1) if i % 10)
    assert sum(r["paid"] for r in per_part) == ROWS // 2
    return per_part, [p for r in per_part for p in r["picked"]]


def test_read_pages_every_row_once_typed(spark: Any, read_org: Org) -> None:
    before = open_query_jobs(read_org)
    df = reader(spark, read_org, query=READ_QUERY, pageSize=ROWS // PARTITIONS)
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    assert types == {
        "Id": "string", "Name": "string", "Qty__c": "bigint", "Amount__c": "double", "Rate__c": "double",
        "Score__c": "double", "Paid__c": "boolean", "Due__c": "date", "At__c": "timestamp", "Kind__c": "string",
    }
    import datetime as dt

    picks = (1, 10, ROWS // 2 + 3, ROWS)
    per_part, picked = check_every_row_once(df, picks)
    assert len(per_part) == PARTITIONS, f"{len(per_part)} partitions, want one per result page ({PARTITIONS})"
    # Exact values of a few rows, as Spark holds them.
    got = {r["Name"]: r for r in picked}
    assert len(got) == len(picks)
    ids = read_org.ids  # type: ignore[attr-defined]
    for i in picks:
        r, w = got[f"Row {i}"], row(i)
        assert r["Id"] == ids[i - 1]
        assert r["Qty__c"] == (i if i % 10 else None)
        assert r["Amount__c"] == w["Amount__c"] and r["Rate__c"] == w["Rate__c"] and r["Score__c"] == w["Score__c"]
        assert r["Paid__c"] is (i % 2 == 0) and r["Kind__c"] == w["Kind__c"]
        assert r["Due__c"] == dt.date.fromisoformat(w["Due__c"])
        want_at = dt.datetime.fromisoformat(w["At__c"].replace("Z", "+00:00"))
        assert r["At__c"].replace(tzinfo=None) == want_at.astimezone().replace(tzinfo=None)  # session time zone
    # Another action on the DataFrame reads the pages of the same job again (Spark planned it
    # once); the job is kept for that, and the next read planned after keepJobsFor deletes it.
    assert df.where(F.col("Name") == "Row 1").count() == 1
    created = open_query_jobs(read_org) - before
    assert len(created) == 1, created
    assert reader(spark, read_org, query="SELECT Id FROM Change__c", keepJobsFor="0s").count() == CHANGE_ROWS
    assert created & open_query_jobs(read_org) == set()


def test_read_id_range_balanced_on_clustered_ids(spark: Any, read_org: Org) -> None:
    df = reader(spark, read_org, query=READ_QUERY, partitioning="idRange", numPartitions=PARTITIONS)
    per_part, _ = check_every_row_once(df)
    sizes = sorted(r["n"] for r in per_part)
    assert len(sizes) == PARTITIONS
    assert sizes[-1] <= 2 * ROWS / PARTITIONS and sizes[0] >= ROWS / PARTITIONS / 2, f"unbalanced: {sizes}"


def test_naive_split_of_these_ids_is_unbalanced(read_org: Org) -> None:
    """The data set is one that needs sampling: equal-width id ranges are far from equal."""
    def num(x: str) -> int:
        v = 0
        for c in x[:15]:
            v = v * 62 + B62.index(c)
        return v

    nums = sorted(num(x) for x in read_org.ids)  # type: ignore[attr-defined]
    width = (nums[-1] - nums[0] + 1) / PARTITIONS
    counts = [0] * PARTITIONS
    for v in nums:
        counts[min(PARTITIONS - 1, int((v - nums[0]) / width))] += 1
    assert max(counts) > 2 * ROWS / PARTITIONS


def test_read_pk_chunking(spark: Any, read_org: Org) -> None:
    df = reader(spark, read_org, query=READ_QUERY, pkChunking=ROWS // PARTITIONS)
    per_part, _ = check_every_row_once(df)
    assert len(per_part) == PARTITIONS


def test_incremental_read(spark: Any, read_org: Org, tmp_path: Path) -> None:
    from sfbatch_spark import commit_since

    state = tmp_path / "state" / "changes.json"
    opts = dict(sobject="Change__c", fields="Id,Name", since=str(state))
    first = reader(spark, read_org, **opts)
    assert [f.name for f in first.schema.fields] == ["Id", "Name", "IsDeleted"]
    assert first.count() == CHANGE_ROWS
    commit_since(str(state))
    assert reader(spark, read_org, **opts).count() == 0
    commit_since(str(state))

    recs = read_org.query("SELECT Id FROM Change__c ORDER BY Id LIMIT 5")
    changed, deleted = [r["Id"] for r in recs[:3]], [r["Id"] for r in recs[3:]]
    for rid in changed:
        read_org.request("PATCH", f"/services/data/v62.0/sobjects/Change__c/{rid}", {"Name": "changed"})
    for rid in deleted:
        read_org.request("DELETE", f"/services/data/v62.0/sobjects/Change__c/{rid}")
    want = sorted([(rid, "changed", False) for rid in changed] +
                  [(rid, None, True) for rid in deleted], key=lambda t: t[0])
    for _ in range(2):  # not committed: the same window again
        got = sorted(((r["Id"], r["Name"] if not r["IsDeleted"] else None, r["IsDeleted"])
                      for r in reader(spark, read_org, **opts).collect()), key=lambda t: t[0])
        assert got == want
    commit_since(str(state))
    assert reader(spark, read_org, **opts).count() == 0


def test_read_compound_fields_as_their_components(spark: Any, read_org: Org) -> None:
    """An address or a geolocation named in the fields (or the query) is read as its
    component fields, each a column of its own Spark type; "*" reads every field but the
    compound ones."""
    read_org.request("POST", "/services/data/v62.0/sobjects/Account", {
        "Name": "Compound 1", "BillingStreet": "1 Rue de Rivoli", "BillingCity": "Paris", "BillingCountry": "France",
        "BillingLatitude": 48.8566, "BillingLongitude": 2.3522, "BillingGeocodeAccuracy": "City"})
    read_org.request("POST", "/services/data/v62.0/sobjects/Site__c",
                     {"Name": "London", "Loc__Latitude__s": 51.5072, "Loc__Longitude__s": -0.1276})

    df = reader(spark, read_org, sobject="Account", fields="Name,BillingAddress", where="Name = 'Compound 1'")
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("Name", "string"), ("BillingStreet", "string"), ("BillingCity", "string"), ("BillingState", "string"),
        ("BillingPostalCode", "string"), ("BillingCountry", "string"), ("BillingLatitude", "double"),
        ("BillingLongitude", "double"), ("BillingGeocodeAccuracy", "string"),
    ]
    assert [r.asDict() for r in df.collect()] == [{
        "Name": "Compound 1", "BillingStreet": "1 Rue de Rivoli", "BillingCity": "Paris", "BillingState": None,
        "BillingPostalCode": None, "BillingCountry": "France", "BillingLatitude": 48.8566,
        "BillingLongitude": 2.3522, "BillingGeocodeAccuracy": "City",
    }]

    site = reader(spark, read_org, query="SELECT Name, Loc__c FROM Site__c")
    assert [(f.name, f.dataType.simpleString()) for f in site.schema.fields] == [
        ("Name", "string"), ("Loc__Latitude__s", "double"), ("Loc__Longitude__s", "double")]
    assert [tuple(r) for r in site.collect()] == [("London", 51.5072, -0.1276)]

    every = reader(spark, read_org, sobject="Site__c", fields="*")
    names = every.schema.fieldNames()
    assert "Loc__c" not in names and {"Id", "Name", "Loc__Latitude__s", "Loc__Longitude__s"} <= set(names)
    assert every.select("Loc__Latitude__s").collect()[0][0] == 51.5072


def test_completed_read_leaves_no_query_job_with_keep_jobs_for_zero(spark: Any, read_org: Org, tmp_path: Path) -> None:
    """keepJobsFor=0: the task that reads a read's last page deletes its query job."""
    before = open_query_jobs(read_org)
    df = reader(spark, read_org, query="SELECT Id, Name FROM Change__c", pageSize=CHANGE_ROWS // 4,
                keepJobsFor="0s", runDir=str(tmp_path / "run"))
    assert df.count() == read_org.count("", sobject="Change__c")  # the incremental test deletes a few
    assert open_query_jobs(read_org) - before == set()
