"""Loads a CSV file through salesforce-bulk (Bulk API 1.0) as its README shows: one job, the
file cut into batches of 10,000 rows, wait for every batch, read every batch's results.
Prints the counts as JSON."""

from __future__ import annotations

import itertools
import json
import os
import sys

from salesforce_bulk import SalesforceBulk

BATCH_ROWS = 10_000  # Bulk API 1.0's records per batch


def main(obj: str, path: str) -> None:
    bulk = SalesforceBulk(sessionId=os.environ["SF_ACCESS_TOKEN"], host=os.environ["SF_INSTANCE_URL"], API_version="62.0")
    job = bulk.create_insert_job(obj, contentType="CSV")
    batches = []
    with open(path, "rb") as f:
        header = f.readline()
        while True:
            lines = list(itertools.islice(f, BATCH_ROWS))
            if not lines:
                break
            batches.append(bulk.post_batch(job, header + b"".join(lines)))
    bulk.close_job(job)
    ok = failed = 0
    for batch in batches:
        bulk.wait_for_batch(job, batch, timeout=3600, sleep_interval=1)
        for r in bulk.get_batch_results(batch, job):
            if r.success == "true":
                ok += 1
            else:
                failed += 1
    print(json.dumps({"succeeded": ok, "failed": failed, "batches": len(batches)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
