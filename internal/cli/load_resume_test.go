package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestLoadResume runs an insert whose first job's results cannot be fetched (its rows end
// unknown, the run stays open), then runs the printed resume command: the job's results are collected rather than
// its rows sent again, and results.csv lists every row exactly once.
func TestLoadResume(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var in strings.Builder
	in.WriteString("LastName,Email\n")
	for i := range n {
		fmt.Fprintf(&in, "Row%04d,r%d@example.com\n", i, i)
	}
	input := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	newOpts := func() *loadOptions {
		return &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
			ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir}
	}
	run := func(o *loadOptions) (*loadOutcome, string, error) {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		cmd := newLoadCmds(ios)[0]
		cmd.SetContext(t.Context())
		if err := cmd.Flags().Set("output-dir", o.OutputDir); err != nil {
			t.Fatal(err)
		}
		res, err := runLoad(cmd, ios, c, o)
		return res, errOut.String(), err
	}

	if err := srv.FailNext(1, "GET", "/services/data/*/jobs/ingest/*/successfulResults*", 400, "INVALIDJOB"); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := run(newOpts())
	if err == nil {
		t.Fatal("first run succeeded although its results could not be fetched")
	}
	m := regexp.MustCompile(`resume with: (.*) --resume (\S+)\n`).FindStringSubmatch(errOut)
	if m == nil || m[2] != dir || !strings.Contains(m[1], "insert") || !strings.Contains(m[1], input) {
		t.Fatalf("no resume hint in %q (error %v)", errOut, err)
	}
	if _, err := os.Stat(filepath.Join(dir, load.PartsDir)); err != nil {
		t.Fatalf("part files of the interrupted run: %v", err)
	}

	// A fresh run into the same directory is refused; so is a resume with another input.
	if _, _, err := run(newOpts()); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("fresh run over an unfinished one: %v", err)
	}
	other := newOpts()
	other.input = filepath.Join(t.TempDir(), "other.csv")
	os.WriteFile(other.input, []byte("LastName,Email\nX,x@example.com\n"), 0o644)
	other.Resume = dir
	if _, _, err := run(other); !errors.Is(err, jobstore.ErrInputChanged) {
		t.Fatalf("resume with another input: %v", err)
	}

	o := newOpts()
	o.Resume = dir
	res, _, err := run(o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	collected := 0
	for _, j := range res.Summary.Jobs {
		if j.Batch == -1 {
			collected++
		}
	}
	// The first run went on past the job whose results it could not read (its 100 rows were
	// left unknown); the resume settles just those rows from the job, and its summary counts
	// the whole run.
	if collected != 1 || res.Summary.Rows != n {
		t.Errorf("resume: %d jobs collected, %d rows read: %+v", collected, res.Summary.Rows, res.Summary.Jobs)
	}
	// outcomes reports a row listed twice.
	seen := outcomes(t, filepath.Join(dir, load.ResultsFile))
	for row, oc := range seen {
		if oc != "succeeded" {
			t.Errorf("results.csv row %s: %s", row, oc)
		}
	}
	if len(seen) != n || srv.Count("Contact") != n {
		t.Fatalf("%d rows in results.csv, %d contacts in the org; want %d", len(seen), srv.Count("Contact"), n)
	}
	if _, _, err := run(o); err == nil || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("resume of a completed run: %v", err)
	}
}

// TestResumeCommandParses: the printed resume command names the input once (as the FILE
// argument, whichever way it was given), keeps flags the resume needs (a JWT key file's path),
// leaves out secrets, -o and --force, and is accepted by the command's own flag parser.
func TestResumeCommandParses(t *testing.T) {
	ios := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	cmd := newLoadCmds(ios)[0]
	args := []string{"-s", "Contact", "-f", "/data/in put.csv", "-o", "/runs/r1", "--force",
		"--jwt-key-file", "/keys/server.key", "--client-id", "app", "--access-token", "00Dx!secret"}
	if cmd.Flags().Lookup("access-token") == nil {
		args = args[:len(args)-2]
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	o := &loadOptions{input: "/data/in put.csv"}
	got := resumeCommand(cmd, o)
	if strings.Count(got, "in put.csv") != 1 || strings.Contains(got, "--file") {
		t.Errorf("input not named exactly once as the FILE argument: %s", got)
	}
	for _, want := range []string{"--jwt-key-file=", "--client-id=app", "--sobject=Contact"} {
		if !strings.Contains(got, want) {
			t.Errorf("resume command lacks %s: %s", want, got)
		}
	}
	for _, bad := range []string{"secret", "/runs/r1", "--force", "--output-dir"} {
		if strings.Contains(got, bad) {
			t.Errorf("resume command holds %q: %s", bad, got)
		}
	}
	again := newLoadCmds(ios)[0]
	words := shellWords(t, got)
	if err := again.ParseFlags(words[len(strings.Fields(cmd.CommandPath())):]); err != nil {
		t.Fatalf("printed command %q does not parse: %v", got, err)
	}
	if rest := again.Flags().Args(); len(rest) != 1 || rest[0] != "/data/in put.csv" {
		t.Errorf("printed command's arguments %q", rest)
	}
	if f := again.Flags().Lookup("file"); f != nil && f.Changed {
		t.Errorf("printed command sets --file as well as the FILE argument")
	}
}

// shellWords splits a command line quoted by shellQuote (single quotes, '\” for a quote).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inQuote, has := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case inQuote && ch == '\'':
			inQuote = false
		case inQuote:
			cur.WriteByte(ch)
		case ch == '\'':
			inQuote, has = true, true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			has = true
		case ch == ' ':
			if has {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(ch)
			has = true
		}
	}
	if inQuote {
		t.Fatalf("unterminated quote in %q", s)
	}
	if has {
		words = append(words, cur.String())
	}
	return words
}
