package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator"
)

// TestEmulatorCommand starts `sfbatch emulator --json`, reads the one-line
// startup document, calls the org with the printed token, and stops it with
// a cancellation as Ctrl-C would.
func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: &errOut},
			[]string{"emulator", "--json", "--no-tls", "--addr", "127.0.0.1:0"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading startup line: %v (stderr %q)", err, errOut.String())
	}
	var doc struct {
		Status   *int              `json:"status"`
		Result   map[string]string `json:"result"`
		Warnings []string          `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatalf("startup line %q is not JSON: %v", line, err)
	}
	if doc.Status == nil || *doc.Status != 0 || doc.Warnings == nil || !strings.HasPrefix(line, `{"status":0,"result":{`) {
		t.Errorf("startup line %q is not the sf CLI's success shape", line)
	}
	info := doc.Result
	for _, k := range []string{"instance_url", "login_url", "username", "password", "security_token", "access_token", "client_id", "client_secret", "ca_cert_file"} {
		if _, ok := info[k]; !ok {
			t.Errorf("startup JSON lacks %q", k)
		}
	}
	if !strings.HasPrefix(info["instance_url"], "http://127.0.0.1:") {
		t.Errorf("instance_url = %q, want loopback HTTP", info["instance_url"])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info["instance_url"]+"/services/data/v62.0/limits", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+info["access_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /limits with the printed token: status %d", resp.StatusCode)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit code after interrupt = %d, want %d", code, ExitOK)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("emulator did not stop after cancellation")
	}
}

func TestEmulatorFlagErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"emulator", "--profile", "slow"},
		{"emulator", "--lock-contention", "2"},
		{"emulator", "--daily-api-requests", "-1"},
		{"emulator", "--access", "/does/not/exist.json"},
	} {
		var out, errOut strings.Builder
		if code := Run(t.Context(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); code != ExitUsage {
			t.Errorf("%v: exit code %d, want %d (stderr %q)", args, code, ExitUsage, errOut.String())
		}
	}
}

func TestEmulatorLimitFlags(t *testing.T) {
	t.Parallel()
	cfg, err := emulatorConfig(&emulatorOptions{Profile: "realistic", DailyAPIMax: 500})
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.RealisticLimits()
	want.DailyAPIRequests = 500
	if cfg.Limits != want {
		t.Errorf("limits %+v, want %+v", cfg.Limits, want)
	}
	if cfg, _ := emulatorConfig(&emulatorOptions{}); cfg.Limits != (emulator.LimitModel{}) {
		t.Errorf("instant profile limits %+v, want none", cfg.Limits)
	}
}
