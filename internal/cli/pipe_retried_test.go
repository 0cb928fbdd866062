package cli

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestPipeSummaryCountsLockRetries: with the emulator's lock contention on, rows of a
// Parallel Bulk API 1.0 job that share a parent with an earlier batch fail with
// UNABLE_TO_LOCK_ROW; pipe resubmits them, every row ends succeeded once, and the summary
// event counts the resubmissions ("retried"), which callers such as the Spark writer report.
func TestPipeSummaryCountsLockRetries(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSeed(7),
		salesforcetest.WithBulkOptions(bulk.Options{Seed: 7, LockContentionRate: 0.5}))
	ids, err := srv.Insert(t.Context(), "Account", map[string]any{"Name": "Parent"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var in bytes.Buffer
	in.WriteString("LastName,AccountId\n")
	for i := range n {
		fmt.Fprintf(&in, "Lock%03d,%s\n", i, ids[0])
	}
	r := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), in.Bytes()...), "insert", "-s", "Contact",
		"--format", "csv", "--api", "bulk1", "--batch-size", "20", "--concurrency", "2", "--max-retries", "20", "--handshake")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	allSucceeded(t, resultRows(t, r.out), n)
	sum := r.event("summary")
	if retried, _ := sum["retried"].(float64); retried <= 0 {
		t.Errorf("summary %v: no resubmission counted, yet contention was on", sum)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
}
