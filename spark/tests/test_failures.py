"""How a task reads pipe's exit: 2 and 4 fail the write at once; sessions and their refresh."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import Org


def tag() -> str:
    return uuid.uuid4().hex[:8]


def expire_sessions_in_task(org: Org) -> Any:
    """A mapInArrow function that expires every session of the org when its task starts,
    after the driver logged in and before the task's pipe does anything."""
    url, ca, token = org.url, org.info["ca_cert_file"], org.info["access_token"]

    def fn(batches: Iterator[Any]) -> Iterator[Any]:
        import ssl
        import urllib.error
        import urllib.request

        req = urllib.request.Request(url + "/_emulator/sessions/expire", data=b"{}", method="POST",
                                     headers={"Authorization": "Bearer " + token})
        try:
            urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca), timeout=30).read()
        except urllib.error.HTTPError as e:
            if e.code != 401:  # 401: a retried task finds the sessions expired already
                raise
        yield from batches

    return fn


def test_input_error_fails_at_once_with_pipes_message(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    df = spark.createDataFrame([{"LastName": f"Bad-{t}", "No_Such_Field__c": "x"}])
    with pytest.raises(Exception) as ei:
        df.write.format("sfbatch").mode("append").options(**org.creds()).option("sobject", "Contact") \
            .option("resultsPath", str(tmp_path / "r")).save()
    text = str(ei.value)
    assert "No_Such_Field__c" in text and "exited 2" in text or "not retried" in text
    assert "a retry cannot help" in text or "not retried" in text
    assert org.count(f"WHERE LastName = 'Bad-{t}'") == 0


def test_password_session_expired_names_the_flows_that_run_longer(spark: Any, org: Org, tmp_path: Path) -> None:
    t = tag()
    df = spark.createDataFrame([{"LastName": f"Exp-{t}"}]).coalesce(1)
    df = df.mapInArrow(expire_sessions_in_task(org), df.schema)
    creds = org.creds()
    with pytest.raises(Exception) as ei:
        df.write.format("sfbatch").mode("append").options(**creds).option("sobject", "Contact") \
            .option("resultsPath", str(tmp_path / "r")).save()
    text = str(ei.value)
    assert "exited 4" in text or "not retried" in text
    assert "JWT bearer" in text and "client credentials" in text
    assert creds["password"] not in text and creds["security_token"] not in text
    org.relogin()
    assert org.count(f"WHERE LastName = 'Exp-{t}'") == 0


def test_client_credentials_tasks_refresh_an_expired_session(spark: Any, org: Org, tmp_path: Path) -> None:
    from sfbatch_spark import write_with_results

    t = tag()
    df = spark.createDataFrame([{"LastName": f"Ref-{t}", "FirstName": str(i)} for i in range(5)]).coalesce(1)
    df = df.mapInArrow(expire_sessions_in_task(org), df.schema)
    res = write_with_results(df, domain=org.info["login_url"], clientId=org.info["client_id"],
                             clientSecret=org.info["client_secret"], sobject="Contact",
                             resultsPath=str(tmp_path / "r"))
    assert sorted(r["sf__Outcome"] for r in res.collect()) == ["succeeded"] * 5
    org.relogin()
    assert org.count(f"WHERE LastName = 'Ref-{t}'") == 5
