package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestExportMaxAPIShare: an export whose smallest estimate does not fit its share of what the
// org has left sends no query; one that reaches its share part way stops, exit 3, having spent
// no more than the share.
func TestExportMaxAPIShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		api       string
		remaining int
		allowance int // floor(0.5 × (remaining - 1)): the limits read takes one
	}{
		{name: "bulk2 does not fit", api: "bulk2", remaining: 10, allowance: 4},
		{name: "rest stops part way", api: "rest", remaining: 7, allowance: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t)
			ctx := t.Context()
			recs := make([]map[string]any, 1200)
			for i := range recs {
				recs[i] = map[string]any{"LastName": fmt.Sprintf("Row%04d", i)}
			}
			if _, err := srv.Insert(ctx, "Contact", recs...); err != nil {
				t.Fatal(err)
			}
			if err := srv.SetLimitRemaining("DailyApiRequests", tt.remaining); err != nil {
				t.Fatal(err)
			}
			c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
				salesforce.WithRetry(salesforce.NoRetry()))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "contacts.csv")
			o := &exportOptions{Query: "SELECT LastName FROM Contact", Output: out, API: tt.api, PageSize: 200, Concurrency: 1,
				ColumnDelimiter: "COMMA", LineEnding: "LF", Quiet: true, RunDir: filepath.Join(t.TempDir(), "run")}
			if err := o.MaxAPIShare.Set("50%"); err != nil {
				t.Fatal(err)
			}
			_, err = runExport(ctx, &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, c, o)
			if code := exitCodeOf(err); code != ExitRowsFailed {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitRowsFailed)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s exists after an export that stopped", out)
			}
			l := srv.Org().Limits()["DailyApiRequests"]
			if spent := tt.remaining - 1 - l.Remaining; spent > tt.allowance {
				t.Errorf("the export spent %d requests, over its allowance of %d", spent, tt.allowance)
			}
		})
	}
}

// TestPipeExportMaxAPIShare: pipe --export refuses a read whose first query job does not fit
// its share of what the org has left: exit 3, an error event, no query job.
func TestPipeExportMaxAPIShare(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	if err := srv.SetLimitRemaining("DailyApiRequests", 20); err != nil {
		t.Fatal(err)
	}
	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--export", "--handshake", "-q", "SELECT Id FROM Contact", "--max-api-share", "0.5")
	if r.code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitRowsFailed, r.stderr)
	}
	if e := r.event("error"); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "max-api-share") {
		t.Errorf("error event %v", e)
	}
}
