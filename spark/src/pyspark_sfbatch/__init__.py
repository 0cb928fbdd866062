"""``format("sfbatch")`` without a register call: Spark 4 imports ``pyspark_*`` modules and
registers their ``DefaultSource``."""

from sfbatch_spark.datasource import SfbatchDataSource as DefaultSource

__all__ = ["DefaultSource"]
