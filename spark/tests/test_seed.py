"""The seed's notebook code, as written, with only its copied class replaced by the import.

Each example's code below is verbatim from the seed (Step 1, Step 3, Examples 1-3); the
checks after it read the emulator's state. Example 4 (300,000 rows on 32 partitions) is in
test_scale.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Org


@pytest.fixture()
def sf_creds(org: Org) -> dict[str, str]:
    # The seed's Step 2 reads these from Databricks secrets; "domain" takes the emulator's URL.
    return org.creds()


def test_step1_register_and_step3_write(spark: Any, sf_creds: dict[str, str], org: Org) -> None:
    # Step 1, with the copied class replaced by the import
    from sfbatch_spark import SalesforceBatchDataSource
    spark.dataSource.register(SalesforceBatchDataSource)

    df = spark.createDataFrame([{"FirstName": f"Step3-{i}", "LastName": "Seed"} for i in range(40)])
    before = org.count("WHERE FirstName LIKE 'Step3-%'")
    # Step 3 (verbatim)
    # Repartition to control batch size (max 150MB per partition)
    df_to_write = df.repartition(32)

    # Write to Salesforce
    (df_to_write.write
        .format("salesforce-batch")
        .mode("append")
        .options(**sf_creds)
        .option("sobject", "Contact")
        .option("api_version", "2")
        .save()
    )
    assert before == 0
    assert org.count("WHERE FirstName LIKE 'Step3-%'") == 40


def test_example1_basic_insert(spark: Any, sf_creds: dict[str, str], org: Org) -> None:
    before = org.count("WHERE Email IN ('john.doe@example.com', 'jane.smith@example.com')")
    # Example 1 (verbatim)
    # Prepare DataFrame with matching schema
    df_contacts = spark.createDataFrame([
        {"FirstName": "John", "LastName": "Doe", "Email": "john.doe@example.com"},
        {"FirstName": "Jane", "LastName": "Smith", "Email": "jane.smith@example.com"}
    ])

    # Write to Salesforce
    (df_contacts.write
        .format("salesforce-batch")
        .mode("append")
        .options(**sf_creds)
        .option("sobject", "Contact")
        .option("api_version", "2")
        .option("operation", "insert")
        .save()
    )
    rows = org.query("SELECT FirstName, LastName FROM Contact WHERE Email IN "
                     "('john.doe@example.com', 'jane.smith@example.com') ORDER BY LastName")
    assert before == 0
    assert [(r["FirstName"], r["LastName"]) for r in rows] == [("John", "Doe"), ("Jane", "Smith")]


def test_example2_upsert_with_external_id(spark: Any, sf_creds: dict[str, str], org: Org) -> None:
    # Example 2 (verbatim). The emulator, like Salesforce, allows upsert on Contact.Email (idLookup).
    # Upsert based on Email field
    df_contacts = spark.createDataFrame([
        {"FirstName": "John", "LastName": "Doe", "Email": "john.doe2@example.com", "Phone": "555-0123"}
    ])

    (df_contacts.write
        .format("salesforce-batch")
        .mode("append")
        .options(**sf_creds)
        .option("sobject", "Contact")
        .option("api_version", "2")
        .option("operation", "upsert")
        .option("upsertField", "Email")  # External ID field
        .save()
    )
    rows = org.query("SELECT Id, Phone FROM Contact WHERE Email = 'john.doe2@example.com'")
    assert [r["Phone"] for r in rows] == ["555-0123"]
    # The same upsert again updates the one record instead of creating a second.
    (df_contacts.write.format("salesforce-batch").mode("append").options(**sf_creds)
        .option("sobject", "Contact").option("api_version", "2").option("operation", "upsert")
        .option("upsertField", "Email").save())
    assert [r["Id"] for r in org.query("SELECT Id FROM Contact WHERE Email = 'john.doe2@example.com'")] == [rows[0]["Id"]]


def test_example3_parent_child_upsert(spark: Any, sf_creds: dict[str, str], org: Org) -> None:
    # Example 3 (verbatim)
    # Step 1: Upsert Accounts with External ID
    df_accounts = spark.createDataFrame([
        {"Name": "Acme Corp", "Oracle_Id__c": "ORA-1001"},  # External ID
        {"Name": "Tech Inc", "Oracle_Id__c": "ORA-1002"}
    ])

    (df_accounts.write
        .format("salesforce-batch")
        .mode("append")
        .options(**sf_creds)
        .option("sobject", "Account")
        .option("api_version", "2")
        .option("operation", "upsert")
        .option("upsertField", "Oracle_Id__c")
        .save()
    )

    # Step 2: Upsert Contacts linked to Accounts
    from pyspark.sql.functions import col

    df_contacts = spark.createDataFrame([
        {"FirstName": "John", "LastName": "Doe", "Email": "john@acme.com", "AccountExtId": "ORA-1001"},
        {"FirstName": "Jane", "LastName": "Smith", "Email": "jane@tech.com", "AccountExtId": "ORA-1002"}
    ])

    # Map AccountExtId to Account relationship field
    df_contacts_ready = df_contacts.select(
        "FirstName",
        "LastName",
        "Email",
        col("AccountExtId").alias("Account.Oracle_Id__c")  # Link to Account
    )

    (df_contacts_ready.write
        .format("salesforce-batch")
        .mode("append")
        .options(**sf_creds)
        .option("sobject", "Contact")
        .option("api_version", "2")
        .option("operation", "upsert")
        .option("upsertField", "Email")
        .option("ignoreNullValues", "true")  # Don't overwrite nulls
        .save()
    )
    accounts = {r["Oracle_Id__c"]: r["Id"] for r in org.query(
        "SELECT Id, Oracle_Id__c FROM Account WHERE Oracle_Id__c IN ('ORA-1001', 'ORA-1002')")}
    assert len(accounts) == 2
    contacts = {r["Email"]: r["AccountId"] for r in org.query(
        "SELECT Email, AccountId FROM Contact WHERE Email IN ('john@acme.com', 'jane@tech.com')")}
    assert contacts == {"john@acme.com": accounts["ORA-1001"], "jane@tech.com": accounts["ORA-1002"]}
