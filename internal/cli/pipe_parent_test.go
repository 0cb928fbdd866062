package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// exited reports whether process pid has ended (gone, or a zombie nobody reaped yet).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || strings.HasPrefix(s[i+1:], " Z") || strings.HasPrefix(s[i+1:], " X")
}

// TestPipeParentDeath starts pipe from a shell that is then killed with SIGKILL while pipe
// waits for more input on a FIFO that stays open: pipe notices its parent is gone, stops
// without sending the partial input, says why on standard error and exits 130.
func TestPipeParentDeath(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	srv := salesforcetest.New(t)
	work := t.TempDir()
	fifo := filepath.Join(work, "in")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// O_RDWR opens a FIFO without waiting for a reader, and keeps it open: pipe never sees
	// the end of its input.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(contactsCSV(3, false)); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(work, "ca.pem")
	os.WriteFile(ca, srv.CACertPEM(), 0o600)
	errFile := filepath.Join(work, "stderr")
	sh := exec.Command("sh", "-c", `sfbatch pipe insert -s Contact --format csv <"$1" >/dev/null 2>"$2" & echo $!; wait`, "sh", fifo, errFile)
	sh.Env = append(os.Environ(), "SF_INSTANCE_URL="+srv.URL(), "SF_ACCESS_TOKEN="+srv.AccessToken(), "SF_CA_CERT_FILE="+ca)
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q", line)
	}
	defer syscall.Kill(pid, syscall.SIGKILL) // never leave it behind, whatever happens
	// Wait until the shell's child is sfbatch (exec done) and has read its input so far.
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(b, []byte("pipe")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pipe did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if exited(pid) {
		t.Fatalf("pipe ended before its parent died:\n%s", readFile(errFile))
	}
	sh.Process.Kill()
	sh.Wait()
	deadline = time.Now().Add(10 * time.Second)
	for !exited(pid) {
		if time.Now().After(deadline) {
			t.Fatal("pipe still runs 10 s after its parent died")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stderr := readFile(errFile)
	if !strings.Contains(stderr, `"status":130`) || !strings.Contains(stderr, "parent process ended") {
		t.Errorf("standard error of the orphaned pipe:\n%s", stderr)
	}
	if n := srv.Count("Contact"); n != 0 {
		t.Errorf("%d contacts sent from an input that never ended", n)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestPipeParentDiesMidRun cancels a journaled run the way the parent's death does, right
// after its first Bulk API 2.0 job received its rows: that job, which had not started
// processing, is aborted in the org and recorded so; every row read has one result row; the
// next attempt sends the rest, and the org holds each record once.
func TestPipeParentDiesMidRun(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	dir := filepath.Join(t.TempDir(), "journal")
	const n = 120
	attempt := func(ctx context.Context, after func(dirjournal.Step)) *pipeRun {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: bytes.NewReader(append(handshakeLine(t, srv, srv.AccessToken()), contactsCSV(n, false)...)), Out: &out, ErrOut: &errOut}
		o := &pipeOptions{Format: pipeCSV, TimeZone: "UTC", NullValue: "skip", RunID: "r", JournalDir: dir, Handshake: true,
			LeasePeriod: time.Second, afterStep: after}
		o.load = loadOptions{Object: "Contact", API: "bulk2", BatchSize: 40, Concurrency: 1, ColumnDelimiter: "COMMA", LineEnding: "LF"}
		code := runPipe(ctx, ios, newPipeEvents(&errOut), o, []string{"insert"})
		return &pipeRun{code: code, out: out.Bytes(), stderr: errOut.String()}
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	var jobID string
	r1 := attempt(ctx, func(s dirjournal.Step) {
		if carriesRows(s) && jobID == "" {
			jobID = s.JobID
			cancel(errParentDied)
		}
	})
	if r1.code != ExitCancelled || !strings.Contains(r1.stderr, "parent process ended") {
		t.Fatalf("first attempt: exit %d\n%s", r1.code, r1.stderr)
	}
	got := resultRows(t, r1.out)
	for row, o := range got {
		if o != "not processed" { // the one job never ran: nothing can have been applied
			t.Errorf("row %s: %s after the parent died before any job ran", row, o)
		}
	}
	if len(got) == 0 {
		t.Error("no result rows from the interrupted attempt")
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Bulk2.GetIngestJob(t.Context(), jobID)
	if err != nil || job.State != salesforce.JobStateAborted {
		t.Errorf("job %s after the parent died: %+v, %v; want aborted", jobID, job, err)
	}
	if c := srv.Count("Contact"); c != 0 {
		t.Errorf("%d contacts from an aborted job", c)
	}
	r2 := attempt(t.Context(), nil)
	if r2.code != ExitOK {
		t.Fatalf("second attempt: exit %d\n%s", r2.code, r2.stderr)
	}
	allSucceeded(t, resultRows(t, r2.out), n)
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
}
