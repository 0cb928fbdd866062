package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestLoadMaxAPIShare: --max-api-share takes a fraction or a percentage; a load whose cost
// does not fit the share of what the org has left sends nothing, ends with every row not
// processed (unprocessed.csv, ready to load again) and exits 3. The input file's rows are
// counted before anything is sent, so a load whose first job fits but whose whole does not
// sends nothing either.
func TestLoadMaxAPIShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, flag string
		remaining  int
		batchSize  int
	}{
		{name: "first job does not fit", flag: "0.5", remaining: 20},
		{name: "percentage", flag: "50%", remaining: 20},
		// 5 jobs of 16 requests; the share of the 98 left is 49: the first job would fit.
		{name: "whole load does not fit", flag: "0.5", remaining: 100, batchSize: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flag := tt.flag
			srv := salesforcetest.New(t)
			if err := srv.SetLimitRemaining("DailyApiRequests", tt.remaining); err != nil {
				t.Fatal(err)
			}
			const n = 50
			input := writeContacts(t, n)
			connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
				return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
			}
			dir := filepath.Join(t.TempDir(), "out")
			o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", ColumnDelimiter: "COMMA", LineEnding: "LF",
				input: input, OutputDir: dir, Quiet: true, BatchSize: tt.batchSize}
			if err := o.MaxAPIShare.Set(flag); err != nil {
				t.Fatal(err)
			}
			res, code, msg := runLoadTest(t, connect, o)
			if code != ExitRowsFailed {
				t.Fatalf("exit %d, want %d: %s", code, ExitRowsFailed, msg)
			}
			if s := res.Summary; s.NotProcessed != n || s.ErrorCodes[load.StatusAPIShare] != n || len(jobIDs(s)) != 0 {
				t.Errorf("summary %+v, want every row not processed and no job", s)
			}
			b, _ := os.ReadFile(res.Files["unprocessed"])
			if got := strings.Count(string(b), "\n"); got != n+1 {
				t.Errorf("unprocessed.csv has %d lines, want %d", got, n+1)
			}
			if srv.Count("Contact") != 0 {
				t.Errorf("%d contacts in the org", srv.Count("Contact"))
			}
		})
	}
	if err := (new(share)).Set("2"); err == nil {
		t.Error("--max-api-share 2 accepted")
	}
}
