package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestLoadDryRunWritesRunFolder: --dry-run writes a run folder like a load's and sends
// nothing: each row with a finding is failed with it, the others are not processed and ready
// to load, summary.json is in state dry-run; exit 0 without findings, 3 with findings in rows,
// 2 for a column the object lacks.
func TestLoadDryRunWritesRunFolder(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	}
	cases := []struct {
		name   string
		input  string
		want   int
		failed []string // rows failed, the rest not processed
	}{
		{"clean", "LastName,Email\nA,a@example.com\nB,b@example.com\nC,c@example.com\n", ExitOK, nil},
		{"a row misses a required value", "LastName,Email\nA,a@example.com\n,b@example.com\nC,c@example.com\n", ExitRowsFailed, []string{"2"}},
		{"a column the object lacks", "LastName,Bogus\nA,x\nB,y\nC,z\n", ExitUsage, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			input := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(input, []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "auto", ColumnDelimiter: "COMMA", LineEnding: "LF",
				input: input, OutputDir: dir, Quiet: true, DryRun: true}
			_, code, msg := runLoadTest(t, connect, o)
			if code != tc.want {
				t.Fatalf("exit %d, want %d: %s", code, tc.want, msg)
			}
			got := outcomes(t, filepath.Join(dir, load.ResultsFile))
			if len(got) != 3 {
				t.Errorf("results.csv has %d rows, want 3: %v", len(got), got)
			}
			for row, outcome := range got {
				want := "not_processed"
				for _, f := range tc.failed {
					if f == row {
						want = "failed"
					}
				}
				if outcome != want {
					t.Errorf("row %s is %s, want %s", row, outcome, want)
				}
			}
			failure, err := os.ReadFile(filepath.Join(dir, load.FailureFile))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(failure), "\n") - 1; n != len(tc.failed) {
				t.Errorf("failure.csv has %d rows, want %d:\n%s", n, len(tc.failed), failure)
			}
			if len(tc.failed) > 0 && !strings.Contains(string(failure), "REQUIRED_FIELD_MISSING") {
				t.Errorf("failure.csv lacks the finding:\n%s", failure)
			}
			var sum struct {
				State        string `json:"state"`
				ExitCode     int    `json:"exit_code"`
				Failed       int64  `json:"failed"`
				NotProcessed int64  `json:"not_processed"`
			}
			b, err := os.ReadFile(filepath.Join(dir, summaryFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			if sum.State != "dry-run" || sum.ExitCode != tc.want || sum.Failed != int64(len(tc.failed)) || sum.NotProcessed != int64(3-len(tc.failed)) {
				t.Errorf("summary.json: %s", b)
			}
			if n := srv.Count("Contact"); n != 0 {
				t.Errorf("a dry run left %d contacts in the org", n)
			}
		})
	}
}
