"""salesforce-batch 0.1.2 (seed 000), unmodified, against `sfbatch emulator`.

It runs on Python 3.11 as published. It takes a session id and an instance; its
`instance_url` option keeps only the host name (it drops the port), so the suite passes
`instance="127.0.0.1:PORT"`, and a requests session that trusts the emulator's CA. It polls
every batch with a fixed 5-second sleep that no option changes, so each operation below takes
about five seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from salesforce_batch import Salesforce

from conftest import Emulator, Org


@pytest.fixture
def sf(emulator: Emulator, http: requests.Session) -> Salesforce:
    return Salesforce(instance=emulator.host, session_id=emulator.access_token, session=http)


def flat(results: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [r for batch in results for r in batch]


def test_multi_batch_jobs(sf: Salesforce, org: Org, prefix: str) -> None:
    """12,000 rows go as two 10,000-row batches of one JSON job; results are a list of lists
    (one per batch, in completion order), each row's outcome in input order."""
    n = 12_000
    data = [{"LastName": f"{prefix}{i:06d}", "Email": f"c{i}@example.com"} for i in range(n)]
    data[10_003]["LastName"] = None  # required: this row alone fails
    results = sf.bulk.Contact.insert(data)
    assert sorted(len(b) for b in results) == [2_000, 10_000]
    rows = flat(results)
    failed = [r for r in rows if not r["success"]]
    assert len(failed) == 1 and failed[0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    ids = [r["id"] for r in rows if r["success"]]
    assert len(ids) == n - 1 and all(r["created"] for r in rows if r["success"])
    stored = org.contacts(prefix)
    assert set(stored) == set(ids)

    first = sorted(stored.values(), key=lambda r: r["LastName"])[:3]
    results = sf.bulk.Contact.update([{"Id": r["Id"], "Email": "updated@example.com"} for r in first])
    assert [r["id"] for r in flat(results)] == [r["Id"] for r in first]
    stored = org.contacts(prefix)
    assert [stored[r["Id"]]["Email"] for r in first] == ["updated@example.com"] * 3

    got = flat(sf.bulk.Contact.query(f"SELECT Id, Email FROM Contact WHERE LastName LIKE '{prefix}%'"))
    assert {r["Id"] for r in got} == set(ids)
    assert sum(r["Email"] == "updated@example.com" for r in got) == 3

    results = sf.bulk.Contact.delete([{"Id": i} for i in ids])
    assert sorted(len(b) for b in results) == [1_999, 10_000]
    assert all(r["success"] for r in flat(results))
    assert org.contacts(prefix) == {}
