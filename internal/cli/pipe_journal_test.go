package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// contactsCSV is a CSV stream of n contacts; changed alters row 7.
func contactsCSV(n int, changed bool) []byte {
	var b bytes.Buffer
	b.WriteString("LastName,Email\n")
	for i := 1; i <= n; i++ {
		last := fmt.Sprintf("Row%04d", i)
		if changed && i == 7 {
			last = "Changed"
		}
		fmt.Fprintf(&b, "%s,r%d@example.com\n", last, i)
	}
	return b.Bytes()
}

// resultRows parses a CSV result stream into sf__Row -> outcome, failing on a row given twice.
func resultRows(t *testing.T, out []byte) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "sf__Row,") {
		t.Fatalf("result stream %q", out)
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if _, dup := got[f[0]]; dup {
			t.Errorf("row %s has two result rows", f[0])
		}
		got[f[0]] = f[1]
	}
	return got
}

// allSucceeded checks that rows 1..n each have one result row, succeeded.
func allSucceeded(t *testing.T, got map[string]string, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%d result rows, want %d", len(got), n)
	}
	for i := 1; i <= n; i++ {
		if o := got[fmt.Sprint(i)]; o != "succeeded" {
			t.Errorf("row %d: %q", i, o)
		}
	}
}

// TestPipeJournalThroughStrictStorage runs attempts of one run in process against a journal
// directory behind dirjournal.Strict (no locks, random writes or rename-over): an attempt
// whose job results cannot be fetched leaves rows unknown, the next attempt collects them
// without sending anything twice and writes every row once, a completed run's attempt writes
// the stored results again and sends nothing, and a changed input is refused before sending.
func TestPipeJournalThroughStrictStorage(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	strict := &dirjournal.Strict{}
	dir := filepath.Join(t.TempDir(), "journal", "part-00000")
	const n = 120
	attempt := func(input []byte) *pipeRun {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: bytes.NewReader(append(handshakeLine(t, srv, srv.AccessToken()), input...)), Out: &out, ErrOut: &errOut}
		o := &pipeOptions{Format: pipeCSV, TimeZone: "UTC", NullValue: "skip", RunID: "job-1-part-0", JournalDir: dir,
			Handshake: true, LeasePeriod: dirjournal.DefaultLeasePeriod, fs: strict}
		o.load = loadOptions{Object: "Contact", API: "bulk2", BatchSize: 40, Concurrency: 1, ColumnDelimiter: "COMMA", LineEnding: "LF"}
		code := runPipe(t.Context(), ios, newPipeEvents(&errOut), o, []string{"insert"})
		return &pipeRun{code: code, out: out.Bytes(), stderr: errOut.String()}
	}

	// The first attempt: the second job's results cannot be fetched.
	if err := srv.FailNext(1, "GET", "/services/data/*/jobs/ingest/*/successfulResults*", 400, "INVALIDJOB"); err != nil {
		t.Fatal(err)
	}
	r1 := attempt(contactsCSV(n, false))
	if r1.code != ExitRowsFailed {
		t.Fatalf("first attempt: exit %d\n%s", r1.code, r1.stderr)
	}
	got1 := resultRows(t, r1.out)
	if len(got1) != n {
		t.Errorf("first attempt: %d result rows, want %d", len(got1), n)
	}
	created := srv.Count("Contact")

	r2 := attempt(contactsCSV(n, false))
	if r2.code != ExitOK {
		t.Fatalf("second attempt: exit %d\n%s", r2.code, r2.stderr)
	}
	allSucceeded(t, resultRows(t, r2.out), n)
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts after the second attempt (%d after the first), want %d", c, created, n)
	}

	// The run is complete: another attempt writes the same results and sends nothing.
	r3 := attempt(contactsCSV(n, false))
	if r3.code != ExitOK {
		t.Fatalf("attempt of a completed run: exit %d\n%s", r3.code, r3.stderr)
	}
	if diff := slices.Compare(sortedLines(r2.out), sortedLines(r3.out)); diff != 0 {
		t.Errorf("a completed run's results differ:\n%s\nvs\n%s", r2.out, r3.out)
	}

	// A changed row is refused before anything is sent.
	r4 := attempt(contactsCSV(n, true))
	if r4.code != ExitUsage || !strings.Contains(r4.stderr, "not deterministic") || !strings.Contains(r4.stderr, "row 7") {
		t.Errorf("changed input: exit %d\n%s", r4.code, r4.stderr)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
	if strict.Refused() != 0 {
		t.Errorf("the journal attempted %d operations the storage does not offer", strict.Refused())
	}
}

func sortedLines(b []byte) []string {
	l := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(l)
	return l
}

// pipeProcess runs the real sfbatch binary (the test binary under that name, see TestMain)
// with stdin and the emulator's credentials in its environment.
type pipeProcess struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func startPipe(t *testing.T, srv *salesforcetest.Server, stdin []byte, env []string, args ...string) *pipeProcess {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pipeProcess{cmd: exec.Command("sfbatch", append([]string{"pipe"}, args...)...)}
	p.cmd.Env = append(os.Environ(), "SF_INSTANCE_URL="+srv.URL(), "SF_ACCESS_TOKEN="+srv.AccessToken(), "SF_CA_CERT_FILE="+ca)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdin = bytes.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns the exit code, or -9 for a process killed by SIGKILL.
func (p *pipeProcess) wait() int {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestPipeKilledThenRetried kills an attempt (kill -9, through the test-only hook) right after
// its N-th request carrying rows was sent, at several points and through each API, then runs a
// second attempt of the same run: it writes every row exactly once, all succeeded, and the
// emulator holds each record once.
func TestPipeKilledThenRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		api  string
		kill int
	}{
		{"bulk2 after first upload", "bulk2", 1},
		{"bulk2 after third upload", "bulk2", 3},
		{"bulk1 after second batch", "bulk1", 2},
		{"collections after second call", "collections", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t)
			const n = 200
			dir := filepath.Join(t.TempDir(), "journal")
			args := []string{"insert", "-s", "Contact", "--format", "csv", "--api", tc.api, "--batch-size", "50", "--concurrency", "1",
				"--run-id", "run-7", "--journal-dir", dir, "--lease-period", "300ms"}
			p1 := startPipe(t, srv, contactsCSV(n, false), []string{envKillAfterSent + "=" + fmt.Sprint(tc.kill)}, args...)
			if code := p1.wait(); code != -int(syscall.SIGKILL) {
				t.Fatalf("first attempt ended with %d, not killed\n%s", code, p1.stderr.String())
			}
			before := srv.Count("Contact")
			if before >= n {
				t.Errorf("%d contacts when the first attempt was killed: the kill did not land mid-run", before)
			}
			p2 := startPipe(t, srv, contactsCSV(n, false), nil, args...)
			if code := p2.wait(); code != 0 {
				t.Fatalf("second attempt: exit %d\n%s", code, p2.stderr.String())
			}
			allSucceeded(t, resultRows(t, p2.stdout.Bytes()), n)
			if c := srv.Count("Contact"); c != n {
				t.Errorf("%d contacts in the emulator, want %d (%d before the retry)", c, n, before)
			}
		})
	}
}

// TestPipeRacingAttempts starts two attempts of one run on one journal directory at once: one
// owns it, the other waits (a "waiting" event) and then writes the stored results; no row is
// sent twice and both outputs hold every row once.
func TestPipeRacingAttempts(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	const n = 150
	dir := filepath.Join(t.TempDir(), "journal")
	args := []string{"insert", "-s", "Contact", "--format", "csv", "--api", "bulk2", "--batch-size", "30",
		"--run-id", "race", "--journal-dir", dir, "--lease-period", "2s"}
	var wg sync.WaitGroup
	ps := make([]*pipeProcess, 2)
	codes := make([]int, 2)
	for i := range ps {
		ps[i] = startPipe(t, srv, contactsCSV(n, false), nil, args...)
	}
	for i := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = ps[i].wait()
		}()
	}
	wg.Wait()
	waited := 0
	for i, p := range ps {
		if codes[i] != 0 {
			t.Fatalf("attempt %d: exit %d\n%s", i, codes[i], p.stderr.String())
		}
		allSucceeded(t, resultRows(t, p.stdout.Bytes()), n)
		if strings.Contains(p.stderr.String(), `"event":"waiting"`) {
			waited++
		}
	}
	if waited != 1 {
		t.Errorf("%d attempts waited, want 1", waited)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
}

// TestStaleWorkDirsRemoved: the working directory of an attempt whose process is gone is
// removed; those of live processes stay.
func TestStaleWorkDirsRemoved(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true(1)")
	}
	gone := filepath.Join(tmp, fmt.Sprintf("%s%d-abc", pipeWorkPrefix, dead.Process.Pid))
	live := filepath.Join(tmp, fmt.Sprintf("%s%d-def", pipeWorkPrefix, os.Getppid()))
	other := filepath.Join(tmp, "sfbatch-pipe-notapid")
	for _, d := range []string{gone, live, other} {
		if err := os.MkdirAll(filepath.Join(d, "cache"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleWorkDirs(tmp)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("the dead attempt's directory is still there (%v)", err)
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
