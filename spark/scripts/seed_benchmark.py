"""The seed's Example 4 on the emulator: 300,000 Contacts on 1 and on 32 partitions.

Runs `sfbatch emulator --profile realistic` (Salesforce-like job timing), writes the rows
through Spark (format "salesforce-batch", the seed's code) on 1 and on 32 partitions, and the
same rows through `sfbatch insert` from a CSV file, and prints the wall time of each. The
seed reported 372 s on 1 partition and 31 s on 32 against a real org.

    SFBATCH_BIN=... python spark/scripts/seed_benchmark.py [--rows 300000] [--profile realistic]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--partitions", default="1,32")
    ap.add_argument("--profile", default="realistic")
    ap.add_argument("--master", default="local[*]")
    args = ap.parse_args()

    from sfbatch_spark.binary import find_binary

    binary = find_binary()
    work = Path(tempfile.mkdtemp(prefix="sfbatch-seed-bench-"))
    emu = subprocess.Popen(
        [binary, "emulator", "--json", "--addr", "127.0.0.1:0", "--ca-cert-dir", str(work), "--profile", args.profile],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    assert emu.stdout is not None
    info = json.loads(emu.stdout.readline())
    info = info.get("result", info)
    os.environ["SF_CA_CERT_FILE"] = info["ca_cert_file"]
    sf_creds = {"username": info["username"], "password": info["password"],
                "security_token": info["security_token"], "domain": info["login_url"]}
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql.functions import col, concat, lit

        spark = SparkSession.builder.master(args.master).config("spark.ui.enabled", "false").getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        TOTAL_RECORDS = args.rows
        for n in [int(x) for x in args.partitions.split(",")]:
            df_large = spark.range(TOTAL_RECORDS).select(
                concat(lit("First"), col("id").cast("string")).alias("FirstName"),
                lit(f"Bench{n}").alias("LastName"),
                concat(lit(f"p{n}-"), col("id").cast("string"), lit("@example.com")).alias("Email"),
            ).localCheckpoint()
            NUM_PARTITIONS = n
            df_perf = df_large.repartition(NUM_PARTITIONS).localCheckpoint()
            t0 = time.monotonic()
            (df_perf.write
                .format("salesforce-batch")
                .mode("append")
                .options(**sf_creds)
                .option("sobject", "Contact")
                .option("api_version", "2")
                .save()
            )
            print(f"spark, {n:>2} partitions: {TOTAL_RECORDS:,} rows in {time.monotonic() - t0:.1f} s", flush=True)
        spark.stop()

        path = work / "contacts.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["FirstName", "LastName", "Email"])
            for i in range(TOTAL_RECORDS):
                w.writerow([f"First{i}", "BenchCLI", f"cli-{i}@example.com"])
        env = dict(os.environ, SF_INSTANCE_URL=info["instance_url"], SF_ACCESS_TOKEN=info["access_token"])
        t0 = time.monotonic()
        subprocess.run([binary, "insert", "-s", "Contact", str(path), "--api", "bulk2", "-o", str(work / "cli")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"sfbatch insert (one process): {TOTAL_RECORDS:,} rows in {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        emu.terminate()
        emu.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
