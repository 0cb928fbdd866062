package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/salesforce"
)

// startEmulatorProcess runs `sfbatch emulator` (the test binary under that name, see
// TestMain) as a process of its own and returns its connection details; the process is
// killed when t ends.
func startEmulatorProcess(t *testing.T, seed int) emulator.StartupInfo {
	t.Helper()
	cmd := exec.Command("sfbatch", "emulator", "--addr", "127.0.0.1:0", "--json", "--seed", fmt.Sprint(seed), "--ca-cert-dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		t.Fatalf("emulator process: %v\n%s", err, stderr.String())
	}
	var doc struct { // --json prints the sf CLI's shape
		Result emulator.StartupInfo `json:"result"`
	}
	if err := json.Unmarshal(line, &doc); err != nil || doc.Result.AccessToken == "" {
		t.Fatalf("emulator process printed %q: %v", line, err)
	}
	return doc.Result
}

// TestPlanOrgToOrgCopyProcesses copies Accounts and their Contacts between two emulator
// processes with `sfbatch run` as a third: the source reached through SOURCE_SF_*
// variables, the target through SF_*; every Contact's lookup holds its Account's new id.
func TestPlanOrgToOrgCopyProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := startEmulatorProcess(t, 5), startEmulatorProcess(t, 6)
	connect := func(info emulator.StartupInfo) *salesforce.Client {
		hc, err := (&Profile{CACertFile: info.CACertFile}).httpClient()
		if err != nil {
			t.Fatal(err)
		}
		c, err := salesforce.New(info.InstanceURL, salesforce.WithHTTPClient(hc), salesforce.WithAccessToken(info.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sc, dc := connect(src), connect(dst)
	for i := range 3 {
		acc, err := sc.SObject("Account").Create(ctx, map[string]any{"Name": fmt.Sprint("Account ", i)})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			if _, err := sc.SObject("Contact").Create(ctx, map[string]any{"LastName": fmt.Sprintf("Person %d-%d", i, j), "AccountId": acc}); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	planFile := filepath.Join(dir, "copy.yaml")
	if err := os.WriteFile(planFile, []byte(`version: 1
connections:
  source: {env: SOURCE_}
objects:
  - object: Contact
    query: SELECT Id, LastName, AccountId FROM Contact
  - object: Account
    query: SELECT Id, Name FROM Account
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command("sfbatch", "run", planFile, "-o", filepath.Join(dir, "run"), "--quiet")
	run.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir,
		"SF_INSTANCE_URL="+dst.InstanceURL, "SF_ACCESS_TOKEN="+dst.AccessToken, "SF_CA_CERT_FILE="+dst.CACertFile,
		"SOURCE_SF_INSTANCE_URL="+src.InstanceURL, "SOURCE_SF_ACCESS_TOKEN="+src.AccessToken, "SOURCE_SF_CA_CERT_FILE="+src.CACertFile)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("sfbatch run: %v\n%s", err, out)
	}
	n := 0
	for r, err := range dc.Query(ctx, "SELECT LastName, Account.Name, AccountId FROM Contact ORDER BY LastName") {
		if err != nil {
			t.Fatal(err)
		}
		ln, _ := r.String("LastName")
		an, _ := r.Get("Account.Name")
		if want := "Account " + ln[len("Person "):len("Person ")+1]; an != want {
			t.Errorf("%s: account %v, want %s", ln, an, want)
		}
		n++
	}
	if n != 6 {
		t.Errorf("target has %d contacts, want 6", n)
	}
}
