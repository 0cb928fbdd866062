"""Options are checked on the driver: each bad value gets an error that names the option."""

from __future__ import annotations

import re

import pytest

from sfbatch_spark import options as opt

CREDS = {"username": "ada@example.com", "password": "pw-123", "security_token": "TOK"}


def parse(**o: str) -> tuple[opt.WriteConfig, opt.Credentials]:
    return opt.parse({**CREDS, "sobject": "Contact", **o}, environ={})


@pytest.mark.parametrize(
    "domain, want",
    [
        ("", "https://login.salesforce.com"),
        ("login", "https://login.salesforce.com"),
        ("test", "https://test.salesforce.com"),
        ("acme", "https://acme.my.salesforce.com"),
        ("acme.my", "https://acme.my.salesforce.com"),
        ("acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("https://acme.my.salesforce.com/services/Soap/u/62.0", "https://acme.my.salesforce.com"),
    ],
)
def test_domain(domain: str, want: str) -> None:
    assert opt.login_url(domain) == want


@pytest.mark.parametrize(
    "o, message",
    [
        ({"sobject": ""}, "sobject: required"),
        ({"operation": "merge"}, "operation: 'merge'"),
        ({"operation": "upsert"}, "upsertField: required"),
        ({"upsertField": "Email"}, "upsertField: only for operation upsert"),
        ({"api_version": "3"}, "api_version: '3' is not 1 or 2"),
        ({"api": "soap"}, "api: 'soap'"),
        ({"batchSize": "ten"}, "batchSize: 'ten' is not a whole number"),
        ({"batchSize": "0"}, "batchSize: 0 is less than 1"),
        ({"ignoreNullValues": "maybe"}, "ignoreNullValues: 'maybe'"),
        ({"nullValue": "drop"}, "nullValue: 'drop'"),
        ({"nullValue": "skip", "ignoreNullValues": "false"}, "contradicts"),
        ({"resultsPath": "s3://bucket/results"}, "resultsPath: 's3://bucket/results' is a URI"),
        ({"runDir": "dbfs:/runs"}, "runDir: 'dbfs:/runs' is a URI"),
        ({"domain": "http://127.0.0.1:8080"}, "not an https URL"),
        ({"sobjct": "Contact"}, "unknown option 'sobjct'"),
        ({"salesforceApiVersion": "62"}, "salesforceApiVersion: '62'"),
        ({"password.env": "NOPE_NOT_SET"}, "password: give only one of"),
    ],
)
def test_bad_option(o: dict[str, str], message: str) -> None:
    with pytest.raises(opt.OptionError, match=re.escape(message)):
        parse(**o)


def test_missing_credentials() -> None:
    with pytest.raises(opt.OptionError, match="no Salesforce credentials"):
        opt.parse({"sobject": "Contact"}, environ={})
    with pytest.raises(opt.OptionError, match="instance_url: required with accessToken"):
        opt.parse({"sobject": "Contact", "accessToken": "00Dx!abc"}, environ={})


def test_seed_options_keep_their_meaning() -> None:
    cfg, creds = parse(operation="upsert", upsertField="Email", api_version="1", batchSize="5000",
                       ignoreNullValues="true", domain="test")
    assert (cfg.operation, cfg.external_id, cfg.api, cfg.batch_size, cfg.null_value) == (
        "upsert", "Email", "bulk1", 5000, "skip")
    assert creds.login_url == "https://test.salesforce.com" and creds.flow() == "soap"
    args = cfg.pipe_args()
    assert args[:4] == ["pipe", "upsert", "-s", "Contact"]
    assert ["-i", "Email"] == args[args.index("-i"):args.index("-i") + 2]
    assert "--null-value" in args and args[args.index("--null-value") + 1] == "skip"
    assert "--batch-size" in args and args[args.index("--batch-size") + 1] == "5000"
    assert parse(api_version="2")[0].api == "bulk2"
    assert parse()[0].api == "auto"
    assert parse(operation="hardDelete")[0].operation == "hard-delete"


def test_null_default_clears_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="clears its field"):
        cfg, _ = parse(operation="update")
    assert cfg.null_value == "clear"
    assert parse(nullValue="skip", operation="update")[0].null_value == "skip"


def test_secrets_by_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "pw"
    f.write_text("from-file\n")
    _, c = opt.parse({"sobject": "Contact", "username": "u", "password.file": str(f)}, environ={})
    assert c.password == "from-file"
    _, c = opt.parse({"sobject": "Contact", "username": "u", "password.env": "PW"}, environ={"PW": "from-env"})
    assert c.password == "from-env"
    with pytest.raises(opt.OptionError, match="password.env: environment variable PW is not set"):
        opt.parse({"sobject": "Contact", "username": "u", "password.env": "PW"}, environ={})
    assert "from-env" not in repr(c)


def test_no_secret_in_pipe_args() -> None:
    cfg, _ = parse(accessToken="00Dx!secret", instance_url="https://x.my.salesforce.com")
    assert not any("secret" in a or "pw-123" in a or "TOK" == a for a in cfg.pipe_args())


def test_secret_option_names_match_spark_redaction_regex() -> None:
    regex = re.compile(opt.SPARK_REDACTION_REGEX)
    secret_keys = [k for k in opt.OPTIONS if k.split(".")[0] in {s.lower() for s in opt.SECRET_OPTIONS}]
    assert len(secret_keys) == 3 * len(opt.SECRET_OPTIONS)
    for k in secret_keys:
        assert regex.search(k), k


@pytest.mark.parametrize(
    "total, tasks, per_task",
    [(None, None, opt.DEFAULT_CONCURRENCY), (None, 4, opt.DEFAULT_CONCURRENCY), (8, 4, 2), (9, 4, 2), (3, 4, 1), (32, 1, 32)],
)
def test_concurrency_is_split_between_the_tasks_at_once(total: int | None, tasks: int | None, per_task: int) -> None:
    o = {k: str(v) for k, v in (("concurrency", total), ("tasksAtOnce", tasks)) if v is not None}
    cfg, _ = parse(**o)
    assert cfg.concurrency == per_task
    assert (cfg.concurrency_total, cfg.tasks_at_once) == (total, tasks)
    args = cfg.pipe_args()
    assert args[args.index("--concurrency") + 1] == str(per_task)  # what each task's pipe gets


def test_concurrency_without_tasks_at_once_is_refused() -> None:
    with pytest.raises(opt.OptionError, match="total for the whole write.*tasksAtOnce"):
        parse(concurrency="8")


def test_lease_period_and_kill_hook() -> None:
    cfg, _ = parse(runDir="/tmp/r", leasePeriod="2s", testKillAfterSent="1:2:2")
    assert cfg.pipe_args()[-2:] == ["--lease-period", "2s"]
    assert cfg.test_kill == (1, 2, 2)
    assert parse(testKillAfterSent="3:1")[0].test_kill == (3, 1, 1)
    with pytest.raises(opt.OptionError, match="leasePeriod: '2 minutes'"):
        parse(leasePeriod="2 minutes")


@pytest.mark.parametrize("share, parts, per_task", [("0.5", "4", "0.125"), ("50%", "2", "0.25"), ("1", "1", "1"), ("0.3", "3", "0.1")])
def test_api_share_is_split_between_the_partitions(share: str, parts: str, per_task: str) -> None:
    cfg, _ = parse(maxApiShare=share, numPartitions=parts)
    args = cfg.pipe_args()
    assert args[args.index("--max-api-share") + 1] == per_task  # what each task's pipe gets
    assert cfg.partitions == int(parts)


def test_api_share_needs_partitions_and_a_share() -> None:
    assert "--max-api-share" not in parse()[0].pipe_args()
    with pytest.raises(opt.OptionError, match="whole write.*numPartitions"):
        parse(maxApiShare="0.5")
    for bad in ("0", "1.5", "150%", "half", "-0.1"):
        with pytest.raises(opt.OptionError, match="maxApiShare: .* is not a share"):
            parse(maxApiShare=bad, numPartitions="2")
