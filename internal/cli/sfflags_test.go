package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

func TestFixTargetOrgArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"query", "--target-org", "prod", "SELECT"}, []string{"query", "--target-org", "prod", "SELECT"}},
		{[]string{"query", "--target-org"}, []string{"query", "--target-org=" + targetOrgDefault}},
		{[]string{"query", "--target-org", "-q", "SELECT"}, []string{"query", "--target-org=" + targetOrgDefault, "-q", "SELECT"}},
		{[]string{"query", "--target-org=prod"}, []string{"query", "--target-org=prod"}},
		{[]string{"insert", "--", "--target-org"}, []string{"insert", "--", "--target-org"}},
	} {
		if diff := cmp.Diff(tc.want, fixTargetOrgArgs(tc.in)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestTargetOrgErrors: --target-org with another flag that names an org is a
// usage error; without sf installed it is an auth error naming the org and
// how to point sfbatch at sf.
func TestTargetOrgErrors(t *testing.T) {
	t.Setenv(envSFPath, "")
	t.Setenv(envTargetOrg, "")
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"limits", "--target-org", "prod", "--username", "a@b.c"}, ExitUsage, "--target-org and --username"},
		{[]string{"limits", "--target-org", "prod"}, ExitAuth, "--target-org prod: the Salesforce CLI (sf) is not installed"},
		{[]string{"limits", "--target-org"}, ExitAuth, "the Salesforce CLI's default target org"},
		{[]string{"login", "x", "--target-org", "prod"}, ExitUsage, "never copies its credentials"},
	} {
		t.Setenv(envTargetOrg, "")
		var out, errOut bytes.Buffer
		code := Run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, tc.args)
		if code != tc.code || !strings.Contains(errOut.String(), tc.contains) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.contains)
		}
	}
	// SF_TARGET_ORG gives way to a flag that names an org: the login is
	// then sfbatch's own (here: no credentials), and sf is never asked.
	t.Setenv(envTargetOrg, "prod")
	var errOut bytes.Buffer
	code := Run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut},
		[]string{"limits", "--instance-url", "https://127.0.0.1:1", "--config", filepath.Join(t.TempDir(), "none.json")})
	if code != ExitAuth || strings.Contains(errOut.String(), "Salesforce CLI") {
		t.Errorf("SF_TARGET_ORG with --instance-url: exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	code = Run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}, []string{"limits"})
	if code != ExitAuth || !strings.Contains(errOut.String(), "--target-org prod: the Salesforce CLI (sf) is not installed") {
		t.Errorf("SF_TARGET_ORG alone: exit %d, stderr %q", code, errOut.String())
	}
}

// TestSFFlagHints: an sf CLI flag sfbatch does not take is a usage error
// that names sfbatch's equivalent.
func TestSFFlagHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args     []string
		contains string
	}{
		{[]string{"upsert", "--csvfile", "a.csv"}, "sfbatch upsert takes the FILE argument or --file"},
		{[]string{"query", "-o", "prod", "SELECT Id FROM Account"}, "--target-org"},
		{[]string{"insert", "-u", "prod"}, "--target-org"},
		{[]string{"export", "--sobjecttype", "Account"}, "--sobject/-s"},
		{[]string{"query", "--bulk"}, "sfbatch export"},
	} {
		var errOut bytes.Buffer
		code := Run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}, tc.args)
		if code != ExitUsage || !strings.Contains(errOut.String(), tc.contains) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.contains)
		}
	}
	var errOut bytes.Buffer
	if code := Run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}, []string{"query", "--no-such-flag"}); code != ExitUsage || strings.Contains(errOut.String(), "sf CLI") {
		t.Errorf("unknown flag sf does not know: exit %d, stderr %q", code, errOut.String())
	}
}

func TestLoadSFFlags(t *testing.T) {
	t.Parallel()
	cmds := newLoadCmds(&IOStreams{})
	var del *loadOptions
	for _, c := range cmds {
		if c.Name() == "delete" {
			del = &loadOptions{Operation: load.Delete}
			c.ResetFlags()
			bindLoadFlags(c, del)
			if err := c.ParseFlags([]string{"-s", "Contact", "--hard-delete", "-f", "ids.csv"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := del.engineOptions()
	if err != nil || got.Operation != load.HardDelete {
		t.Errorf("delete --hard-delete: operation %v, %v", got.Operation, err)
	}
	if in, err := del.inputArg(nil); in != "ids.csv" || err != nil {
		t.Errorf("--file: %q, %v", in, err)
	}
	if _, err := del.inputArg([]string{"other.csv"}); err == nil || !isUsageError(err) {
		t.Errorf("FILE and --file: %v", err)
	}
	if _, err := (&loadOptions{}).inputArg(nil); err == nil || !isUsageError(err) {
		t.Errorf("no input: %v", err)
	}
	ins := &loadOptions{Operation: load.Insert}
	c := cmds[0]
	c.ResetFlags()
	bindLoadFlags(c, ins)
	if err := c.ParseFlags([]string{"--hard-delete"}); err == nil {
		t.Error("insert accepted --hard-delete")
	}
	if err := c.ParseFlags([]string{"-q"}); err == nil {
		t.Error("-q is --quiet on a load command (it has no short form, as in sf)")
	}
}

func TestExportSFFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o       exportOptions
		output  string
		format  string
		wantErr string
	}{
		{o: exportOptions{Query: "SELECT Id FROM Account", OutputFile: "a.csv", ResultFormat: "csv", API: "auto", ColumnDelimiter: "COMMA", LineEnding: "LF"}, output: "a.csv", format: "csv"},
		{o: exportOptions{Query: "SELECT Id FROM Account", Output: "a.csv", OutputFile: "b.csv"}, wantErr: "different files"},
		{o: exportOptions{Query: "SELECT Id FROM Account", Output: "a.jsonl", ResultFormat: "json"}, wantErr: "--format jsonl"},
		{o: exportOptions{Query: "SELECT Id FROM Account", Output: "a", ResultFormat: "csv", Format: "parquet"}, wantErr: "disagree"},
		{o: exportOptions{Query: "SELECT Id FROM Account", Output: "a", ResultFormat: "xml"}, wantErr: "--result-format"},
	} {
		o := tc.o
		_, err := o.engineOptions()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !isUsageError(err) {
				t.Errorf("%+v: %v, want a usage error with %q", tc.o, err, tc.wantErr)
			}
			continue
		}
		if err != nil || o.Output != tc.output || o.Format != tc.format {
			t.Errorf("%+v: output %q format %q, %v", tc.o, o.Output, o.Format, err)
		}
	}
}

// TestQuerySFFlags: sfbatch query takes sf data query's -q, --file/-f,
// --result-format csv|json and --output-file, against the emulator.
func TestQuerySFFlags(t *testing.T) {
	srv := salesforcetest.New(t)
	if _, err := srv.Insert(t.Context(), "Account", map[string]any{"Name": "Acme, Inc."}, map[string]any{"Name": "Globex"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	queryFile := filepath.Join(dir, "q.soql")
	if err := os.WriteFile(queryFile, []byte("SELECT Name FROM Account ORDER BY Name\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{envInstanceURL: srv.URL(), envAccessToken: srv.AccessToken(), envCACertFile: caFile,
		"SFBATCH_CONFIG": filepath.Join(dir, "none.json"), envTargetOrg: ""} {
		t.Setenv(k, v)
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Run(t.Context(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := run("query", "-q", "SELECT Name FROM Account ORDER BY Name", "--result-format", "csv"); code != 0 || out != "Name\n\"Acme, Inc.\"\nGlobex\n" {
		t.Errorf("-q --result-format csv: exit %d, out %q, stderr %q", code, out, errOut)
	}
	jsonFile := filepath.Join(dir, "out.json")
	if code, _, errOut := run("query", "-f", queryFile, "-r", "json", "--output-file", jsonFile); code != 0 {
		t.Errorf("-f -r json --output-file: exit %d, stderr %q", code, errOut)
	}
	if b, err := os.ReadFile(jsonFile); err != nil || !strings.Contains(string(b), `"Name": "Globex"`) {
		t.Errorf("--output-file: %q, %v", b, err)
	}
	for _, tc := range []struct {
		args     []string
		contains string
	}{
		{[]string{"query", "-q", "SELECT Id FROM Account", "SELECT Id FROM Account"}, "give the query once"},
		{[]string{"query"}, "no query"},
		{[]string{"query", "-q", "SELECT Id FROM Account", "--output-file", "x"}, "--output-file needs --result-format"},
		{[]string{"query", "-q", "SELECT Id FROM Account", "-r", "xml"}, "--result-format"},
		{[]string{"query", "--query-file", filepath.Join(dir, "missing.soql")}, "--query-file"},
	} {
		if code, _, errOut := run(tc.args...); code != ExitUsage || !strings.Contains(errOut, tc.contains) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.contains)
		}
	}
}
