"""Loads a CSV file through simple-salesforce's Bulk API 2.0 helper, then downloads each job's
successful and failed records, as its documentation shows. Prints the counts as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile

from simple_salesforce import Salesforce


def count_rows(path: str) -> int:
    with open(path, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def main(obj: str, path: str) -> None:
    sf = Salesforce(instance_url=os.environ["SF_INSTANCE_URL"], session_id=os.environ["SF_ACCESS_TOKEN"], version="62.0")
    bulk = getattr(sf.bulk2, obj)
    jobs = bulk.insert(csv_file=path)
    ok = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for job in jobs:
            good, bad = os.path.join(tmp, "ok.csv"), os.path.join(tmp, "bad.csv")
            bulk.get_successful_records(job["job_id"], file=good)
            bulk.get_failed_records(job["job_id"], file=bad)
            ok += count_rows(good)
            failed += count_rows(bad)
    print(json.dumps({"succeeded": ok, "failed": failed, "jobs": len(jobs)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
