"""The Spark data source: options on the driver, one `sfbatch pipe` per task, commit and abort.

Everything here pickles: the data source and the writer hold only plain data (settings, the
session's handshake, the run id). Clients, processes and threads exist only inside ``write``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

try:
    from pyspark.sql.datasource import DataSource, DataSourceArrowWriter, WriterCommitMessage
except ImportError as _e:  # pragma: no cover - depends on the installed pyspark
    try:
        import pyspark

        _found = f"pyspark {pyspark.__version__}"
    except ImportError:
        _found = "no pyspark"
    raise ImportError(
        "sfbatch_spark needs pyspark 4.0 or later (the Python Data Source API with "
        f"DataSourceArrowWriter); this Python has {_found}"
    ) from _e

import pyarrow as pa
from pyspark.sql.types import ArrayType, MapType, StructType

from . import abort as abort_mod
from . import options as opt
from . import process, reader, results, stream
from .binary import find_binary
from .login import LoginError, Session, child_env, login

log = logging.getLogger("sfbatch_spark")

#: Name of the file that marks a run as failed for good (exit 2 or 4 of a task's pipe).
FATAL_FILE = "_fatal.json"
#: Name of the file under runDir/<runId> where abort() writes what `pipe --abort-run` did.
ABORT_FILE = "_abort.json"


class SfbatchWriteError(RuntimeError):
    """A write failed. ``retryable`` says whether a retry of the task can help."""

    def __init__(self, message: str, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass
class SfbatchCommitMessage(WriterCommitMessage):
    """What one task attempt reports to the driver."""

    partition: int
    attempt: int
    task_attempt_id: int
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    results_file: str | None = None
    exit_code: int | None = None
    #: The --concurrency this attempt's pipe ran with (the task's share of the write's).
    concurrency: int | None = None
    #: Row resubmissions pipe made (retryable errors such as UNABLE_TO_LOCK_ROW).
    retried: int = 0


def _check_schema(schema: StructType, cfg: opt.WriteConfig) -> None:
    names = {f.name.lower(): f.name for f in schema.fields}
    for f in schema.fields:
        if isinstance(f.dataType, (StructType, ArrayType, MapType)):
            raise opt.OptionError(
                f"column {f.name!r}: nested type {f.dataType.simpleString()} cannot be written to Salesforce; "
                "flatten it (relationship fields are columns named like 'Account.External_Id__c')"
            )
    for c in cfg.key_columns:
        if c.lower() not in names:
            raise opt.OptionError(f"keyColumns: {c!r} is not a column of the DataFrame")
    if cfg.operation == "upsert" and cfg.external_id.lower() not in names:
        raise opt.OptionError(f"upsertField: {cfg.external_id!r} is not a column of the DataFrame")
    if cfg.operation in ("update", "delete", "hard-delete") and "id" not in names:
        raise opt.OptionError(f"operation {cfg.operation}: the DataFrame needs an Id column")


def _run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


class SfbatchDataSource(DataSource):
    """``df.write.format("sfbatch")``: writes a DataFrame to Salesforce through `sfbatch pipe`."""

    @classmethod
    def name(cls) -> str:
        return "sfbatch"

    def schema(self) -> Any:
        # Reads (spark.read): the schema from describe (reader.py); writes take the DataFrame's.
        if reader.is_read(self.options):
            return reader.read_schema(dict(self.options))
        return "*"

    def reader(self, schema: StructType) -> "reader.SfbatchReader":
        return reader.SfbatchReader.prepare(dict(self.options), schema)

    def streamWriter(self, schema: StructType, overwrite: bool) -> "stream.SfbatchStreamWriter":
        return stream.SfbatchStreamWriter.prepare(dict(self.options), schema)

    def writer(self, schema: StructType, overwrite: bool) -> "SfbatchWriter":
        if overwrite:
            raise opt.OptionError(
                "mode overwrite: Salesforce has no table to replace; use mode(\"append\") "
                "(operation upsert or update changes existing records)"
            )
        return SfbatchWriter.prepare(dict(self.options), schema)


class SalesforceBatchDataSource(SfbatchDataSource):
    """The seed's ``format("salesforce-batch")``, with the seed's options and meaning."""

    @classmethod
    def name(cls) -> str:
        return "salesforce-batch"


class SfbatchWriter(DataSourceArrowWriter):
    """Runs one `sfbatch pipe` per task over the partition's Arrow batches.

    Built on the driver by :meth:`prepare` (options checked, one login, a run id); pickled to
    every task; ``commit`` and ``abort`` run on the driver.
    """

    def __init__(self, cfg: opt.WriteConfig, session: Session, run_id: str, binary: str) -> None:
        self.cfg = cfg
        self.session = session
        self.run_id = run_id
        self.binary = binary
        #: A stream's micro-batch: abort() leaves its journals resumable, because Spark runs
        #: the same batch id again when the query restarts.
        self.resumable_abort = False

    def __repr__(self) -> str:  # never the handshake
        return f"SfbatchWriter(run_id={self.run_id!r}, cfg={self.cfg!r})"

    @classmethod
    def prepare(cls, options: dict[str, str], schema: StructType) -> "SfbatchWriter":
        """Check everything on the driver, log in once, and make the run id."""
        cfg, creds = opt.parse(options)
        _check_schema(schema, cfg)
        if cfg.results_path:
            try:
                results.check_results_path(cfg.results_path)
            except (OSError, ValueError) as e:
                raise opt.OptionError(str(e)) from None
        if cfg.run_dir:
            try:
                Path(cfg.run_dir).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise opt.OptionError(f"runDir: cannot create {cfg.run_dir}: {e.strerror}") from None
        else:
            log.warning("sfbatch: no runDir: a retried task sends its partition's rows again")
        binary = find_binary(cfg.binary)
        try:
            session = login(binary, creds, cfg.api_version)
        except LoginError as e:
            raise SfbatchWriteError(str(e), retryable=False, status=e.status) from None
        return cls(cfg, session, _run_id(), binary)

    # ---- on the executors

    def _journal_dir(self, partition: int) -> str | None:
        if not self.cfg.run_dir:
            return None
        return os.path.join(self.cfg.run_dir, self.run_id, f"part-{partition:05d}")

    def _fatal_path(self) -> Path | None:
        if self.cfg.run_dir:
            return Path(self.cfg.run_dir) / self.run_id / FATAL_FILE
        if self.cfg.results_path:
            return results.attempts_dir(self.cfg.results_path, self.run_id) / FATAL_FILE
        return None

    def write(self, iterator: Iterator[pa.RecordBatch]) -> SfbatchCommitMessage:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx else 0
        attempt = ctx.attemptNumber() if ctx else 0
        task_attempt_id = ctx.taskAttemptId() if ctx else 0
        first = next(iterator, None)
        while first is not None and first.num_rows == 0:
            first = next(iterator, None)
        if first is None:  # an empty partition: no process, no job
            return SfbatchCommitMessage(partition, attempt, task_attempt_id, 0)
        fatal = self._fatal_path()
        if fatal is not None and fatal.exists():
            raise SfbatchWriteError(
                f"sfbatch: not retried: {json.loads(fatal.read_text()).get('message', '')}", retryable=False
            )

        # Found again on the executor: its Python environment may not be the driver's.
        argv = [find_binary(self.cfg.binary)] + self.cfg.pipe_args()
        journal = self._journal_dir(partition)
        if journal:
            argv += ["--run-id", self.run_id, "--journal-dir", journal]
        kill = None
        if self.cfg.test_kill and self.cfg.test_kill[0] == partition and attempt < self.cfg.test_kill[2]:
            kill = self.cfg.test_kill[1]
        env = process.pipe_env(child_env(), kill)
        sink = results.AttemptWriter(
            results.attempt_file(self.cfg.results_path, self.run_id, partition, attempt, task_attempt_id)
            if self.cfg.results_path else None
        )

        def batches() -> Iterator[pa.RecordBatch]:
            yield first
            yield from iterator

        outcome = process.run_pipe(argv, env, self.session.handshake_line(), batches(), sink)
        results_file = sink.close()
        code = outcome.exit_code
        if code in process.NORMAL_EXITS:
            if outcome.rows_returned != outcome.rows_sent:
                raise SfbatchWriteError(
                    f"sfbatch pipe returned {outcome.rows_returned} results for {outcome.rows_sent} rows "
                    f"(partition {partition}); the task is retried", retryable=True, status=code,
                )
            return SfbatchCommitMessage(
                partition, attempt, task_attempt_id, outcome.rows_sent, outcome.counts, results_file, code,
                concurrency=_flag_value(argv, "--concurrency"),
                retried=int((outcome.summary or {}).get("retried") or 0),
            )
        message = self._failure_message(outcome, partition)
        if code in process.FATAL_EXITS:
            if fatal is not None:
                self._mark_fatal(fatal, code, message)
            raise SfbatchWriteError(message + " (a retry cannot help; the write fails)", retryable=False, status=code)
        raise SfbatchWriteError(message + " (Spark retries the task; with runDir it resumes)", retryable=True, status=code)

    def _failure_message(self, outcome: process.PipeOutcome, partition: int) -> str:
        msg = f"sfbatch pipe exited {outcome.exit_code} on partition {partition}: {outcome.message()}"
        if outcome.exit_code == process.EXIT_AUTH and not self.session.refreshable:
            msg += (
                f". The session from the driver's {self.session.flow} login was refused and tasks never "
                "log in with a password: for writes that outlive a session use a flow that renews it "
                "(JWT bearer: clientId + jwtKeyFile + username; client credentials: clientId + clientSecret; "
                "or refreshToken + clientId)"
            )
        return msg

    @staticmethod
    def _mark_fatal(path: Path, code: int, message: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"status": code, "message": message}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # the marker only spares retries their start-up; the error is raised anyway

    # ---- on the driver, after the tasks

    def _summary(self, state: str, messages: list[Any]) -> results.Summary:
        s = results.Summary(
            runId=self.run_id, sobject=self.cfg.sobject, operation=self.cfg.operation, state=state,
            resultsPath=self.cfg.results_path, runDir=self.cfg.run_dir,
        )
        s.concurrency = {"total": self.cfg.concurrency_total, "tasksAtOnce": self.cfg.tasks_at_once,
                         "perTask": self.cfg.concurrency}
        if self.cfg.max_api_share_total:
            s.maxApiShare = {"total": self.cfg.max_api_share_total, "partitions": self.cfg.partitions,
                             "perTask": self.cfg.max_api_share}
        for m in messages:
            if isinstance(m, SfbatchCommitMessage):
                s.partitions += 1
                s.attempts[str(m.partition)] = m.attempt
                s.rows += m.rows
                s.counts.add(m.counts)
                s.retried += m.retried
                if m.concurrency is not None:
                    s.taskConcurrency[str(m.partition)] = m.concurrency
        return s

    def commit(self, messages: list[Any]) -> None:
        s = self._summary("committed", messages)
        if self.cfg.results_path:
            results.publish(
                self.cfg.results_path, self.run_id,
                [(m.partition, m.results_file) for m in messages
                 if isinstance(m, SfbatchCommitMessage) and m.results_file],
            )
            results.write_summary(self.cfg.results_path, s)
        log.warning("%s", s.line())

    def abort(self, messages: list[Any]) -> None:
        """The write failed: abort what failed attempts left, from their journals, and say so.

        Spark passes no message from a failed task, so with ``runDir`` the journals under
        ``runDir/<runId>`` are read by `sfbatch pipe --abort-run`: jobs Salesforce has not
        started are aborted (their rows are not loaded), jobs it is processing are left to
        finish (their rows load). Rows already loaded stay in the org. The outcome is logged,
        written to ``_summary.json`` (with ``resultsPath``) and ``runDir/<runId>/_abort.json``,
        and raised, which Spark attaches to the write's error.
        """
        s = self._summary("aborted", messages)
        s.notes.append("The write failed. " + abort_mod.LOADED_STAY)
        outcome = None
        if self.cfg.run_dir:
            root = Path(self.cfg.run_dir) / self.run_id
            if root.is_dir():
                outcome = abort_mod.abort_run(self.binary, self.session, self.run_id, str(root), self.cfg.lease_period,
                                              resumable=self.resumable_abort)
                s.abort = dict(outcome.result, exitCode=outcome.exit_code, error=outcome.error or None)
                s.notes.append(outcome.message())
                _write_json(root / ABORT_FILE, s.abort)
        else:
            s.notes.append(
                "Without runDir there are no journals: jobs a failed task's pipe could not abort "
                "(a killed executor) stay open until Salesforce times them out"
            )
        fatal = self._fatal_path()
        if fatal is not None and fatal.exists():
            s.notes.append(json.loads(fatal.read_text()).get("message", ""))
        if self.cfg.results_path:
            results.write_summary(self.cfg.results_path, s)
        text = f"{s.line()}. {' '.join(s.notes)}"
        log.warning("%s", text)
        raise SfbatchWriteError(f"sfbatch abort: {text}", retryable=False,
                                status=outcome.exit_code if outcome else None)


def _write_json(path: Path, data: Any) -> None:
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        log.warning("sfbatch: cannot write %s: %s", path, e.strerror)


def _flag_value(argv: list[str], flag: str) -> int | None:
    """The integer after ``flag`` in ``argv``."""
    try:
        return int(argv[argv.index(flag) + 1])
    except (ValueError, IndexError):
        return None
