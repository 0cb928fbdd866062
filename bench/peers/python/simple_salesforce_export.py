"""Exports the rows of a SOQL query to one CSV file through simple-salesforce's Bulk API 2.0
helper: bulk2.<obj>.download, as its documentation shows (it streams each result page of up to
50,000 rows to its own file in a folder), then the pages joined into the output file, each
page's header but the first left out. Prints the counts as JSON."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

from simple_salesforce import Salesforce


def main(obj: str, soql: str, out: str) -> None:
    sf = Salesforce(instance_url=os.environ["SF_INSTANCE_URL"], session_id=os.environ["SF_ACCESS_TOKEN"], version="62.0")
    bulk = getattr(sf.bulk2, obj)
    rows = 0
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as tmp:
        pages = bulk.download(soql, path=tmp)
        with open(out, "wb") as w:
            for i, page in enumerate(pages):
                rows += page["number_of_records"]
                with open(page["file"], "rb") as r:
                    if i > 0:
                        r.readline()
                    shutil.copyfileobj(r, w, 1 << 20)
    print(json.dumps({"rows": rows, "pages": len(pages)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
