"""simple-salesforce 1.12.6 (seed 004), unmodified, against `sfbatch emulator`: REST, Bulk API
1.0 and Bulk API 2.0.

Its login helpers build https://{domain}.salesforce.com URLs, so the suite uses its public
session_id + instance_url form (the port is kept) and passes a requests session that
trusts the emulator's CA.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from conftest import API_VERSION, Emulator, Org


@pytest.fixture
def sf(emulator: Emulator, http: requests.Session) -> Salesforce:
    return Salesforce(instance_url=emulator.instance_url, session_id=emulator.access_token, session=http, version=API_VERSION)


def test_rest_crud_upsert_and_query_paging(sf: Salesforce, org: Org, prefix: str) -> None:
    created = sf.Contact.create({"LastName": f"{prefix}a", "Email": "a@example.com"})
    assert created["success"] is True
    cid = created["id"]
    assert sf.Contact.get(cid)["Email"] == "a@example.com"
    assert sf.Contact.update(cid, {"Email": "b@example.com"}) == 204
    assert sf.Contact.upsert(f"External_Id__c/{prefix}-e1", {"LastName": f"{prefix}b"}) == 201
    # Updating through upsert answers 200 with a body from API 46.0 on (204 before).
    assert sf.Contact.upsert(f"External_Id__c/{prefix}-e1", {"LastName": f"{prefix}c"}) == 200
    assert sf.Contact.get_by_custom_id("External_Id__c", f"{prefix}-e1")["LastName"] == f"{prefix}c"
    # Collections, 200 records per call, to have more than one query page.
    for start in range(0, 2200, 200):
        res = sf.restful(
            "composite/sobjects",
            method="POST",
            json={"allOrNone": True, "records": [
                {"attributes": {"type": "Contact"}, "LastName": f"{prefix}{i:05d}"} for i in range(start, start + 200)]},
        )
        assert all(r["success"] for r in res)
    soql = f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%'"
    first = sf.query(soql)
    assert first["done"] is False and first["totalSize"] == 2202 and len(first["records"]) == 2000
    everything = sf.query_all(soql)["records"]
    assert len(everything) == 2202
    assert sf.Contact.delete(cid) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(cid)
    stored = org.contacts(prefix)
    assert len(stored) == 2201 and cid not in stored
    assert {r["Id"] for r in everything} - {cid} == set(stored)
    assert len(sf.query_all(soql, include_deleted=True)["records"]) == 2202


def test_bulk_v1(sf: Salesforce, org: Org, prefix: str) -> None:
    """JSON jobs with integer concurrencyMode, several batches, serial and parallel."""
    data = [{"LastName": f"{prefix}{i:04d}", "Email": f"c{i}@example.com"} for i in range(1200)]
    data[700]["LastName"] = None
    results = sf.bulk.Contact.insert(data, batch_size=500, use_serial=True)
    assert len(results) == 1200
    assert [r["success"] for r in results].count(False) == 1 and results[700]["success"] is False
    ids = [r["id"] for r in results if r["success"]]
    stored = org.contacts(prefix)
    assert set(stored) == set(ids)

    updated = sf.bulk.Contact.update([{"Id": i, "Email": "upd@example.com"} for i in ids[:10]], batch_size=4)
    assert [r["id"] for r in updated] == ids[:10] and all(r["success"] for r in updated)
    up = sf.bulk.Contact.upsert([{"External_Id__c": f"{prefix}-x{i}", "LastName": f"{prefix}up{i}"} for i in range(5)], "External_Id__c")
    assert all(r["success"] and r["created"] for r in up)

    got = sf.bulk.Contact.query(f"SELECT Id, Email FROM Contact WHERE LastName LIKE '{prefix}%'", wait=1)
    assert len(got) == 1199 + 5
    assert sum(r["Email"] == "upd@example.com" for r in got) == 10

    deleted = sf.bulk.Contact.delete([{"Id": i} for i in ids[:100]])
    assert all(r["success"] for r in deleted)
    stored = org.contacts(prefix)
    assert len(stored) == 1199 + 5 - 100 and stored[ids[150]]["Email"] == "c150@example.com"
    everything = sf.bulk.Contact.query_all(f"SELECT Id FROM Contact WHERE LastName LIKE '{prefix}%'", wait=1)
    assert len(everything) == 1199 + 5


def csv_rows(pages: object) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for page in pages:  # type: ignore[attr-defined]
        out.extend(csv.DictReader(io.StringIO(page)))
    return out


def test_bulk_v2(sf: Salesforce, org: Org, prefix: str, tmp_path: Path) -> None:
    records = [{"LastName": f"{prefix}{i:04d}", "Email": f"c{i}@example.com"} for i in range(1500)]
    records[3]["LastName"] = ""
    res = sf.bulk2.Contact.insert(records=records, wait=1)
    assert sum(r["numberRecordsProcessed"] for r in res) == 1500
    assert sum(r["numberRecordsFailed"] for r in res) == 1
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(res[0]["job_id"]))))
    assert len(failed) == 1 and "REQUIRED_FIELD_MISSING" in failed[0]["sf__Error"]
    stored = org.contacts(prefix)
    assert len(stored) == 1499

    rows = csv_rows(sf.bulk2.Contact.query(f"SELECT Id, Email FROM Contact WHERE LastName LIKE '{prefix}%'", max_records=400, wait=1))
    assert {r["Id"] for r in rows} == set(stored)
    ids = sorted(stored)
    res = sf.bulk2.Contact.update(records=[{"Id": i, "Email": "upd@example.com"} for i in ids[:20]], wait=1)
    assert sum(r["numberRecordsProcessed"] for r in res) == 20 and sum(r["numberRecordsFailed"] for r in res) == 0
    res = sf.bulk2.Contact.upsert(
        records=[{"External_Id__c": f"{prefix}-u{i}", "LastName": f"{prefix}u{i}"} for i in range(3)],
        external_id_field="External_Id__c", wait=1)
    assert sum(r["numberRecordsProcessed"] for r in res) == 3
    # The library's delete takes a CSV file only (its records= argument is refused).
    to_delete = tmp_path / "delete.csv"
    to_delete.write_text("Id\n" + "".join(i + "\n" for i in ids[:50]), encoding="utf-8")
    res = sf.bulk2.Contact.delete(csv_file=str(to_delete), wait=1)
    assert sum(r["numberRecordsProcessed"] for r in res) == 50
    stored = org.contacts(prefix)
    assert len(stored) == 1499 - 50 + 3
    assert sum(r["Email"] == "upd@example.com" for r in stored.values()) == 0  # the 20 updated were deleted too
    rows = csv_rows(sf.bulk2.Contact.query_all(f"SELECT Id FROM Contact WHERE LastName LIKE '{prefix}%'", wait=1))
    assert len(rows) == 1499 + 3
