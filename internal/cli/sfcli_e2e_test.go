package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator"
)

// sfRun runs one sf command with --json and returns its result object.
func sfRun(t *testing.T, ctx context.Context, sf, dir string, env []string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.CommandContext(ctx, sf, append(args, "--json")...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out struct {
		Status  int            `json:"status"`
		Result  map[string]any `json:"result"`
		Name    string         `json:"name"`
		Message string         `json:"message"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil || err != nil || out.Status != 0 {
		t.Fatalf("sf %s: %v (status %d %s: %s)\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.Status, out.Name, out.Message, stdout.String(), stderr.String())
	}
	return out.Result
}

// TestSalesforceCLI drives the real Salesforce CLI (sf, npm package
// @salesforce/cli pinned in .ci/sf, installed by .ci/run; SFBATCH_SF names
// the executable) against the emulator over HTTPS:
// every data command of the issue, access-token and SFDX-auth-URL logins,
// then sfbatch with the orgs sf logged in (--target-org). sf keeps its state
// in a temporary HOME; telemetry and update checks are off.
func TestSalesforceCLI(t *testing.T) {
	sf := os.Getenv(envSFPath)
	if sf == "" {
		t.Skip("the Salesforce CLI is not set up: set SFBATCH_SF to an sf executable (.ci/run installs the pinned one: cd .ci/sf && npm ci, then SFBATCH_SF=$PWD/.ci/sf/node_modules/.bin/sf)")
	}
	if testing.Short() {
		t.Skip("drives the Salesforce CLI (about a minute); skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, err := emulator.New(emulator.Config{Addr: "127.0.0.1:0", TLS: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info, err := srv.StartupInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	// sfbatch's --target-org runs sf with this process's environment.
	for k, v := range map[string]string{
		"HOME": home, "NODE_EXTRA_CA_CERTS": info.CACertFile, "SF_DISABLE_TELEMETRY": "true",
		"SFDX_DISABLE_TELEMETRY": "true", "SF_AUTOUPDATE_DISABLE": "true", "SF_HIDE_RELEASE_NOTES": "true",
		"SF_SKIP_NEW_VERSION_CHECK": "true", "SF_USE_GENERIC_UNIX_KEYCHAIN": "true", "SF_DISABLE_AUTOUPDATE": "true",
		envSFPath: sf, envTargetOrg: "", "SF_ACCESS_TOKEN": "", "SF_INSTANCE_URL": "",
	} {
		t.Setenv(k, v)
	}
	env := os.Environ()
	run := func(args ...string) map[string]any { t.Helper(); return sfRun(t, ctx, sf, dir, env, args...) }

	// Access-token login (userinfo), then the org display sfbatch relies on.
	login := exec.CommandContext(ctx, sf, "org", "login", "access-token", "--instance-url", info.InstanceURL, "--alias", "emu", "--no-prompt", "--json")
	login.Dir, login.Env = dir, append(env, "SF_ACCESS_TOKEN="+info.AccessToken)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("sf org login access-token: %v\n%s", err, out)
	}
	disp := run("org", "display", "--target-org", "emu")
	if disp["username"] != info.Username || disp["id"] != srv.OrgID() || disp["connectedStatus"] != "Connected" {
		t.Errorf("sf org display: %v", disp)
	}

	// Record CRUD.
	created := run("data", "create", "record", "-o", "emu", "-s", "Account", "-v", "Name='Acme Corp' External_Id__c=A1")
	id, _ := created["id"].(string)
	run("data", "update", "record", "-o", "emu", "-s", "Account", "-i", id, "-v", "Industry=Energy")
	got := run("data", "get", "record", "-o", "emu", "-s", "Account", "-i", id)
	if got["Industry"] != "Energy" || got["Name"] != "Acme Corp" {
		t.Errorf("sf data get record: %v", got)
	}

	// Query: sf asks for the column metadata (?columns=true) to lay out
	// its table and JSON output.
	q := run("data", "query", "-o", "emu", "-q", "SELECT Id, Name, Owner.Name FROM Account")
	if recs, _ := q["records"].([]any); len(recs) != 1 || q["totalSize"] != 1.0 {
		t.Errorf("sf data query: %v", q)
	}

	// SOSL.
	found := run("data", "search", "-o", "emu", "-q", "FIND {Acme} IN ALL FIELDS RETURNING Account(Name, Industry)")
	if recs, _ := found["searchRecords"].([]any); len(recs) != 1 {
		t.Errorf("sf data search: %v", found)
	}

	// Files.
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := run("data", "create", "file", "-o", "emu", "--file", "hello.txt", "--parent-id", id)
	if doc, _ := file["ContentDocumentId"].(string); !strings.HasPrefix(doc, "069") {
		t.Errorf("sf data create file: %v", file)
	}

	// Bulk upsert and export.
	if err := os.WriteFile(filepath.Join(dir, "accounts.csv"), []byte("Name,External_Id__c\nAcme Corp,A1\nGlobex,G1\nInitech,I1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := run("data", "upsert", "bulk", "-o", "emu", "-s", "Account", "-i", "External_Id__c", "--file", "accounts.csv", "--wait", "2")
	if ji, _ := up["jobInfo"].(map[string]any); ji["state"] != "JobComplete" || ji["numberRecordsProcessed"] != 3.0 {
		t.Errorf("sf data upsert bulk: %v", up)
	}
	ex := run("data", "export", "bulk", "-o", "emu", "-q", "SELECT Id, Name FROM Account", "--output-file", "export.csv", "--wait", "2")
	if ex["totalSize"] != 3.0 {
		t.Errorf("sf data export bulk: %v", ex)
	}

	// Tree export, then import (new records from the plan).
	run("data", "export", "tree", "-o", "emu", "-q", "SELECT Name, Industry FROM Account", "--output-dir", "tree")
	imp := exec.CommandContext(ctx, sf, "data", "import", "tree", "-o", "emu", "--files", filepath.Join("tree", "Account.json"), "--json")
	imp.Dir, imp.Env = dir, env
	if out, err := imp.CombinedOutput(); err != nil || strings.Count(string(out), `"refId"`) != 3 {
		t.Errorf("sf data import tree: %v\n%s", err, out)
	}

	run("data", "delete", "record", "-o", "emu", "-s", "Account", "-i", id)

	// SFDX auth URL login (refresh token of PlatformCLI).
	if err := os.WriteFile(filepath.Join(dir, "emu.sfdx"), []byte(info.SFDXAuthURL), 0o600); err != nil {
		t.Fatal(err)
	}
	viaURL := run("org", "login", "sfdx-url", "--sfdx-url-file", "emu.sfdx", "--alias", "emu-url")
	if viaURL["orgId"] != srv.OrgID() || viaURL["username"] != info.Username {
		t.Errorf("sf org login sfdx-url: %v", viaURL)
	}

	// sfbatch with the orgs sf logged in.
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if err := os.WriteFile(filepath.Join(dir, "more.csv"), []byte("Name,External_Id__c\nUmbrella,U1\nGlobex Two,G1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Run(ctx, ios, []string{"upsert", "--target-org", "emu-url", "-s", "Account", "-i", "External_Id__c", "-o", filepath.Join(dir, "run"), filepath.Join(dir, "more.csv")}); code != ExitOK {
		t.Fatalf("sfbatch upsert --target-org: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	exportFile := filepath.Join(dir, "sfbatch-export.csv")
	t.Setenv(envTargetOrg, "emu")
	if code := Run(ctx, ios, []string{"export", "-q", "SELECT External_Id__c, Name FROM Account WHERE External_Id__c != null ORDER BY External_Id__c", "-o", exportFile, "--run-dir", filepath.Join(dir, "export-run")}); code != ExitOK {
		t.Fatalf("sfbatch export with SF_TARGET_ORG: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	f, err := os.Open(exportFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"External_Id__c", "Name"}, {"G1", "Globex Two"}, {"I1", "Initech"}, {"U1", "Umbrella"}}
	if len(rows) != len(want) || strings.Join(rows[len(rows)-1], ",") != "U1,Umbrella" || strings.Join(rows[1], ",") != "G1,Globex Two" {
		t.Errorf("sfbatch export rows = %v, want %v", rows, want)
	}
	// --target-org without a value: sf's default target org. Every session
	// has expired first: sf org display refreshes the token with the refresh
	// token of the SFDX-auth-URL login.
	run("config", "set", "target-org", "emu-url", "--global")
	srv.ExpireSessions()
	out.Reset()
	if code := Run(ctx, ios, []string{"query", "--target-org", "--result-format", "csv", "-q", "SELECT External_Id__c FROM Account WHERE External_Id__c = 'U1'"}); code != ExitOK || out.String() != "External_Id__c\nU1\n" {
		t.Errorf("sfbatch query --target-org (sf's default): exit %d, out %q, stderr %s", code, out.String(), errOut.String())
	}
	// The session expires mid-run: sfbatch's query (API 62.0; sf itself
	// calls 6x.0) is held by the emulator while every session ends, so it
	// meets INVALID_SESSION_ID, asks sf again, and sf refreshes the token.
	expired := expireWhileHeld(t, ctx, srv, "/services/data/v62.0/query")
	out.Reset()
	if code := Run(ctx, ios, []string{"query", "--target-org", "emu-url", "--result-format", "json", "SELECT Id FROM Account WHERE External_Id__c = 'U1'"}); code != ExitOK || !strings.Contains(out.String(), `"Id"`) {
		t.Errorf("sfbatch query across a session expiry: exit %d, out %q, stderr %s", code, out.String(), errOut.String())
	}
	select {
	case <-expired:
	default:
		t.Error("the sessions were not expired while the query was held")
	}
	// An alias sf does not know is an auth error that names it.
	errOut.Reset()
	if code := Run(ctx, ios, []string{"query", "--target-org", "no-such-org", "SELECT Id FROM Account"}); code != ExitAuth || !strings.Contains(errOut.String(), "no-such-org") {
		t.Errorf("unknown alias: exit %d, stderr %q", code, errOut.String())
	}
	// No secret of sf's reached sfbatch's output.
	if strings.Contains(out.String()+errOut.String(), info.AccessToken[:20]) {
		t.Error("sfbatch printed an access token")
	}
}

// heldLatency is how long expireWhileHeld holds the request.
const heldLatency = 5 * time.Second

// expireWhileHeld holds the next GET of path for heldLatency and, once the
// request is being held (its fault is used up), ends every session of srv.
// The returned channel is closed when that happened.
func expireWhileHeld(t *testing.T, ctx context.Context, srv *emulator.Server, path string) <-chan struct{} {
	t.Helper()
	tok, err := srv.NewSession(emulator.DefaultUsername)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddFault(emulator.Fault{Method: "GET", Path: path, Latency: heldLatency}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+emulator.ControlPrefix+"faults", nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				return
			}
			var active []json.RawMessage
			err = json.NewDecoder(resp.Body).Decode(&active)
			resp.Body.Close()
			if err == nil && len(active) == 0 {
				srv.ExpireSessions()
				close(done)
				return
			}
		}
	}()
	return done
}
