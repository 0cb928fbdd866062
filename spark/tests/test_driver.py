"""Driver side on real Spark: formats found without register, options and login checked
before any task runs, secrets kept out of errors and the plan."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest

from conftest import Org


def tasks_started(spark: Any, group: str) -> list[int]:
    return list(spark.sparkContext.statusTracker().getJobIdsForGroup(group))


def write(spark: Any, fmt: str, options: dict[str, str], group: str, mode: str = "append") -> None:
    spark.sparkContext.setJobGroup(group, group)
    try:
        df = spark.createDataFrame([{"FirstName": "A", "LastName": "B"}])
        df.write.format(fmt).mode(mode).options(**options).save()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def test_formats_need_no_register(spark: Any) -> None:
    # Spark 4 imports pyspark_* modules and registers their DefaultSource by name.
    names = spark._jsparkSession.sessionState().dataSourceManager().dataSourceExists
    assert names("sfbatch") and names("salesforce-batch")


@pytest.mark.parametrize("fmt", ["sfbatch", "salesforce-batch"])
@pytest.mark.parametrize(
    "extra, message",
    [
        ({"operation": "merge"}, "operation: 'merge' is not insert"),
        ({"operation": "upsert", "upsertField": "Email"}, "upsertField: 'Email' is not a column"),
        ({"resultsPath": "s3://bucket/x"}, "is a URI"),
        ({"api_version": "62.0"}, "api_version: '62.0' is not 1 or 2"),
    ],
)
def test_bad_option_fails_before_any_task(spark: Any, org: Org, fmt: str, extra: dict[str, str], message: str) -> None:
    group = f"bad-{fmt}-{abs(hash(message))}"
    with pytest.raises(Exception, match=re.escape(message)):
        write(spark, fmt, {**org.creds(), "sobject": "Contact", **extra}, group)
    assert tasks_started(spark, group) == []


def test_missing_credentials_fail_before_any_task(spark: Any) -> None:
    with pytest.raises(Exception, match="no Salesforce credentials"):
        write(spark, "sfbatch", {"sobject": "Contact"}, "nocreds")
    assert tasks_started(spark, "nocreds") == []


def test_wrong_password_fails_on_the_driver_without_the_password(spark: Any, org: Org) -> None:
    secret = "Wrong-Password-7f3a9c"
    with pytest.raises(Exception) as ei:
        write(spark, "sfbatch", {**org.creds(password=secret), "sobject": "Contact"}, "wrongpw")
    text = str(ei.value)
    assert "INVALID_LOGIN" in text and "login failed" in text
    assert secret not in text and org.info["security_token"] not in text
    assert tasks_started(spark, "wrongpw") == []


def test_overwrite_is_refused_before_any_task(spark: Any, org: Org) -> None:
    with pytest.raises(Exception, match="mode overwrite"):
        write(spark, "sfbatch", {**org.creds(), "sobject": "Contact"}, "overwrite", mode="overwrite")
    assert tasks_started(spark, "overwrite") == []


def test_secret_option_names_match_sparks_redaction_regex(spark: Any) -> None:
    from sfbatch_spark import options as opt

    jvm = spark.sparkContext._jvm
    pattern = getattr(getattr(jvm.org.apache.spark.internal.config, "package$"), "MODULE$").SECRET_REDACTION_PATTERN()
    default = spark.sparkContext.getConf().get("spark.redaction.regex", pattern.defaultValueString())
    assert "password" in default  # the JVM's own default, not a copy of it
    regex = re.compile(default)
    for name in opt.SECRET_OPTIONS:
        for key in (name, name + ".env", name + ".file"):
            assert regex.search(key), key


def test_tasks_get_a_session_never_the_password(org: Org) -> None:
    from pyspark.sql.types import StringType, StructField, StructType

    from sfbatch_spark.datasource import SfbatchWriter

    schema = StructType([StructField("LastName", StringType())])
    w = SfbatchWriter.prepare({**org.creds(), "sobject": "Contact"}, schema)
    blob = pickle.dumps(w)
    assert org.info["password"].encode() not in blob
    assert org.info["security_token"].encode() not in blob
    assert b"accessToken" in blob  # the driver's one session
    assert org.info["password"] not in repr(w) and "accessToken" not in repr(w)
