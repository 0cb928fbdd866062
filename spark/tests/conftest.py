"""Fixtures: one `sfbatch emulator` and one SparkSession (local[4,2]) for the whole session.

The emulator is the real binary over loopback HTTPS; its CA certificate is trusted through
SF_CA_CERT_FILE, never by turning TLS checks off. ``SFBATCH_BIN`` names the binary (else the
one installed with the wheel).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

HERE = Path(__file__).resolve().parent


def sfbatch_binary() -> str:
    from sfbatch_spark.binary import find_binary

    return find_binary()


class Org:
    """The emulator as tests see it: connection details, SOQL, control calls."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.url = info["instance_url"]
        self.ssl = ssl.create_default_context(cafile=info["ca_cert_file"])

    def relogin(self) -> None:
        """A new session for the tests' own calls (after a test expired every session)."""
        env = dict(os.environ, SF_LOGIN_URL=self.info["login_url"], SF_USERNAME=self.info["username"],
                   SF_PASSWORD=self.info["password"], SF_SECURITY_TOKEN=self.info["security_token"],
                   SF_CA_CERT_FILE=self.info["ca_cert_file"], SFBATCH_CONFIG="/nonexistent/sfbatch.json")
        env.pop("SF_ACCESS_TOKEN", None)
        out = subprocess.run([sfbatch_binary(), "token"], env=env, capture_output=True, check=True).stdout
        self.info["access_token"] = json.loads(out)["result"]["accessToken"]

    def request(self, method: str, path: str, body: Any = None, retry: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": "Bearer " + self.info["access_token"], "Content-Type": "application/json",
        })
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=60) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            if e.code != 401 or not retry:
                raise
            self.relogin()
            return self.request(method, path, body, retry=False)
        return json.loads(raw) if raw else None

    def query(self, soql: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        res = self.request("GET", "/services/data/v62.0/query?q=" + urllib.parse.quote(soql))
        while True:
            out += res["records"]
            if res.get("done", True):
                return out
            res = self.request("GET", res["nextRecordsUrl"])

    def count(self, soql_where: str, sobject: str = "Contact") -> int:
        res = self.request("GET", "/services/data/v62.0/query?q=" + urllib.parse.quote(
            f"SELECT COUNT() FROM {sobject} {soql_where}"))
        return int(res["totalSize"])

    def lock_contention(self, rate: float) -> None:
        self.request("POST", "/_emulator/bulk/lock-contention", {"rate": rate})

    def ingest_jobs(self) -> dict[str, str]:
        """Every Bulk API 2.0 ingest job of the org: id -> state."""
        out: dict[str, str] = {}
        res = self.request("GET", "/services/data/v62.0/jobs/ingest")
        while True:
            out.update({j["id"]: j["state"] for j in res["records"]})
            if res.get("done", True) or not res.get("nextRecordsUrl"):
                return out
            res = self.request("GET", res["nextRecordsUrl"])

    def creds(self, **extra: str) -> dict[str, str]:
        """The seed's sf_creds, pointed at the emulator (domain takes the full login URL)."""
        d = {
            "username": self.info["username"],
            "password": self.info["password"],
            "security_token": self.info["security_token"],
            "instance_url": self.info["instance_url"],
            "domain": self.info["login_url"],
        }
        d.update(extra)
        return d


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    d = tmp_path_factory.mktemp("emulator")
    proc = subprocess.Popen(
        [sfbatch_binary(), "emulator", "--json", "--addr", "127.0.0.1:0", "--ca-cert-dir", str(d),
         "--schema", str(HERE / "emulator-schema.json")],
        stdout=subprocess.PIPE, stderr=open(d / "emulator.log", "wb"), stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise RuntimeError("sfbatch emulator did not start: " + (d / "emulator.log").read_text())
    info = json.loads(line)
    info = info.get("result", info)  # the sf CLI shape {"status", "result"} or the bare object
    # Driver and executors trust the emulator's CA through SF_CA_CERT_FILE.
    os.environ["SF_CA_CERT_FILE"] = info["ca_cert_file"]
    try:
        yield Org(info)
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="session")
def spark(org: Org) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[4,2]")  # 4 slots; a failed task is retried once
        .appName("sfbatch-spark-tests")
        .config("spark.ui.port", "0")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
