"""``spark.read.format("sfbatch")``: a query read in parallel through `sfbatch pipe --export`.

The driver plans the read with one `sfbatch pipe --export --plan` (the schema from describe,
through sfbatch's one Salesforce-to-columnar type map; the partitions: the result pages of one
Bulk 2.0 query job, sampled id ranges, or PK-chunk batches). Each task reads its partition
with its own `sfbatch pipe --export`, given the arguments the plan lists for it
(``--job/--locator/--max-records``, ``--job/--batch`` or ``--id-range``, with the plan's
query), and yields its Arrow batches unchanged. Python holds no Salesforce logic: it passes
options in and Arrow out.

Spark plans a DataFrame's partitions once: every action on it reads the same pages again,
so a read's Bulk 2.0 job is kept ``keepJobsFor`` (default 1 hour) after its pages were last
read, then deleted by the next read planned with the same ``runDir``; with ``keepJobsFor=0``
the task that reads the last page deletes it (Spark's Python data source API has no hook at
the end of a batch read). A new DataFrame (``spark.read`` again) runs the query again.
Cache or write the DataFrame to reuse it. An address or geolocation field reads as its
component columns, and ``fields="*"`` reads every field (the mapping is sfbatch's). An
incremental read (option ``since``) keeps reading the same window until
:func:`commit_since` moves the watermark, so call it once the rows are safely written.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import pyarrow as pa
from pyspark.sql.datasource import DataSourceReader, InputPartition
from pyspark.sql.types import StructType

from . import options as opt
from .binary import find_binary
from .login import LoginError, Session, child_env, login

#: Read options (lower-cased), with a one-line meaning; credentials are the writer's.
READ_OPTIONS: dict[str, str] = {
    "query": "SOQL query to read (or sobject + fields, and where)",
    "sobject": "object to read with fields",
    "fields": "comma-separated fields to read with sobject (* for all; an address or location reads as its components)",
    "where": "WHERE condition with sobject",
    "allrows": "true: include deleted and archived rows (queryAll)",
    "partitioning": "pages (default: one Bulk 2.0 job, a partition per result page) or idRange",
    "numpartitions": "number of id ranges with partitioning=idRange (default: Spark's default parallelism)",
    "pkchunking": "Bulk 1.0 PK chunking with this chunk size: one partition per chunk",
    "pagesize": "rows per result page (Bulk 2.0 maxRecords) with partitioning=pages",
    "since": "state file on the driver of an incremental read (created on the first run)",
    "watermarkfield": "datetime field of an incremental read (default SystemModstamp)",
    "rundir": "folder the driver and every executor can open, for the page markers that let a later read delete a query job",
    "keepjobsfor": "keep a read's query job this long after its pages were last read, e.g. 30m (default 1h; 0: delete it once every page was read)",
    "salesforceapiversion": "Salesforce API version, e.g. 62.0",
    "sfbatchbinary": "path of the sfbatch binary (default $SFBATCH_BIN, then the wheel's)",
}

#: The writer's options that are credentials (they log the reader in the same way).
CREDENTIAL_OPTIONS = (
    "username", "password", "security_token", "domain", "instance_url", "accesstoken", "refreshtoken",
    "clientid", "clientsecret", "jwtkeyfile", "cacertfile",
)

#: How long the driver waits for the plan (it runs the query job to completion).
PLAN_TIMEOUT_SECONDS = 6 * 3600


def is_read(options: Mapping[str, str]) -> bool:
    """Whether Spark's options describe a read (a query, or fields to read)."""
    keys = {str(k).lower() for k in options}
    return "query" in keys or "fields" in keys


class SfbatchReadError(RuntimeError):
    """Planning or reading failed; ``status`` is sfbatch's exit code."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ReadConfig:
    """The checked, non-secret settings of one read (picklable, shipped to tasks)."""

    query: str = ""
    sobject: str = ""
    fields: str = ""
    where: str = ""
    all_rows: bool = False
    partitioning: str = "pages"
    num_partitions: int = 0
    pk_chunking: int = 0
    page_size: int = 0
    since: str = ""
    watermark_field: str = ""
    run_dir: str = ""
    keep_jobs_for: str = ""
    api_version: str = ""
    binary: str = ""

    def plan_args(self, default_partitions: int) -> list[str]:
        """The `sfbatch pipe --export --plan` arguments (no credentials, ever)."""
        a = ["pipe", "--export", "--plan", "--handshake"]
        if self.query:
            a += ["--query", self.query]
        else:
            a += ["--sobject", self.sobject, "--fields", self.fields]
            if self.where:
                a += ["--where", self.where]
        if self.all_rows:
            a += ["--all-rows"]
        if self.pk_chunking:
            a += ["--pk-chunking", str(self.pk_chunking)]
        else:
            a += ["--partitioning", self.partitioning]
        if self.partitioning == "idRange":
            a += ["--partitions", str(self.num_partitions or default_partitions)]
        if self.page_size:
            a += ["--page-size", str(self.page_size)]
        if self.since:
            a += ["--since", self.since]
        if self.watermark_field:
            a += ["--watermark-field", self.watermark_field]
        if self.api_version:
            a += ["--api-version", self.api_version]
        a += ["--done-dir", self.done_dir()]
        if self.keep_jobs_for:
            a += ["--keep-jobs-for", self.keep_jobs_for]
        return a

    def done_dir(self) -> str:
        """Where readers mark the pages they read (runDir, else the driver's temporary folder)."""
        return os.path.join(self.run_dir or tempfile.gettempdir(), "sfbatch-read-done")


def parse(options: Mapping[str, str]) -> tuple[ReadConfig, opt.Credentials]:
    """Check the read options and return the read's settings and the driver's credentials."""
    o = {str(k).lower(): ("" if v is None else str(v)) for k, v in options.items()}
    creds_opts = {k: v for k, v in o.items() if k.split(".")[0] in CREDENTIAL_OPTIONS}
    unknown = sorted(k for k in o if k not in READ_OPTIONS and k not in creds_opts and k != "path")
    if unknown:
        raise opt.OptionError(f"unknown read option {unknown[0]!r}; known: {', '.join(sorted(READ_OPTIONS))}")
    query, sobject, fields = o.get("query", "").strip(), o.get("sobject", "").strip(), o.get("fields", "").strip()
    if query and (fields or o.get("where")):
        raise opt.OptionError("query: give either query, or sobject + fields (+ where), not both")
    if not query and not (sobject and fields):
        raise opt.OptionError("query: required (or sobject + fields)")
    partitioning = o.get("partitioning", "").strip() or "pages"
    if partitioning.lower() == "idrange":
        partitioning = "idRange"
    if partitioning not in ("pages", "idRange"):
        raise opt.OptionError(f"partitioning: {partitioning!r} is not pages or idRange")
    pk = opt._int(o, "pkChunking", 1) or 0
    if pk and partitioning == "idRange":
        raise opt.OptionError("pkChunking: not with partitioning=idRange")
    run_dir = o.get("rundir", "").strip()
    cfg = ReadConfig(
        query=query, sobject=sobject, fields=fields, where=o.get("where", "").strip(),
        all_rows=bool(opt._bool(o, "allRows")), partitioning=partitioning,
        num_partitions=opt._int(o, "numPartitions", 1) or 0, pk_chunking=pk,
        page_size=opt._int(o, "pageSize", 1) or 0,
        since=os.path.abspath(o["since"].strip()) if o.get("since", "").strip() else "",
        watermark_field=o.get("watermarkfield", "").strip(),
        run_dir=opt.local_path("runDir", run_dir) if run_dir else "",
        keep_jobs_for=o.get("keepjobsfor", "").strip(),
        api_version=o.get("salesforceapiversion", "").strip(), binary=o.get("sfbatchbinary", "").strip(),
    )
    # The writer's parser checks the credentials (an object name only satisfies it).
    _, creds = opt.parse({**creds_opts, "sobject": sobject or "Account"})
    return cfg, creds


def _run(argv: list[str], session: Session | None, timeout: float) -> bytes:
    """Run sfbatch with the session's handshake on stdin; its error event becomes the error."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(
            argv, input=session.handshake_line() if session else b"", stdout=subprocess.PIPE, stderr=err,
            env=child_env(), timeout=timeout, check=False,
        )
        if proc.returncode != 0:
            err.seek(0)
            raise SfbatchReadError(_error_message(err.read(), proc.returncode), proc.returncode)
    return proc.stdout


def _error_message(stderr: bytes, code: int) -> str:
    for line in reversed(stderr.decode("utf-8", "replace").splitlines()):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and ev.get("event") == "error":
            return f"sfbatch exited {code}: {ev.get('name')}: {ev.get('message')}"
    return f"sfbatch exited {code}: {stderr.decode('utf-8', 'replace')[-2000:]}"


def _login(cfg: ReadConfig, creds: opt.Credentials) -> tuple[Session, str]:
    binary = find_binary(cfg.binary)
    try:
        return login(binary, creds, cfg.api_version), binary
    except LoginError as e:
        raise SfbatchReadError(str(e), e.status) from None


def read_schema(options: Mapping[str, str]) -> StructType:
    """The Spark schema of a read, from describe (no query runs)."""
    cfg, creds = parse(options)
    session, binary = _login(cfg, creds)
    out = _run([binary] + cfg.plan_args(1) + ["--schema-only"], session, 600)
    return StructType.fromJson(json.loads(out)["sparkSchema"])


@dataclass
class SfbatchPartition(InputPartition):
    """One partition of a planned read: the `sfbatch pipe --export` arguments the plan gives it,
    and where a page read marks the page done."""

    index: int
    args: list[str]
    done_dir: str


class SfbatchReader(DataSourceReader):
    """Plans on the driver (``partitions``) and reads each partition in a task (``read``)."""

    def __init__(self, cfg: ReadConfig, session: Session, binary: str, schema: StructType) -> None:
        self.cfg = cfg
        self.session = session
        self.binary = binary
        self.schema = schema

    def __repr__(self) -> str:  # never the handshake
        return f"SfbatchReader(cfg={self.cfg!r})"

    @classmethod
    def prepare(cls, options: Mapping[str, str], schema: StructType) -> "SfbatchReader":
        cfg, creds = parse(options)
        session, binary = _login(cfg, creds)
        return cls(cfg, session, binary, schema)

    def partitions(self) -> list[InputPartition]:
        default = 8
        try:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is not None:
                default = active.sparkContext.defaultParallelism
        except Exception:  # planning runs in a Python worker without a session
            pass
        plan: dict[str, Any] = json.loads(_run([self.binary] + self.cfg.plan_args(default), self.session, PLAN_TIMEOUT_SECONDS))
        names = [f["name"] for f in plan["sparkSchema"]["fields"]]
        if [n.lower() for n in names] != [f.name.lower() for f in self.schema.fields]:
            raise SfbatchReadError(f"the planned columns {names} differ from the schema {self.schema.fieldNames()}")
        return [SfbatchPartition(int(p["index"]), [str(a) for a in p["args"]], self.cfg.done_dir()) for p in plan["partitions"]]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, SfbatchPartition)
        argv = [find_binary(self.binary), "pipe", "--export", "--handshake", *partition.args,
                "--done-dir", partition.done_dir]
        if self.cfg.api_version:
            argv += ["--api-version", self.cfg.api_version]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=child_env())
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(self.session.handshake_line())
                proc.stdin.close()
                try:
                    stream = pa.ipc.open_stream(proc.stdout)
                    for batch in stream:
                        yield batch
                except pa.ArrowInvalid:
                    pass  # no stream at all: the exit code and error event say why
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if code != 0:
                err.seek(0)
                raise SfbatchReadError(f"partition {partition.index}: " + _error_message(err.read(), code), code)


def commit_since(path: str, binary: str | None = None) -> None:
    """Move an incremental read's watermark to the end of the window it read.

    Call it once the rows of the read are safely written; until then every read with the
    same ``since`` file reads the same window again.
    """
    _run([find_binary(binary), "pipe", "--export", "--commit", "--since", os.path.abspath(path)], None, 60)
