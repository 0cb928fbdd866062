package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
