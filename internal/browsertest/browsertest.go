package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Timeout bounds one Chromium run.
const Timeout = 45 * time.Second

// SkipMessage is why a browser test skips where Find finds nothing.
const SkipMessage = "browser test skipped: no Chromium found (install Debian's chromium package, as .ci/run does, or set SFBATCH_CHROMIUM)"

// Find returns a headless-capable Chromium: $SFBATCH_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH; "" if there is none.
func Find() string {
	if p := os.Getenv("SFBATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Run opens the file page in headless Chromium bin with extra flags (such as --dump-dom or
// --screenshot=PATH) and returns its standard output and standard error. Scripts get up to
// 10 s of virtual time; the run fails the test after Timeout.
func Run(t testing.TB, bin, page string, extra ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, errOut.String())
	}
	return out.String(), errOut.String()
}

// ConsoleLines returns the lines of a Chromium log that report console messages (script
// errors included).
func ConsoleLines(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "CONSOLE") {
			out = append(out, line)
		}
	}
	return out
}
