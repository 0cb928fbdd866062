"""Write options: parsed and checked on the driver, before any task starts.

Every option of the seed's writer keeps its meaning (``username``, ``password``,
``security_token``, ``instance_url``, ``domain``, ``sobject``, ``api_version``, ``operation``,
``upsertField``, ``ignoreNullValues``, ``batchSize``); sfbatch's own options are listed in
:data:`OPTIONS`. Option names are case-insensitive, as Spark's are.

Secrets never travel as plain option values if the user prefers not to: every secret option
``X`` also exists as ``X.env`` (the name of an environment variable on the driver) and ``X.file``
(a file on the driver holding the secret). Every secret option's name matches Spark's default
``spark.redaction.regex`` so Spark redacts it in plans and the UI (:data:`SECRET_OPTIONS`).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlparse

#: Spark's default ``spark.redaction.regex``; every secret option's name matches it.
SPARK_REDACTION_REGEX = r"(?i)secret|password|token|access[.]?key"

#: Options whose values are secrets (each also as ``.env`` and ``.file``).
SECRET_OPTIONS = ("password", "security_token", "accessToken", "refreshToken", "clientSecret")

#: Every option the writer knows (lower-cased on lookup), with a one-line meaning.
OPTIONS: dict[str, str] = {
    "sobject": "Salesforce object to write, e.g. Contact (required)",
    "operation": "insert (default), update, upsert, delete or hardDelete",
    "upsertfield": "external id (or idLookup) field for upsert; alias externalIdField",
    "externalidfield": "alias of upsertField",
    "api_version": "the seed's Bulk API version: 1 (Bulk 1.0) or 2 (Bulk 2.0); overrides api",
    "api": "auto (default), collections, bulk1 or bulk2",
    "salesforceapiversion": "Salesforce API version of the data calls, e.g. 62.0",
    "batchsize": "rows per Bulk 2.0 job, or per batch on Bulk 1.0",
    "ignorenullvalues": "true: a null leaves the field unchanged; false (the seed's default): a null clears it",
    "nullvalue": "skip (leave the field unchanged) or clear (send #N/A); overrides ignoreNullValues",
    "concurrency": "requests in flight for the whole write, split between the tasks that run at once "
                   "(with tasksAtOnce; default 2 per task)",
    "tasksatonce": "how many of the write's tasks run at once (min of partitions and task slots); "
                   "write_with_results sets it",
    "maxapishare": "cap on what the whole write spends of the org's remaining daily API requests "
                   "(0.5 or 50%), split between the write's partitions (with numPartitions)",
    "numpartitions": "how many partitions (tasks) the write has; write_with_results sets it",
    "retries": "retries of retryable row errors such as UNABLE_TO_LOCK_ROW",
    "timezone": "zone for timestamps without one (default UTC)",
    "keycolumns": "input columns copied into each result row (comma-separated)",
    "resultspath": "folder every executor can open: per-row results as Parquet, _summary.json",
    "rundir": "folder every executor can open: journals that make task retries exactly-once",
    "leaseperiod": "with runDir: how long a killed attempt's journal waits before a retry takes it "
                   "over, e.g. 30s (default) or 2m",
    "username": "Salesforce username",
    "password": "password (secret)",
    "security_token": "security token appended to the password (secret)",
    "domain": "login, test, a My Domain name (acme or acme.my) or a full https login URL",
    "instance_url": "instance URL, used with accessToken",
    "accesstoken": "an existing session's access token (secret)",
    "refreshtoken": "OAuth refresh token (secret), with clientId (and clientSecret)",
    "clientid": "connected app consumer key",
    "clientsecret": "connected app consumer secret (secret)",
    "jwtkeyfile": "PEM private key on the driver for the JWT bearer flow, with clientId and username",
    "cacertfile": "extra PEM CA certificate to trust (the emulator's); default $SF_CA_CERT_FILE",
    "sfbatchbinary": "path of the sfbatch binary (default $SFBATCH_BIN, then the wheel's)",
    "testkillaftersent": "test only: PARTITION:N[:ATTEMPTS] kills that partition's pipe after N requests "
                         "in its first ATTEMPTS attempts (default 1)",
}
for _name in SECRET_OPTIONS:
    OPTIONS[_name.lower() + ".env"] = f"environment variable on the driver holding {_name}"
    OPTIONS[_name.lower() + ".file"] = f"file on the driver holding {_name}"

OPERATIONS = {
    "insert": "insert",
    "update": "update",
    "upsert": "upsert",
    "delete": "delete",
    "harddelete": "hard-delete",
    "hard-delete": "hard-delete",
    "hard_delete": "hard-delete",
}
APIS = ("auto", "collections", "bulk1", "bulk2")
LOGIN_URLS = {"login": "https://login.salesforce.com", "test": "https://test.salesforce.com"}
DEFAULT_CONCURRENCY = 2
#: A Go duration as pipe's --lease-period takes it (whole or decimal, one unit).
LEASE_PERIOD = re.compile(r"^\d+(\.\d+)?(ms|s|m|h)$")
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class OptionError(ValueError):
    """A write option is missing, unknown or has a bad value; the message names it."""


@dataclass(frozen=True)
class Credentials:
    """What the driver logs in with. Its repr shows no secret."""

    login_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    security_token: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    instance_url: str = ""
    refresh_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    jwt_key_file: str = ""
    ca_cert_file: str = ""

    def flow(self) -> str:
        """The login flow these credentials select (the same order as sfbatch's)."""
        if self.access_token:
            return "access_token"
        if self.refresh_token:
            return "refresh_token"
        if self.jwt_key_file:
            return "jwt"
        if self.username and self.password:
            return "password" if self.client_id else "soap"
        if self.client_id and self.client_secret:
            return "client_credentials"
        return ""


@dataclass(frozen=True)
class WriteConfig:
    """The checked, non-secret settings of one write (picklable, shipped to tasks)."""

    sobject: str
    operation: str
    external_id: str = ""
    api: str = "auto"
    api_version: str = ""
    batch_size: int = 0
    null_value: str = "clear"
    concurrency: int = DEFAULT_CONCURRENCY
    retries: int | None = None
    time_zone: str = ""
    key_columns: tuple[str, ...] = ()
    results_path: str = ""
    run_dir: str = ""
    binary: str = ""
    #: With runDir: pipe's --lease-period ("" = pipe's default).
    lease_period: str = ""
    #: The user's ``concurrency`` (the whole write's) and the tasks it is split between;
    #: ``concurrency`` above is the per-task share passed to each pipe.
    concurrency_total: int | None = None
    tasks_at_once: int | None = None
    #: Each task's part of the user's ``maxApiShare`` (0 = no cap), passed to its pipe as
    #: --max-api-share; the user's value and the partitions it is split between.
    max_api_share: float = 0.0
    max_api_share_total: float = 0.0
    partitions: int | None = None
    #: Test only: (partition, requests, attempts): kill that partition's pipe after so many
    #: requests carrying rows, in attempts 0 .. attempts-1.
    test_kill: tuple[int, int, int] | None = None

    def pipe_args(self) -> list[str]:
        """The `sfbatch pipe` arguments for these settings (no credentials, ever)."""
        args = ["pipe", self.operation, "-s", self.sobject, "--format", "arrow", "--handshake"]
        if self.operation == "upsert":
            args += ["-i", self.external_id]
        args += ["--api", self.api, "--concurrency", str(self.concurrency), "--null-value",
                 "clear" if self.null_value == "clear" else "skip"]
        if self.batch_size:
            args += ["--batch-size", str(self.batch_size)]
        if self.retries is not None:
            args += ["--max-retries", str(self.retries)]
        if self.api_version:
            args += ["--api-version", self.api_version]
        if self.time_zone:
            args += ["--time-zone", self.time_zone]
        if self.key_columns:
            args += ["--key-columns", ",".join(self.key_columns)]
        if self.lease_period:
            args += ["--lease-period", self.lease_period]
        if self.max_api_share > 0:
            args += ["--max-api-share", f"{self.max_api_share:.9g}"]
        return args


def _get(opts: Mapping[str, str], name: str) -> str:
    v = opts.get(name.lower())
    return "" if v is None else str(v)


def _secret(opts: Mapping[str, str], name: str, environ: Mapping[str, str]) -> str:
    """A secret option, given directly, by environment variable or by file."""
    key = name.lower()
    given = [k for k in (key, key + ".env", key + ".file") if opts.get(k)]
    if len(given) > 1:
        raise OptionError(f"{name}: give only one of {', '.join(given)}")
    if opts.get(key):
        return str(opts[key])
    if opts.get(key + ".env"):
        var = str(opts[key + ".env"])
        if not environ.get(var):
            raise OptionError(f"{name}.env: environment variable {var} is not set on the driver")
        return environ[var]
    if opts.get(key + ".file"):
        path = str(opts[key + ".file"])
        try:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        except OSError as e:
            raise OptionError(f"{name}.file: cannot read {path}: {e.strerror}") from None
    return ""


def _bool(opts: Mapping[str, str], name: str) -> bool | None:
    v = _get(opts, name).strip().lower()
    if v == "":
        return None
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise OptionError(f"{name}: {v!r} is not true or false")


def _int(opts: Mapping[str, str], name: str, minimum: int) -> int | None:
    v = _get(opts, name).strip()
    if v == "":
        return None
    try:
        n = int(v)
    except ValueError:
        raise OptionError(f"{name}: {v!r} is not a whole number") from None
    if n < minimum:
        raise OptionError(f"{name}: {n} is less than {minimum}")
    return n


def login_url(domain: str) -> str:
    """The login URL for the seed's ``domain``: login, test, a My Domain name or a URL."""
    d = domain.strip()
    if d == "":
        return LOGIN_URLS["login"]
    if d.lower() in LOGIN_URLS:
        return LOGIN_URLS[d.lower()]
    if "://" in d:
        u = urlparse(d)
        if u.scheme != "https" or not u.hostname:
            raise OptionError(f"domain: {d!r} is not an https URL (TLS is required)")
        return f"https://{u.netloc}"
    if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", d):
        raise OptionError(f"domain: {d!r} is not login, test, a My Domain name or an https URL")
    if "." not in d:
        return f"https://{d}.my.salesforce.com"
    if d.lower().endswith((".salesforce.com", ".force.com")):
        return f"https://{d}"
    return f"https://{d}.salesforce.com"  # "acme.my", "acme--uat.sandbox.my" as in simple-salesforce


def local_path(name: str, value: str) -> str:
    """A folder every executor opens as a file path; URIs are refused."""
    v = value.strip()
    if v.startswith("file://"):
        v = v[len("file://"):]
    elif URI_SCHEME.match(v):
        raise OptionError(
            f"{name}: {v!r} is a URI; give a path every executor opens as a file "
            "(local, NFS, /dbfs/..., /Volumes/...), not s3://, abfss://, gs:// or dbfs:"
        )
    if not v.startswith("/"):
        v = os.path.abspath(v)
    return v


def split_concurrency(total: int | None, tasks_at_once: int | None) -> int:
    """Each task's share of the write's ``concurrency``: ``total // tasks_at_once``, at least 1.

    Without ``concurrency`` each task gets :data:`DEFAULT_CONCURRENCY`. ``concurrency`` without
    ``tasksAtOnce`` is refused: the writer cannot see how many tasks will run at once (Spark
    gives a data source's writer the schema and options only), and applying the total to
    every task would multiply it.
    """
    if total is None:
        return DEFAULT_CONCURRENCY
    if tasks_at_once is None:
        raise OptionError(
            f"concurrency: {total} is the total for the whole write and is split between the tasks "
            "that run at once; give tasksAtOnce too (min of the DataFrame's partitions and Spark's "
            "task slots), or write with sfbatch_spark.write_with_results, which computes it"
        )
    return max(1, total // tasks_at_once)


def parse_share(value: str) -> float:
    """``maxApiShare`` as a fraction in (0, 1]: ``0.5`` or ``50%``."""
    v = value.strip()
    try:
        share = float(v[:-1]) / 100 if v.endswith("%") else float(v)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise OptionError(f"maxApiShare: {value!r} is not a share in (0, 1] such as 0.5 or 50%")
    return share


def split_share(share: float, partitions: int | None) -> float:
    """Each task's part of the write's ``maxApiShare``: ``share / partitions``.

    Split by partitions, not by the tasks running at once: every partition's task runs in
    the end, and each pipe's allowance is its part of what the org has left when it starts,
    so the parts add up to at most the share of what was left when the write began. Without
    ``numPartitions`` the share is refused, for the reason given in :func:`split_concurrency`.
    """
    if partitions is None:
        raise OptionError(
            "maxApiShare: the share is for the whole write and is split between its partitions; "
            "give numPartitions too (df.rdd.getNumPartitions()), or write with "
            "sfbatch_spark.write_with_results, which computes it"
        )
    return share / partitions


def parse(opts: Mapping[str, str], environ: Mapping[str, str] | None = None) -> tuple[WriteConfig, Credentials]:
    """Check every option and return the write's settings and the driver's credentials.

    ``opts`` are Spark's options (any key case); ``environ`` is the driver's environment.
    """
    env = os.environ if environ is None else environ
    o = {str(k).lower(): ("" if v is None else str(v)) for k, v in opts.items()}
    unknown = sorted(k for k in o if k not in OPTIONS and k != "path")
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r}; known options: {', '.join(sorted(OPTIONS))}")

    sobject = _get(o, "sobject").strip()
    if not sobject:
        raise OptionError("sobject: required (the Salesforce object to write, e.g. Contact)")
    op_name = _get(o, "operation").strip() or "insert"
    operation = OPERATIONS.get(op_name.lower())
    if operation is None:
        raise OptionError(f"operation: {op_name!r} is not insert, update, upsert, delete or hardDelete")
    ext = _get(o, "upsertField").strip() or _get(o, "externalIdField").strip()
    if operation == "upsert" and not ext:
        raise OptionError("upsertField: required for operation upsert (the external id field)")
    if operation != "upsert" and ext:
        raise OptionError(f"upsertField: only for operation upsert, not {op_name}")

    api = _get(o, "api").strip().lower() or "auto"
    if api not in APIS:
        raise OptionError(f"api: {api!r} is not auto, collections, bulk1 or bulk2")
    bulk = _get(o, "api_version").strip()
    if bulk:
        if bulk not in ("1", "2", "1.0", "2.0"):
            raise OptionError(
                f"api_version: {bulk!r} is not 1 or 2 (the Bulk API version; "
                "Salesforce's API version is salesforceApiVersion)"
            )
        api = "bulk1" if bulk.startswith("1") else "bulk2"
    sf_version = _get(o, "salesforceApiVersion").strip()
    if sf_version and not re.fullmatch(r"\d{2,3}\.0", sf_version):
        raise OptionError(f"salesforceApiVersion: {sf_version!r} is not a version like 62.0")

    ignore = _bool(o, "ignoreNullValues")
    null_value = _get(o, "nullValue").strip().lower()
    if null_value and null_value not in ("skip", "clear"):
        raise OptionError(f"nullValue: {null_value!r} is not skip or clear")
    if null_value and ignore is not None and (null_value == "skip") != ignore:
        raise OptionError(f"nullValue={null_value} contradicts ignoreNullValues={str(ignore).lower()}")
    if not null_value:
        null_value = "skip" if ignore else "clear"
        if ignore is None and operation in ("update", "upsert"):
            warnings.warn(
                "sfbatch: a null cell clears its field (#N/A), the seed's ignoreNullValues=false; "
                "set nullValue=skip (or ignoreNullValues=true) to leave fields unchanged",
                stacklevel=2,
            )

    key_columns = tuple(c.strip() for c in _get(o, "keyColumns").split(",") if c.strip())
    results_path = _get(o, "resultsPath").strip()
    run_dir = _get(o, "runDir").strip()
    test_kill = None
    if _get(o, "testKillAfterSent"):
        m = re.fullmatch(r"(\d+):(\d+)(?::(\d+))?", _get(o, "testKillAfterSent").strip())
        if not m:
            raise OptionError("testKillAfterSent: give PARTITION:N or PARTITION:N:ATTEMPTS")
        test_kill = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    lease_period = _get(o, "leasePeriod").strip()
    if lease_period and not LEASE_PERIOD.match(lease_period):
        raise OptionError(f"leasePeriod: {lease_period!r} is not a duration like 30s, 1500ms or 2m")
    total = _int(o, "concurrency", 1)
    tasks = _int(o, "tasksAtOnce", 1)
    per_task = split_concurrency(total, tasks)
    partitions = _int(o, "numPartitions", 1)
    share_total = parse_share(_get(o, "maxApiShare")) if _get(o, "maxApiShare").strip() else 0.0
    share = split_share(share_total, partitions) if share_total else 0.0

    cfg = WriteConfig(
        sobject=sobject,
        operation=operation,
        external_id=ext,
        api=api,
        api_version=sf_version,
        batch_size=_int(o, "batchSize", 1) or 0,
        null_value=null_value,
        concurrency=per_task,
        concurrency_total=total,
        tasks_at_once=tasks,
        max_api_share=share,
        max_api_share_total=share_total,
        partitions=partitions,
        lease_period=lease_period,
        retries=_int(o, "retries", 0),
        time_zone=_get(o, "timeZone").strip(),
        key_columns=key_columns,
        results_path=local_path("resultsPath", results_path) if results_path else "",
        run_dir=local_path("runDir", run_dir) if run_dir else "",
        binary=_get(o, "sfbatchBinary").strip(),
        test_kill=test_kill,
    )

    ca = _get(o, "caCertFile").strip() or env.get("SF_CA_CERT_FILE", "")
    if ca and not os.path.isfile(ca):
        raise OptionError(f"caCertFile: {ca} is not a file on the driver")
    instance_url = _get(o, "instance_url").strip()
    if instance_url and urlparse(instance_url).scheme != "https":
        raise OptionError(f"instance_url: {instance_url!r} is not an https URL")
    creds = Credentials(
        login_url=login_url(_get(o, "domain")),
        username=_get(o, "username").strip(),
        password=_secret(o, "password", env),
        security_token=_secret(o, "security_token", env),
        access_token=_secret(o, "accessToken", env),
        instance_url=instance_url,
        refresh_token=_secret(o, "refreshToken", env),
        client_id=_get(o, "clientId").strip(),
        client_secret=_secret(o, "clientSecret", env),
        jwt_key_file=_get(o, "jwtKeyFile").strip(),
        ca_cert_file=ca,
    )
    flow = creds.flow()
    if not flow:
        raise OptionError(
            "no Salesforce credentials: give username + password (+ security_token), "
            "clientId + jwtKeyFile + username (JWT bearer), clientId + clientSecret (client credentials), "
            "refreshToken + clientId, or accessToken + instance_url"
        )
    if flow == "access_token" and not instance_url:
        raise OptionError("instance_url: required with accessToken")
    if flow == "jwt":
        if not (creds.client_id and creds.username):
            raise OptionError("jwtKeyFile: the JWT bearer flow also needs clientId and username")
        if not os.path.isfile(creds.jwt_key_file):
            raise OptionError(f"jwtKeyFile: {creds.jwt_key_file} is not a file on the driver")
    if flow == "refresh_token" and not creds.client_id:
        raise OptionError("refreshToken: also needs clientId")
    return cfg, creds
