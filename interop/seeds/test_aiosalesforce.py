"""aiosalesforce 0.6.2 (seed 002), unmodified, against `sfbatch emulator`.

aiosalesforce accepts only https://<name>.my.salesforce.com base URLs and takes the httpx
client to use. The suite gives it such a base URL and an httpx client whose transport (a
public httpx extension point) sends every request to the emulator's address, over TLS that
verifies the emulator's CA. Login is the library's own SoapLogin, through that transport.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from aiosalesforce import Salesforce, SoapLogin
from aiosalesforce.exceptions import NotFoundError, SalesforceError

from conftest import API_VERSION, Emulator, Org

BASE_URL = "https://sfbatch-emulator.my.salesforce.com"
T = TypeVar("T")


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Sends requests for BASE_URL to the emulator, verifying its certificate."""

    def __init__(self, emulator: Emulator) -> None:
        self._target = httpx.URL(emulator.instance_url)
        self._inner = httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=emulator.ca_cert_file))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self._target.scheme, host=self._target.host, port=self._target.port)
        request.headers["Host"] = self._target.netloc.decode()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def run(emulator: Emulator, body: Callable[[Salesforce], Awaitable[T]]) -> T:
    """Runs body with a logged-in client on a fresh event loop."""

    async def main() -> T:
        async with httpx.AsyncClient(transport=EmulatorTransport(emulator)) as hc:
            sf = Salesforce(
                hc,
                base_url=BASE_URL,
                auth=SoapLogin(username=emulator.username, password=emulator.password, security_token=emulator.security_token),
                version=API_VERSION,
            )
            return await body(sf)

    return asyncio.run(main())


def test_sobject_crud_upsert_and_query_paging(emulator: Emulator, org: Org, prefix: str) -> None:
    async def body(sf: Salesforce) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["id"] = await sf.sobject.create("Contact", {"LastName": f"{prefix}a", "Email": "a@example.com"})
        out["got"] = await sf.sobject.get("Contact", out["id"], fields=["LastName", "Email"])
        await sf.sobject.update("Contact", out["id"], {"Email": "b@example.com"})
        out["up1"] = await sf.sobject.upsert("Contact", f"{prefix}-e1", external_id_field="External_Id__c", data={"LastName": f"{prefix}b"})
        out["up2"] = await sf.sobject.upsert("Contact", f"{prefix}-e1", external_id_field="External_Id__c", data={"LastName": f"{prefix}c"})
        out["by_ext"] = await sf.sobject.get("Contact", f"{prefix}-e1", external_id_field="External_Id__c", fields=["LastName"])
        bulk = await sf.bulk_v2.insert("Contact", [{"LastName": f"{prefix}{i:05d}"} for i in range(2100)])
        out["bulk_ok"], out["bulk_failed"] = len(bulk.successful_results), len(bulk.failed_results)
        out["queried"] = [r async for r in sf.query(f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%'")]
        await sf.sobject.delete("Contact", out["id"])
        try:
            await sf.sobject.get("Contact", out["id"])
        except NotFoundError as exc:
            out["gone"] = exc.error_code
        return out

    out = run(emulator, body)
    assert out["got"]["LastName"] == f"{prefix}a" and out["got"]["Email"] == "a@example.com"
    assert out["up1"].created is True and out["up2"].created is False and out["up1"].id == out["up2"].id
    assert out["by_ext"]["LastName"] == f"{prefix}c"
    assert (out["bulk_ok"], out["bulk_failed"]) == (2100, 0)
    assert len(out["queried"]) == 2102  # more than one 2,000-record page
    assert out["gone"] == "NOT_FOUND"
    stored = org.contacts(prefix)
    assert len(stored) == 2101 and out["id"] not in stored
    assert stored[out["up1"].id]["External_Id__c"] == f"{prefix}-e1"
    assert {r["Id"] for r in out["queried"]} - {out["id"]} == set(stored)


def test_composite_batch_halt_on_error(emulator: Emulator, org: Org, prefix: str) -> None:
    """Two queries, create/update/upsert/get/delete subrequests, then a failure: with
    halt_on_error the rest get 412 BATCH_PROCESSING_HALTED and never run."""

    async def body(sf: Salesforce) -> dict[str, Any]:
        seed = await sf.sobject.create("Contact", {"LastName": f"{prefix}seed"})
        doomed = await sf.sobject.create("Contact", {"LastName": f"{prefix}doomed"})
        async with sf.composite.batch(halt_on_error=True) as batch:
            q1 = batch.query(f"SELECT Id, LastName FROM Contact WHERE LastName LIKE '{prefix}%' ORDER BY LastName")
            q2 = batch.query("SELECT COUNT() FROM Account")
            created = batch.sobject.create("Contact", {"LastName": f"{prefix}new"})
            batch.sobject.update("Contact", seed, {"Email": "upd@example.com"})
            up = batch.sobject.upsert("Contact", f"{prefix}-e9", external_id_field="External_Id__c", data={"LastName": f"{prefix}ups"})
            got = batch.sobject.get("Contact", seed, fields=["LastName"])
            batch.sobject.delete("Contact", doomed)
            bad = batch.sobject.create("Contact", {"FirstName": "no last name"})
            halted = batch.sobject.create("Contact", {"LastName": f"{prefix}never"})
        return {
            "seed": seed, "doomed": doomed, "q1": q1.records, "q2": q2.result, "created": created.id,
            "up": (up.id, up.created), "got": got.record, "bad": (bad.status_code, bad.result),
            "halted": (halted.status_code, halted.result),
        }

    out = run(emulator, body)
    assert [r["LastName"] for r in out["q1"]] == [f"{prefix}doomed", f"{prefix}seed"]
    assert out["q2"]["totalSize"] >= 0 and out["got"]["LastName"] == f"{prefix}seed"
    assert out["up"][1] is True
    assert out["bad"][0] == 400 and out["bad"][1][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert out["halted"][0] == 412 and out["halted"][1][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    stored = org.contacts(prefix)
    assert set(stored) == {out["seed"], out["created"], out["up"][0]}
    assert stored[out["seed"]]["Email"] == "upd@example.com"


def test_composite_batch_autoraise_and_group_errors(emulator: Emulator, org: Org, prefix: str) -> None:
    async def batch_with_two_errors(sf: Salesforce, group: bool) -> None:
        async with sf.composite.batch(autoraise=True, group_errors=group) as batch:
            batch.sobject.create("Contact", {"FirstName": "no last name"})
            batch.sobject.create("Contact", {"LastName": f"{prefix}ok{int(group)}"})
            batch.sobject.update("Contact", "003000000000000AAA", {"LastName": "x"})

    async def body(sf: Salesforce) -> dict[str, Any]:
        out: dict[str, Any] = {}
        try:
            await batch_with_two_errors(sf, group=False)
        except SalesforceError as exc:
            out["first"] = exc.error_code
        try:
            await batch_with_two_errors(sf, group=True)
        except ExceptionGroup as eg:
            out["group"] = sorted(str(getattr(e, "error_code", "")) for e in eg.exceptions)
            out["not_found"] = sum(isinstance(e, NotFoundError) for e in eg.exceptions)
        try:
            async with sf.composite.batch() as batch:
                for _ in range(26):
                    batch.query("SELECT Id FROM Contact LIMIT 1")
        except SalesforceError as exc:
            out["too_many"] = exc.error_code
        return out

    out = run(emulator, body)
    assert out["first"] == "REQUIRED_FIELD_MISSING"
    assert out["group"] == ["NOT_FOUND", "REQUIRED_FIELD_MISSING"] and out["not_found"] == 1
    assert out["too_many"] == "INVALID_BATCH_REQUEST"
    assert sorted(r["LastName"] for r in org.contacts(prefix).values()) == [f"{prefix}ok0", f"{prefix}ok1"]


# Values aiosalesforce reads back exactly: Salesforce HTML-entity encodes strings in Composite
# Batch responses and aiosalesforce unescapes the whole response text before parsing it.
ROUND_TRIP = ["AT&T", "<b>bold</b>", "O'Brien", "literal &quot; and &amp; and &#39;"]


def test_composite_batch_html_characters(emulator: Emulator, org: Org, prefix: str) -> None:
    async def body(sf: Salesforce) -> tuple[list[str], list[Any]]:
        async with sf.composite.batch(autoraise=True) as batch:
            creates = [batch.sobject.create("Contact", {"LastName": f"{prefix} {v}"}) for v in ROUND_TRIP]
        ids = [c.id for c in creates]
        async with sf.composite.batch(autoraise=True) as batch:
            gets = [batch.sobject.get("Contact", i, fields=["LastName"]) for i in ids]
            q = batch.query(f"SELECT LastName FROM Contact WHERE LastName LIKE '{prefix}%' ORDER BY LastName")
        return ids, [g.record["LastName"] for g in gets] + [sorted(r["LastName"] for r in q.records)]

    ids, got = run(emulator, body)
    want = [f"{prefix} {v}" for v in ROUND_TRIP]
    assert got[:-1] == want and got[-1] == sorted(want)
    stored = org.contacts(prefix)
    assert [stored[i]["LastName"] for i in ids] == want


@pytest.mark.parametrize("value", ['say "hi"', "back\\slash"])
def test_composite_batch_quote_breaks_library(emulator: Emulator, org: Org, prefix: str, value: str) -> None:
    """Known library limitation, kept on purpose: a double quote or a backslash arrives as
    &quot; / &#92; (as from a real org), and aiosalesforce's unescape of the raw response text
    turns it back into a bare " or \\ inside a JSON string, so the whole batch response no
    longer parses. The value itself is stored correctly."""
    ids: list[str] = []

    async def body(sf: Salesforce) -> None:
        ids.append(await sf.sobject.create("Contact", {"LastName": f"{prefix} {value}"}))
        async with sf.composite.batch() as batch:
            batch.sobject.get("Contact", ids[0], fields=["LastName"])

    with pytest.raises(ValueError):  # orjson.JSONDecodeError
        run(emulator, body)
    assert org.contacts(prefix)[ids[0]]["LastName"] == f"{prefix} {value}"
