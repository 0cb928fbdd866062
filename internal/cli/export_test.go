package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestExportResume interrupts a Bulk API 2.0 download with dropped
// connections, then continues it with the printed token: the final file has
// every row exactly once.
func TestExportResume(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	ctx := t.Context()
	const n = 1200
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Row%04d", i)}
	}
	if _, err := srv.Insert(ctx, "Contact", recs...); err != nil {
		t.Fatal(err)
	}
	// Retries without waiting, so the dropped downloads exhaust them quickly.
	noWait := salesforce.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Jitter: func(time.Duration) time.Duration { return 0 }}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
		salesforce.WithRetry(noWait))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "contacts.csv")
	o := &exportOptions{Query: "SELECT LastName FROM Contact", Output: out, API: "bulk2", PageSize: 500, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", Quiet: true}

	// Every result download is dropped, so the export stops before its first page.
	if err := srv.DropNext(1000, "GET", "/services/data/*/jobs/query/*/results"); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}
	o.RunDir = filepath.Join(t.TempDir(), "run1")
	_, err = runExport(ctx, ios, c, o)
	if err == nil {
		t.Fatal("export succeeded although every result download was dropped")
	}
	m := regexp.MustCompile(`--resume (\S+)`).FindStringSubmatch(errOut.String())
	if m == nil {
		t.Fatalf("no resume token in %q (error %v)", errOut.String(), err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("%s exists after a failed export", out)
	}
	if _, err := os.Stat(partialPath(out)); err != nil {
		t.Fatalf("partial file: %v", err)
	}

	srv.ClearFaults()
	o.Resume = m[1]
	o.RunDir = filepath.Join(t.TempDir(), "run2")
	if _, err := runExport(context.WithoutCancel(ctx), ios, c, o); err != nil {
		t.Fatalf("resumed export: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != `LastName` && lines[0] != `"LastName"` {
		t.Fatalf("header = %q", lines[0])
	}
	seen := map[string]int{}
	for _, l := range lines[1:] {
		seen[strings.Trim(l, `"`)]++
	}
	if len(lines)-1 != n || len(seen) != n {
		t.Fatalf("resumed file has %d rows (%d distinct), want %d", len(lines)-1, len(seen), n)
	}
	if _, err := os.Stat(partialPath(out)); err == nil {
		t.Errorf("partial file still exists after the resumed export finished")
	}
}

func TestParseResumeToken(t *testing.T) {
	t.Parallel()
	r, err := parseResumeToken("750xx0000000001AAA:42:locator:with:colons")
	if err != nil || r.JobID != "750xx0000000001AAA" || r.Skip != 42 || r.Locator != "locator:with:colons" {
		t.Fatalf("parseResumeToken = %+v, %v", r, err)
	}
	if got := resumeToken(r); got != "750xx0000000001AAA:42:locator:with:colons" {
		t.Errorf("round trip = %q", got)
	}
	for _, bad := range []string{"", "job", "job:x:loc", ":1:loc", "job:-1:loc"} {
		if _, err := parseResumeToken(bad); err == nil {
			t.Errorf("parseResumeToken(%q) succeeded", bad)
		}
	}
}
