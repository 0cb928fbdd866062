"""Shared fixtures: the running `sfbatch emulator` and ways to check its state.

The emulator is started outside pytest (by .ci/run, or by hand, see README.md) with
`sfbatch emulator --json`; SFBATCH_EMULATOR_INFO names the file holding that JSON line.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests

API_VERSION = "62.0"


@dataclass(frozen=True)
class Emulator:
    """Connection details `sfbatch emulator --json` prints (its own local credentials)."""

    instance_url: str
    username: str
    password: str
    security_token: str
    access_token: str
    ca_cert_file: str

    @property
    def host(self) -> str:
        """host:port of the instance, for libraries that take an instance name."""
        return self.instance_url.split("://", 1)[1].rstrip("/")


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    path = os.environ.get("SFBATCH_EMULATOR_INFO")
    if not path:
        pytest.fail("SFBATCH_EMULATOR_INFO is not set: start `sfbatch emulator --json` (README.md)")
    with open(path, encoding="utf-8") as f:
        # `--json` prints the sf CLI's shape: {"status": 0, "result": {...}, "warnings": [...]}.
        info = json.loads(f.readline())["result"]
    # requests (salesforce-bulk, salesforce-batch, simple-salesforce) trusts the bundle named
    # here, and it takes precedence over a session's verify: name the emulator's CA.
    # Verification stays on.
    os.environ["REQUESTS_CA_BUNDLE"] = info["ca_cert_file"]
    return Emulator(
        instance_url=info["instance_url"],
        username=info["username"],
        password=info["password"],
        security_token=info["security_token"],
        access_token=info["access_token"],
        ca_cert_file=info["ca_cert_file"],
    )


@pytest.fixture(scope="session")
def http(emulator: Emulator) -> Iterator[requests.Session]:
    """A requests session that trusts the emulator's CA certificate (verification stays on)."""
    s = requests.Session()
    s.verify = emulator.ca_cert_file
    yield s
    s.close()


class Org:
    """Reads the emulator's records through plain REST, independently of the library under test."""

    def __init__(self, emulator: Emulator, http: requests.Session) -> None:
        self.emulator = emulator
        self.http = http

    def _get(self, url: str) -> dict[str, Any]:
        r = self.http.get(url, headers={"Authorization": "Bearer " + self.emulator.access_token}, timeout=30)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    def query(self, soql: str, all_rows: bool = False) -> list[dict[str, Any]]:
        """Every record of a SOQL query (following nextRecordsUrl), without attributes."""
        resource = "queryAll" if all_rows else "query"
        base = self.emulator.instance_url
        body = self._get(f"{base}/services/data/v{API_VERSION}/{resource}?q={requests.utils.quote(soql)}")
        records = list(body["records"])
        while not body["done"]:
            body = self._get(base + body["nextRecordsUrl"])
            records.extend(body["records"])
        for r in records:
            r.pop("attributes", None)
        return records

    def contacts(self, prefix: str, all_rows: bool = False) -> dict[str, dict[str, Any]]:
        """Contacts whose LastName starts with prefix, by Id."""
        rows = self.query(
            "SELECT Id, FirstName, LastName, Email, External_Id__c, IsDeleted FROM Contact "
            f"WHERE LastName LIKE '{prefix}%'",
            all_rows=all_rows,
        )
        return {r["Id"]: r for r in rows}


@pytest.fixture(scope="session")
def org(emulator: Emulator, http: requests.Session) -> Org:
    return Org(emulator, http)


@pytest.fixture
def prefix() -> str:
    """A LastName prefix unique to the test, so tests never see each other's records."""
    return "Seed" + uuid.uuid4().hex[:10]
