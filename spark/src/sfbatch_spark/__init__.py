"""sfbatch for Spark: ``df.write.format("sfbatch")`` writes a DataFrame to Salesforce.

Each task streams its partition as Arrow to ``sfbatch pipe`` (the binary this wheel carries),
which loads it and returns one result per row. The driver checks the options and logs in
once; tasks never hold Salesforce logic. See the project's README, "Running on Spark".

>>> from sfbatch_spark import SalesforceBatchDataSource   # the seed's format("salesforce-batch")
>>> spark.dataSource.register(SalesforceBatchDataSource)  # optional: Spark 4 finds it on its own
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .datasource import SalesforceBatchDataSource, SfbatchCommitMessage, SfbatchDataSource, SfbatchWriteError
from .options import OptionError
from .reader import SfbatchReadError, commit_since
from .results import RESULT_COLUMNS, read_summary

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = [
    "SalesforceBatchDataSource", "SfbatchDataSource", "SfbatchCommitMessage", "SfbatchWriteError",
    "OptionError", "RESULT_COLUMNS", "read_summary", "write_with_results",
    "SfbatchReadError", "commit_since", "tasks_at_once", "partitions",
]


def partitions(df: "DataFrame") -> int:
    """How many partitions (tasks) a write of ``df`` has, read from the physical plan without
    running it (a plan whose partitioning is not known there, a scan, is asked for its RDD's
    partitions). Pass it as ``numPartitions`` with ``maxApiShare`` on a plain ``df.write``;
    ``write_with_results`` does."""
    parts = 0
    try:
        parts = int(df._jdf.queryExecution().sparkPlan().outputPartitioning().numPartitions())
    except Exception:  # noqa: BLE001 - an internal API; the public one below answers too
        parts = 0
    if parts <= 0:
        parts = df.rdd.getNumPartitions()
    return max(1, parts)


def tasks_at_once(df: "DataFrame") -> int:
    """How many tasks of a write of ``df`` run at once: min(partitions, task slots), at least 1.

    The partitions are read from the physical plan without running it (a plan whose
    partitioning is not known there, a scan, is asked for its RDD's partitions); the slots
    are the cluster's current task slots (executor cores / ``spark.task.cpus``), else
    ``defaultParallelism``. Pass it as ``tasksAtOnce`` with ``concurrency`` on a plain
    ``df.write``; ``write_with_results`` does.
    """
    parts = partitions(df)
    sc = df.sparkSession.sparkContext
    slots = 0
    try:
        jsc = sc._jsc.sc()
        slots = int(jsc.maxNumConcurrentTasks(jsc.resourceProfileManager().defaultResourceProfile()))
    except Exception:  # noqa: BLE001 - an internal API
        slots = 0
    if slots <= 0:
        slots = sc.defaultParallelism
    return max(1, min(parts, slots))


def write_with_results(df: "DataFrame", **options: Any) -> "DataFrame":
    """Write ``df`` now and return its per-row results, ``spark.read.parquet(resultsPath)``.

    The write runs before this returns (the DataFrame returned only reads files: counting or
    collecting it never writes to Salesforce again). ``resultsPath`` is required. With
    ``concurrency`` (the whole write's), ``tasksAtOnce`` is computed from ``df``
    (:func:`tasks_at_once`) unless given, so each task gets its share; with ``maxApiShare``,
    ``numPartitions`` likewise (:func:`partitions`).
    """
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    path = options.get("resultsPath")
    if not path:
        raise OptionError("resultsPath: required by write_with_results")
    lower = {k.lower() for k in options}
    if "concurrency" in lower and "tasksatonce" not in lower:
        # The write's concurrency is split between the tasks that run at once (options.py).
        options = dict(options, tasksAtOnce=tasks_at_once(df))
    if "maxapishare" in lower and "numpartitions" not in lower:
        # The write's API share is split between its partitions (options.py).
        options = dict(options, numPartitions=partitions(df))
    df.write.format("sfbatch").mode("append").options(**{k: str(v) for k, v in options.items()}).save()
    spark = df.sparkSession
    try:
        return spark.read.parquet(str(path))
    except Exception:  # no result file at all: every partition was empty
        from pathlib import Path

        if any(Path(str(path)).glob("*.parquet")):
            raise
        keys = [c.strip() for c in str(options.get("keyColumns", "")).split(",") if c.strip()]
        fields = [StructField("sf__Row", LongType()), StructField("sf__Outcome", StringType()),
                  StructField("sf__Id", StringType()), StructField("sf__Created", BooleanType())]
        fields += [StructField(c, StringType()) for c in RESULT_COLUMNS[4:]]
        by_name = {f.name: f for f in df.schema.fields}
        fields += [by_name[k] for k in keys if k in by_name]
        return spark.createDataFrame([], StructType(fields))
