"""Exports the rows of a SOQL query to one CSV file through salesforce-bulk (Bulk API 1.0) as
its README shows: a query job with PK chunking (Salesforce's default chunk of 100,000 records),
the query batch, wait until every chunk's batch is done, then each batch's result sets streamed
to the file, each header but the first left out. Prints the counts as JSON."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

from salesforce_bulk import SalesforceBulk


def main(obj: str, soql: str, out: str) -> None:
    bulk = SalesforceBulk(sessionId=os.environ["SF_ACCESS_TOKEN"], host=os.environ["SF_INSTANCE_URL"], API_version="62.0")
    job = bulk.create_query_job(obj, contentType="CSV", pk_chunking=True)
    first = bulk.query(job, soql)
    bulk.close_job(job)
    # With PK chunking the first batch becomes NotProcessed and one batch per chunk does the work.
    while True:
        listed = bulk.get_batch_list(job)
        batches = [b for b in (listed if isinstance(listed, list) else [listed]) if b["id"] != first]
        states = [b["state"] for b in batches]
        if "Failed" in states:
            raise RuntimeError("a chunk batch failed: %s" % [b.get("stateMessage") for b in batches if b["state"] == "Failed"])
        if batches and all(s == "Completed" for s in states):
            break
        if not batches and bulk.batch_state(first, job, reload=True) == "Completed":
            batches = [{"id": first}]  # no chunking
            break
        time.sleep(1)
    parts = 0
    with open(out, "wb") as w:
        for b in batches:
            for result in bulk.get_all_results_for_query_batch(b["id"], job):
                if parts > 0:
                    result.readline()
                shutil.copyfileobj(result, w, 1 << 20)
                parts += 1
    print(json.dumps({"batches": len(batches), "results": parts}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
