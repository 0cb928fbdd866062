"""heroku's salesforce-bulk 2.2.0 (seeds 001 and 003), unmodified, against `sfbatch emulator`.

The library takes a session id and an instance host; it uses module-level requests calls, so
the emulator's CA is trusted through REQUESTS_CA_BUNDLE (conftest.py).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any, Iterator

import pytest
import unicodecsv
from salesforce_bulk import CsvDictsAdapter, SalesforceBulk, UploadResult
from salesforce_bulk.salesforce_bulk import BulkBatchFailed

from conftest import API_VERSION, Emulator, Org

POLL = 0.05  # seconds between batch polls; the emulator's instant profile finishes at once


@pytest.fixture
def bulk(emulator: Emulator) -> SalesforceBulk:
    return SalesforceBulk(sessionId=emulator.access_token, host=emulator.instance_url, API_version=API_VERSION)


def rows(prefix: str, n: int, start: int = 0) -> Iterator[dict[str, str]]:
    for i in range(start, start + n):
        yield {"FirstName": f"F{i}", "LastName": f"{prefix}{i:06d}", "Email": f"c{i}@example.com"}


def wait(bulk: SalesforceBulk, job_id: str, batch_id: str) -> None:
    bulk.wait_for_batch(job_id, batch_id, timeout=60, sleep_interval=POLL)
    assert bulk.batch_state(batch_id, job_id, reload=True) == "Completed"


def query_rows(bulk: SalesforceBulk, job_id: str, batch_id: str, content_type: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for result in bulk.get_all_results_for_query_batch(batch_id, job_id):
        if content_type == "JSON":
            for rec in json.load(result):
                rec.pop("attributes", None)
                out.append(rec)
        else:
            out.extend(unicodecsv.DictReader(result, encoding="utf-8"))
    return out


def test_csv_insert_streamed_batches_serial(bulk: SalesforceBulk, org: Org, prefix: str) -> None:
    """10,000 rows streamed as three CSV batches (CsvDictsAdapter) of a Serial job, results
    per row in input order; one bad row fails alone. (The library reads result files one
    byte at a time, about 1.5 s per 2,000 rows, which bounds the size here.)"""
    job = bulk.create_insert_job("Contact", contentType="CSV", concurrency="Serial")
    sizes = [4_000, 4_000, 2_000]
    batch_ids = []
    start = 0
    for size in sizes:
        data = list(rows(prefix, size, start))
        if start == 4_000:
            data[7]["LastName"] = ""  # required: this row alone fails
        batch_ids.append(bulk.post_batch(job, CsvDictsAdapter(iter(data))))
        start += size
    bulk.close_job(job)
    assert bulk.job_status(job)["concurrencyMode"] == "Serial"
    ids: list[str] = []
    row_of: dict[str, int] = {}  # record id -> input row number
    for b, batch_id in enumerate(batch_ids):
        wait(bulk, job, batch_id)
        results = bulk.get_batch_results(batch_id, job)
        assert len(results) == sizes[b]
        assert all(isinstance(r, UploadResult) for r in results)
        for i, r in enumerate(results):
            if b == 1 and i == 7:
                assert r.success == "false" and "REQUIRED_FIELD_MISSING" in r.error
                continue
            assert r.success == "true" and r.created == "true" and r.id.startswith("003"), (b, i, r)
            ids.append(r.id)
            row_of[r.id] = sum(sizes[:b]) + i
    stored = org.contacts(prefix)
    assert len(stored) == 9_999
    assert set(stored) == set(ids)
    # Each result line is the outcome of the input row at the same position.
    assert all(stored[i]["LastName"] == f"{prefix}{n:06d}" for i, n in row_of.items())
    assert stored[ids[0]]["Email"] == "c0@example.com"
    status = bulk.job_status(job)
    assert status["state"] == "Closed" and status["numberRecordsProcessed"] == "10000"
    assert status["numberRecordsFailed"] == "1" and status["numberBatchesCompleted"] == "3"


@pytest.mark.parametrize("content_type", ["JSON", "CSV"])
def test_update_upsert_delete_query(bulk: SalesforceBulk, org: Org, prefix: str, content_type: str) -> None:
    """Insert, update, upsert, delete, query and queryAll, in JSON jobs (created with an XML
    body, answered in XML) and CSV jobs, Parallel."""

    def encode(data: list[dict[str, str]]) -> Any:
        return json.dumps(data) if content_type == "JSON" else CsvDictsAdapter(iter(data))

    def run(job: str, data: list[dict[str, str]]) -> list[UploadResult]:
        batch_id = bulk.post_batch(job, encode(data))
        bulk.close_job(job)
        wait(bulk, job, batch_id)
        results: list[UploadResult] = bulk.get_batch_results(batch_id, job)
        assert len(results) == len(data)
        return results

    def ok(r: UploadResult) -> bool:
        return r.success in (True, "true")

    job = bulk.create_insert_job("Contact", contentType=content_type, concurrency="Parallel")
    inserted = run(job, list(rows(prefix, 20)))
    ids = [r.id for r in inserted]
    assert all(ok(r) for r in inserted) and len(set(ids)) == 20

    job = bulk.create_update_job("Contact", contentType=content_type)
    updated = run(job, [{"Id": i, "Email": f"new{n}@example.com"} for n, i in enumerate(ids[:5])])
    assert [r.id for r in updated] == ids[:5] and all(ok(r) for r in updated)

    job = bulk.create_upsert_job("Contact", "External_Id__c", contentType=content_type)
    up = run(job, [{"External_Id__c": f"{prefix}-x{i}", "LastName": f"{prefix}up{i}"} for i in range(3)])
    assert all(ok(r) for r in up)

    job = bulk.create_delete_job("Contact", contentType=content_type)
    deleted = run(job, [{"Id": i} for i in ids[15:]])
    assert [r.id for r in deleted] == ids[15:] and all(ok(r) for r in deleted)

    stored = org.contacts(prefix)
    assert len(stored) == 15 + 3
    assert stored[ids[0]]["Email"] == "new0@example.com" and stored[ids[6]]["Email"] == "c6@example.com"
    assert sorted(r["External_Id__c"] for r in stored.values() if r["External_Id__c"]) == [f"{prefix}-x{i}" for i in range(3)]

    soql = f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%' ORDER BY LastName"
    job = bulk.create_query_job("Contact", contentType=content_type)
    batch_id = bulk.query(job, soql)
    bulk.close_job(job)
    wait(bulk, job, batch_id)
    got = query_rows(bulk, job, batch_id, content_type)
    assert {r["Id"] for r in got} == set(stored)
    assert bulk.get_query_batch_request(batch_id, job) == soql

    job = bulk.create_queryall_job("Contact", contentType=content_type)
    batch_id = bulk.query(job, soql)
    bulk.close_job(job)
    wait(bulk, job, batch_id)
    assert {r["Id"] for r in query_rows(bulk, job, batch_id, content_type)} == set(stored) | set(ids[15:])


@pytest.mark.parametrize("pk_chunking", [True, 2000])
def test_pk_chunking(bulk: SalesforceBulk, org: Org, prefix: str, pk_chunking: bool | int) -> None:
    """PK chunking: the original batch goes NotProcessed, the chunk batches hold every row once."""
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch_id = bulk.post_batch(job, CsvDictsAdapter(rows(prefix, 4500)))
    bulk.close_job(job)
    wait(bulk, job, batch_id)
    want = set(org.contacts(prefix))
    assert len(want) == 4500

    job = bulk.create_query_job("Contact", contentType="CSV", pk_chunking=pk_chunking)
    original = bulk.query(job, f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%'")
    with pytest.raises(BulkBatchFailed):  # the library treats NotProcessed as an error
        bulk.wait_for_batch(job, original, timeout=60, sleep_interval=POLL)
    assert bulk.batch_state(original, job, reload=True) == "NotProcessed"
    chunks = [b for b in bulk.get_batch_list(job) if b["id"] != original]
    if pk_chunking == 2000:
        assert len(chunks) >= 3
    got: list[str] = []
    for b in chunks:
        wait(bulk, job, b["id"])
        got.extend(r["Id"] for r in query_rows(bulk, job, b["id"], "CSV"))
    bulk.close_job(job)
    assert len(got) == len(want) and set(got) == want


def test_bad_batch_fails_and_abort(bulk: SalesforceBulk, prefix: str, org: Org) -> None:
    """A batch naming an unknown field fails as a whole with its state message; abort works."""
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch_id = bulk.post_batch(job, CsvDictsAdapter(iter([{"LastName": prefix, "NoSuchField__c": "x"}])))
    with pytest.raises(BulkBatchFailed) as failed:
        bulk.wait_for_batch(job, batch_id, timeout=60, sleep_interval=POLL)
    assert "NoSuchField__c" in str(failed.value.state_message)
    bulk.abort_job(job)
    assert bulk.job_state(job) == "Aborted"
    assert org.contacts(prefix) == {}


def test_json_job_status_is_json(bulk: SalesforceBulk, emulator: Emulator, http: Any) -> None:
    """Known incompatibility, kept on purpose: Salesforce answers requests about a JSON job in
    JSON whatever their Content-Type ("Content Type Header" in the Bulk API guide), and
    salesforce-bulk's job_status always parses XML, so job_status on a JSON job fails, as it
    does against a real org. Its batch_status and get_batch_list read either format."""
    job = bulk.create_insert_job("Contact", contentType="JSON")
    with pytest.raises(ET.ParseError):
        bulk.job_status(job)
    r = http.get(
        f"{emulator.instance_url}/services/async/{API_VERSION}/job/{job}",
        headers={"X-SFDC-Session": emulator.access_token, "Content-Type": "application/xml; charset=UTF-8"},
    )
    assert r.headers["Content-Type"] == "application/json" and r.json()["contentType"] == "JSON"
    bulk.abort_job(job)


def test_readme_flows(bulk: SalesforceBulk, org: Org, prefix: str) -> None:
    """The library README's own snippets: post_batch of Accounts from CsvDictsAdapter, JSON
    query read with json.load(IteratorBytesIO(result)), CSV query read with
    unicodecsv.DictReader, and PK chunking spelled as a header string with startRow."""
    from salesforce_bulk.util import IteratorBytesIO

    accounts = [{"Name": f"{prefix} account {i}"} for i in range(30)]
    job = bulk.create_insert_job("Account", contentType="CSV")
    batch = bulk.post_batch(job, CsvDictsAdapter(iter(accounts)))
    bulk.wait_for_batch(job, batch, sleep_interval=POLL)
    bulk.close_job(job)
    assert all(r.success == "true" for r in bulk.get_batch_results(batch, job))
    names = {r["Name"] for r in org.query(f"SELECT Name FROM Account WHERE Name LIKE '{prefix}%'")}
    assert names == {a["Name"] for a in accounts}

    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch = bulk.post_batch(job, CsvDictsAdapter(rows(prefix, 300)))
    bulk.wait_for_batch(job, batch, sleep_interval=POLL)
    bulk.close_job(job)
    stored = org.contacts(prefix)
    soql = f"select Id,LastName from Contact where LastName like '{prefix}%'"

    job = bulk.create_query_job("Contact", contentType="JSON")
    batch = bulk.query(job, soql)
    bulk.close_job(job)
    while not bulk.is_batch_done(batch):
        time.sleep(POLL)
    got: dict[str, str] = {}
    for result in bulk.get_all_results_for_query_batch(batch):
        for row in json.load(IteratorBytesIO(result)):
            got[row["Id"]] = row["LastName"]
    assert got == {i: r["LastName"] for i, r in stored.items()}

    job = bulk.create_query_job("Contact", contentType="CSV")
    batch = bulk.query(job, soql)
    bulk.close_job(job)
    while not bulk.is_batch_done(batch):
        time.sleep(POLL)
    got = {}
    for result in bulk.get_all_results_for_query_batch(batch):
        for row in unicodecsv.DictReader(result, encoding="utf-8"):
            got[row["Id"]] = row["LastName"]
    assert got == {i: r["LastName"] for i, r in stored.items()}

    ids = sorted(stored)
    start = ids[100]
    job = bulk.create_query_job("Contact", contentType="CSV", pk_chunking=f"chunkSize=100; startRow={start}")
    original = bulk.query(job, f"SELECT Id FROM Contact WHERE LastName LIKE '{prefix}%'")
    with pytest.raises(BulkBatchFailed):
        bulk.wait_for_batch(job, original, timeout=60, sleep_interval=POLL)
    chunked: list[str] = []
    for b in bulk.get_batch_list(job):
        if b["id"] != original:
            wait(bulk, job, b["id"])
            chunked.extend(r["Id"] for r in query_rows(bulk, job, b["id"], "CSV"))
    bulk.close_job(job)
    assert sorted(chunked) == ids[100:]


def test_xml_jobs(bulk: SalesforceBulk, org: Org, prefix: str) -> None:
    """XML jobs: an <sObjects> batch and XML query results. The library's XML result reader
    drops every id (its getid helper has no return statement), so ids are checked in the org."""
    root = ET.Element("sObjects", xmlns=bulk.jobNS)
    for i in range(5):
        obj = ET.SubElement(root, "sObject")
        ET.SubElement(obj, "LastName").text = f"{prefix}{i} <&>"
    job = bulk.create_insert_job("Contact", contentType="XML")
    batch = bulk.post_batch(job, b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "utf-8"))
    bulk.close_job(job)
    wait(bulk, job, batch)
    results = bulk.get_batch_results(batch, job)
    assert [(r.id, r.success, r.created) for r in results] == [(None, True, True)] * 5
    stored = org.contacts(prefix)
    assert sorted(r["LastName"] for r in stored.values()) == [f"{prefix}{i} <&>" for i in range(5)]

    job = bulk.create_query_job("Contact", contentType="XML")
    batch = bulk.query(job, f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%'")
    bulk.close_job(job)
    wait(bulk, job, batch)
    got = {}
    for result in bulk.get_all_results_for_query_batch(batch, job):
        for rec in ET.parse(result).getroot():
            got[rec.findtext(f"{{{bulk.jobNS}}}Id")] = rec.findtext(f"{{{bulk.jobNS}}}LastName")
    assert got == {i: r["LastName"] for i, r in stored.items()}
