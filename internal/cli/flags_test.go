package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

func TestLoadEngineOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		op      load.Operation
		args    []string
		want    load.Options
		wantErr string
	}{
		{
			name: "defaults",
			op:   load.Insert,
			args: []string{"-s", "Contact"},
			want: load.Options{Object: "Contact", Operation: load.Insert, ColumnDelimiter: sfcsv.Comma, LineEnding: sfcsv.LF},
		},
		{
			name: "every knob",
			op:   load.Upsert,
			args: []string{"--sobject", "Contact", "--external-id", "External_Id__c", "--api", "bulk1", "--concurrency", "8",
				"--batch-size", "5000", "--write-nulls", "--column-delimiter", "PIPE", "--line-ending", "CRLF", "--max-retries", "5",
				"--retry-codes", "UNABLE_TO_LOCK_ROW,SERVER_UNAVAILABLE", "--group-by", "AccountId", "--assignment-rule-id", "01Q000000000001",
				"--leave-jobs", "--wait", "30", "--no-preflight"},
			want: load.Options{Object: "Contact", Operation: load.Upsert, ExternalIDField: "External_Id__c", API: load.Bulk1,
				Concurrency: 8, BatchSize: 5000, Nulls: load.NullsWrite, ColumnDelimiter: sfcsv.Pipe, LineEnding: sfcsv.CRLF,
				MaxRetries: 5, RetryCodes: []string{"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"}, GroupBy: "AccountId",
				AssignmentRuleID: "01Q000000000001", LeaveJobsOpen: true, Deadline: 30 * time.Minute, Preflight: load.PreflightOff},
		},
		{
			name: "serial implies bulk1",
			op:   load.Update,
			args: []string{"-s", "Account", "--serial"},
			want: load.Options{Object: "Account", Operation: load.Update, API: load.Bulk1, Serial: true, ColumnDelimiter: sfcsv.Comma, LineEnding: sfcsv.LF},
		},
		{name: "missing sobject", op: load.Insert, args: nil, wantErr: "--sobject is required"},
		{name: "upsert without external id", op: load.Upsert, args: []string{"-s", "Contact"}, wantErr: "--external-id is required"},
		{name: "serial with bulk2", op: load.Insert, args: []string{"-s", "Contact", "--serial", "--api", "bulk2"}, wantErr: "--serial needs --api bulk1"},
		{name: "bad api", op: load.Insert, args: []string{"-s", "Contact", "--api", "soap"}, wantErr: "--api"},
		{name: "bad delimiter", op: load.Insert, args: []string{"-s", "Contact", "--column-delimiter", "SPACE"}, wantErr: "--column-delimiter"},
		{name: "bad line ending", op: load.Insert, args: []string{"-s", "Contact", "--line-ending", "CR"}, wantErr: "--line-ending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := &loadOptions{Operation: tc.op}
			cmd := newLoadCmds(&IOStreams{})[0]
			cmd.ResetFlags()
			bindLoadFlags(cmd, o)
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			got, err := o.engineOptions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				if !isUsageError(err) {
					t.Errorf("error %v is not a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWaitFlag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30": 30 * time.Minute, "1.5": 90 * time.Second, "1h30m": 90 * time.Minute, "45s": 45 * time.Second} {
		var m minutes
		if err := m.Set(in); err != nil || time.Duration(m) != want {
			t.Errorf("--wait %s = %v, %v, want %v", in, time.Duration(m), err, want)
		}
	}
	for _, bad := range []string{"-5", "soon", "-1m"} {
		var m minutes
		if err := m.Set(bad); err == nil {
			t.Errorf("--wait %s accepted", bad)
		}
	}
}

func TestInputFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ input, flag, want, wantErr string }{
		{input: "a.csv", want: "csv"},
		{input: "a.JSONL", want: "jsonl"},
		{input: "a.ndjson", want: "jsonl"},
		{input: "a.parquet", want: "parquet"},
		{input: "-", want: "csv"},
		{input: "a.txt", flag: "jsonl", want: "jsonl"},
		{input: "a.csv", flag: "xml", wantErr: "--format"},
	} {
		o := &loadOptions{input: tc.input, Format: tc.flag}
		got, err := o.inputFormat()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("inputFormat(%q, %q) error = %v, want %q", tc.input, tc.flag, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("inputFormat(%q, %q) = %q, %v, want %q", tc.input, tc.flag, got, err, tc.want)
		}
	}
}

func TestExportEngineOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		o       exportOptions
		check   func(t *testing.T, got extract.Options)
		wantErr string
	}{
		{
			name: "format from extension and pk chunking implies bulk1",
			o:    exportOptions{Query: "SELECT Id FROM Account", Output: "a.parquet", API: "auto", PKChunkSize: 50000, ColumnDelimiter: "COMMA", LineEnding: "LF"},
			check: func(t *testing.T, got extract.Options) {
				if got.Format != extract.FormatParquet || got.API != extract.APIBulk1 || got.PKChunking == nil || got.PKChunking.ChunkSize != 50000 {
					t.Errorf("got format %q api %q pk %+v", got.Format, got.API, got.PKChunking)
				}
			},
		},
		{
			name: "csv dialect",
			o:    exportOptions{Object: "Contact", Fields: []string{"Id"}, Output: "-", API: "bulk2", ColumnDelimiter: "TAB", LineEnding: "CRLF", BOM: true, AllRows: true},
			check: func(t *testing.T, got extract.Options) {
				want := sfcsv.WriterOptions{Delimiter: sfcsv.Tab, LineEnding: sfcsv.CRLF, BOM: true}
				if got.CSV != want || !got.All || got.Format != extract.FormatCSV {
					t.Errorf("got csv %+v all %v format %q", got.CSV, got.All, got.Format)
				}
			},
		},
		{name: "no query", o: exportOptions{Output: "a.csv", API: "auto"}, wantErr: "--query, --query-file or --sobject is required"},
		{name: "no output", o: exportOptions{Query: "SELECT Id FROM Account", API: "auto"}, wantErr: "--output is required"},
		{name: "bad api", o: exportOptions{Query: "SELECT Id FROM Account", Output: "a.csv", API: "soap"}, wantErr: "--api"},
		{name: "bad format", o: exportOptions{Query: "SELECT Id FROM Account", Output: "a.csv", API: "auto", Format: "xls"}, wantErr: "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.o.engineOptions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !isUsageError(err) {
					t.Fatalf("error = %v, want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
}

func TestAuthResolvePrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	cfg := &config{Default: "dev", Profiles: map[string]*Profile{
		"dev":  {InstanceURL: "https://dev.example", Username: "dev@x", Password: "devpw"},
		"prod": {InstanceURL: "https://prod.example", Username: "prod@x", RefreshToken: "rt", ClientID: "cid"},
	}}
	if err := cfg.save(cfgPath); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(cfgPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode = %v, %v, want 0600", st.Mode().Perm(), err)
	}
	env := map[string]string{"SF_PASSWORD": "envpw", "SF_USERNAME": "env@x"}
	a := &authOptions{ConfigPath: cfgPath, getenv: func(k string) string { return env[k] }}
	p, err := a.resolve()
	if err != nil {
		t.Fatal(err)
	}
	// Default profile, overridden by the environment.
	if p.InstanceURL != "https://dev.example" || p.Username != "env@x" || p.Password != "envpw" {
		t.Errorf("resolved %+v", p)
	}
	// A flag beats the environment; --profile picks another profile.
	a.Profile, a.Username = "prod", "flag@x"
	if p, err = a.resolve(); err != nil {
		t.Fatal(err)
	}
	if p.InstanceURL != "https://prod.example" || p.Username != "flag@x" || p.RefreshToken != "rt" {
		t.Errorf("resolved %+v", p)
	}
	a.Profile = "missing"
	if _, err := a.resolve(); err == nil || !isUsageError(err) {
		t.Errorf("missing profile: error = %v, want a usage error", err)
	}
}

// TestLoadTerminalAndPlainOutput runs a load against the emulator twice,
// once as if on a terminal (progress bars) and once not, with fake streams.
func TestLoadTerminalAndPlainOutput(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(input, []byte("LastName,Email\nLovelace,ada@example.com\nTuring,bad-email\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tty := range []bool{true, false} {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTTY: tty}
		o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", ColumnDelimiter: "COMMA", LineEnding: "LF",
			input: input, OutputDir: filepath.Join(t.TempDir(), "out")}
		cmd := newLoadCmds(ios)[0]
		cmd.SetContext(t.Context())
		res, err := runLoad(cmd, ios, c, o)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != ExitRowsFailed {
			t.Fatalf("tty=%v: error = %v, want exit %d", tty, err, ExitRowsFailed)
		}
		if res.Summary.Succeeded != 1 || res.Summary.Failed != 1 {
			t.Errorf("tty=%v: summary %+v", tty, res.Summary)
		}
		if !strings.Contains(out.String(), "INVALID_EMAIL_ADDRESS") {
			t.Errorf("tty=%v: summary output lacks the error code:\n%s", tty, out.String())
		}
		if tty && !strings.Contains(errOut.String(), "Contact done") {
			t.Errorf("terminal output has no progress bar:\n%q", errOut.String())
		}
		if !tty && strings.Contains(errOut.String(), "\x1b[") {
			t.Errorf("plain output has terminal escapes:\n%q", errOut.String())
		}
	}
}
