//go:build unix

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/plan"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// killPlanAccounts is the number of accounts of TestPlanRunKilledAndResumed's migration:
// as many contacts, opportunities and contact roles, so 4 times as many rows in all.
const killPlanAccounts = 5000

// killPlanHold is how long a held request waits on the emulator's fake clock: the test
// releases it by advancing the clock, never by waiting.
const killPlanHold = time.Minute

// writeKillPlan writes the migration of TestPlanRunKilledAndResumed: Account (with a
// self-reference to a later row), Contact (reporting to the previous contact, with a few
// dates that cannot be converted), Opportunity, OpportunityContactRole and the
// Alpha__c/Beta__c cycle (with a bad restricted picklist value), listed children first.
// It returns the plan's path and the contact rows that fail.
func writeKillPlan(t *testing.T, dir string, n int) (string, map[int]bool) {
	t.Helper()
	w := func(name string, lines []string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := map[int]bool{}
	acc := []string{"LegacyId,Name,AccountNumber,ParentId"}
	con := []string{"LegacyId,LastName,Title,AccountId,ReportsToId,Birthdate"}
	opp := []string{"LegacyId,Name,AccountId,StageName,CloseDate"}
	ocr := []string{"OpportunityId,ContactId,Role"}
	for i := 1; i <= n; i++ {
		parent := ""
		if i%10 == 1 && i < n {
			parent = fmt.Sprintf("A-%d", i+1)
		}
		acc = append(acc, fmt.Sprintf("A-%d,Account %d,A-%d,%s", i, i, i, parent))
		boss := ""
		if i > 1 {
			boss = fmt.Sprintf("C-%d", i-1)
		}
		date := fmt.Sprintf("%02d/%02d/19%02d", i%28+1, i%12+1, i%100)
		if i%500 == 7 {
			date, bad[i] = "31/02/1980", true
		}
		con = append(con, fmt.Sprintf("C-%d,Person %d,A-%d,A-%d,%s,%s", i, i, i, i, boss, date))
		opp = append(opp, fmt.Sprintf("O-%d,Deal %d,A-%d,Prospecting,15/01/%04d", i, i, i, 2020+i%5))
		ocr = append(ocr, fmt.Sprintf("O-%d,C-%d,Decision Maker", i, i))
	}
	w("accounts.csv", acc)
	w("contacts.csv", con)
	w("opportunities.csv", opp)
	w("roles.csv", ocr)
	w("alpha.csv", []string{"Key,Name,Status__c,Beta__c", "X1,Alpha 1,New,Y1", "X2,Alpha 2,Bogus,Y2", "X3,Alpha 3,Done,"})
	w("beta.csv", []string{"Key,Name,Alpha__c", "Y1,Beta 1,X1", "Y2,Beta 2,X2"})
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(`version: 1
defaults:
  api: bulk2
  batchSize: 1000
  concurrency: 2
  dateFormat: DD/MM/YYYY
objects:
  - {object: OpportunityContactRole, source: roles.csv}
  - {object: Alpha__c, source: alpha.csv, key: Key}
  - {object: Beta__c, source: beta.csv, key: Key}
  - object: Contact
    source: contacts.csv
    key: LegacyId
    convert:
      Birthdate: {type: date, pivot: 1950}
  - {object: Opportunity, source: opportunities.csv, key: LegacyId}
  - {object: Account, source: accounts.csv, key: LegacyId}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

// TestPlanRunKilledAndResumed kills `sfbatch run PLAN` (a process of its own) with SIGKILL
// four times, each while the plan has work in flight against the emulator, and resumes it
// with --resume DIR after each kill:
//
//  1. in 02-Contact, after a job was processed by the org and before its results were read
//     (the records exist; the process never learnt their ids);
//  2. in 03-Opportunity, while a job's data is being uploaded;
//  3. between steps: 04-OpportunityContactRole done, 05-Alpha__c's job being created;
//  4. in 08-Contact, the second pass that fills ReportsToId, while its data is uploaded.
//
// The points are reached deterministically: the emulator holds the request named by a
// fault on its fake clock, the test waits until the fault has matched, kills the process,
// then advances the clock. The last resume finishes (exit 3: the bad rows fail), and then
// every input row of every step is in its step's results.csv exactly once, the org holds
// exactly the records the results say succeeded, with unique names, and every lookup
// points at the record created for the source id it named.
func TestPlanRunKilledAndResumed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and resumes a 20,000-row plan")
	}
	ctx := t.Context()
	fake := clock.NewFake(time.Now().UTC())
	srv, err := emulator.New(emulator.Config{Addr: "127.0.0.1:0", TLS: true, Seed: 7, Clock: fake,
		SchemaFile: filepath.Join("..", "..", "plan", "testdata", "cycle.schema.json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	info, err := srv.StartupInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = killPlanAccounts
	planFile, bad := writeKillPlan(t, dir, n)
	out := filepath.Join(dir, "run")
	env := append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir,
		"SF_INSTANCE_URL="+info.InstanceURL, "SF_ACCESS_TOKEN="+info.AccessToken, "SF_CA_CERT_FILE="+info.CACertFile)

	hold := func(f emulator.Fault) int {
		t.Helper()
		f.Latency, f.Times = killPlanHold, 1
		id, err := srv.AddFault(f)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	upload := func(body string) emulator.Fault {
		return emulator.Fault{Method: "PUT", Path: "/services/data/*/jobs/ingest/*/batches", BodyContains: body}
	}
	// start runs sfbatch run with args; its output goes to a file, read on failure.
	type child struct {
		cmd  *exec.Cmd
		log  string
		done chan struct{}
	}
	start := func(name string, args ...string) *child {
		t.Helper()
		log := filepath.Join(dir, name+".log")
		lf, err := os.Create(log)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sfbatch", append([]string{"run", planFile, "--quiet"}, args...)...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, lf, lf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := &child{cmd: cmd, log: log, done: make(chan struct{})}
		go func() { cmd.Wait(); lf.Close(); close(c.done) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-c.done })
		return c
	}
	output := func(c *child) string { b, _ := os.ReadFile(c.log); return string(b) }
	// matched waits until the fault id has been consumed (its request is held) and fails
	// the test if the process ends first.
	matched := func(c *child, id int, what string) {
		t.Helper()
		for srv.FaultRemaining(id) != 0 {
			select {
			case <-c.done:
				t.Fatalf("sfbatch run ended (%v) before %s:\n%s", c.cmd.ProcessState, what, output(c))
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	kill := func(c *child, what string) {
		t.Helper()
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-c.done
		ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("sfbatch run (%s) ended with %v, not by SIGKILL:\n%s", what, c.cmd.ProcessState, output(c))
		}
		fake.Advance(killPlanHold) // let the held request go: its client is gone
		t.Logf("killed in %s: the org holds %d accounts, %d contacts, %d opportunities", what,
			srv.Org().Count("Account"), srv.Org().Count("Contact"), srv.Org().Count("Opportunity"))
	}
	unfinished := func(step string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(out, step, "summary.json")); err == nil {
			t.Fatalf("%s had finished when the process was killed", step)
		}
	}

	// 1. 02-Contact: its first upload is held; once it is, hold the next results read of a
	// Contact job (the Account step is over), let the upload go, and kill while a job's
	// results are being read.
	upContact := hold(upload("Person "))
	c := start("run1", "-o", out)
	matched(c, upContact, "the Contact upload")
	results := hold(emulator.Fault{Method: "GET", Path: "/services/data/*/jobs/ingest/*/successfulResults*"})
	fake.Advance(killPlanHold)
	matched(c, results, "a Contact job's results were read")
	kill(c, "02-Contact")
	unfinished("02-Contact")
	if got := srv.Org().Count("Contact"); got == 0 {
		t.Fatal("no contact in the org when the process was killed in the Contact step")
	}

	// 2. 03-Opportunity, mid-upload.
	upOpp := hold(upload("Deal "))
	c = start("run2", "--resume", out)
	matched(c, upOpp, "the Opportunity upload")
	kill(c, "03-Opportunity")
	unfinished("03-Opportunity")

	// 3. Between steps: 04-OpportunityContactRole is done, and 05-Alpha__c's first job is
	// being created.
	createAlpha := hold(emulator.Fault{Method: "POST", Path: "/services/data/*/jobs/ingest", BodyContains: "Alpha__c"})
	c = start("run3", "--resume", out)
	matched(c, createAlpha, "the Alpha__c job's creation")
	kill(c, "05-Alpha__c")
	unfinished("05-Alpha__c")
	if _, err := os.Stat(filepath.Join(out, "04-OpportunityContactRole", "summary.json")); err != nil {
		t.Fatalf("04-OpportunityContactRole had not finished before 05-Alpha__c started: %v", err)
	}

	// 4. 08-Contact, the second pass filling ReportsToId, mid-upload.
	upFill := hold(upload("Id,ReportsToId"))
	c = start("run4", "--resume", out)
	matched(c, upFill, "the upload of Contact's second pass")
	kill(c, "08-Contact")
	unfinished("08-Contact")

	c = start("run5", "--resume", out)
	<-c.done
	if code := c.cmd.ProcessState.ExitCode(); code != ExitRowsFailed {
		t.Fatalf("the last resume exited %d, want %d (rows failed):\n%s", code, ExitRowsFailed, output(c))
	}

	// Every step: each input row exactly once in results.csv.
	b, err := os.ReadFile(filepath.Join(out, plan.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc plan.Doc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	succeeded := map[string]int{}
	for _, st := range doc.Steps {
		want := st.Rows
		if st.Pass == 2 {
			want = int64(len(readCSVFile(t, filepath.Join(out, st.Dir, "input.csv"))) - 1)
		}
		rows := readCSVFile(t, filepath.Join(out, st.Dir, "results.csv"))
		col := func(name string) int {
			for i, h := range rows[0] {
				if h == name {
					return i
				}
			}
			t.Fatalf("%s/results.csv has no %s column", st.Dir, name)
			return -1
		}
		rc, oc := col("sf__Row"), col("sf__Outcome")
		seen := map[int64]bool{}
		for _, r := range rows[1:] {
			i, err := strconv.ParseInt(r[rc], 10, 64)
			if err != nil || i < 1 || i > want || seen[i] {
				t.Errorf("%s/results.csv: row %q out of range 1..%d or repeated", st.Dir, r[rc], want)
			}
			seen[i] = true
			switch r[oc] {
			case "succeeded":
				if st.Pass == 1 {
					succeeded[st.Object]++
				}
			case "failed":
			default:
				t.Errorf("%s/results.csv row %s: outcome %q", st.Dir, r[rc], r[oc])
			}
		}
		if int64(len(seen)) != want {
			t.Errorf("%s/results.csv has %d distinct rows, want %d", st.Dir, len(seen), want)
		}
	}
	wantOK := map[string]int{"Account": n, "Contact": n - len(bad), "Opportunity": n,
		"OpportunityContactRole": n - len(bad), "Alpha__c": 2, "Beta__c": 1}
	for obj, want := range wantOK {
		if succeeded[obj] != want {
			t.Errorf("%s: %d rows succeeded, want %d", obj, succeeded[obj], want)
		}
		if got := srv.Org().Count(obj); got != succeeded[obj] {
			t.Errorf("%s: %d records in the org, %d rows succeeded", obj, got, succeeded[obj])
		}
	}

	sc, err := salesforce.New(info.InstanceURL, salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(info.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	// query runs soql and calls each with the values of fields (paths through parents).
	query := func(soql string, fields []string, each func(v []string)) {
		t.Helper()
		for rec, err := range sc.Query(ctx, soql) {
			if err != nil {
				t.Fatal(err)
			}
			v := make([]string, len(fields))
			for i, f := range fields {
				x, _ := rec.Get(f)
				if x != nil {
					v[i] = fmt.Sprint(x)
				}
			}
			each(v)
		}
	}
	num := func(s, prefix string) int {
		i, err := strconv.Atoi(strings.TrimPrefix(s, prefix))
		if err != nil {
			t.Fatalf("%q is not %sN", s, prefix)
		}
		return i
	}
	unique := func(what string) func(string) {
		seen := map[string]bool{}
		return func(s string) {
			if seen[s] {
				t.Fatalf("%s %s is in the org twice", what, s)
			}
			seen[s] = true
		}
	}
	accounts, parents := unique("account"), 0
	query("SELECT AccountNumber, Parent.AccountNumber FROM Account", []string{"AccountNumber", "Parent.AccountNumber"}, func(v []string) {
		accounts(v[0])
		i := num(v[0], "A-")
		switch {
		case i%10 == 1 && i < n:
			if v[1] != fmt.Sprintf("A-%d", i+1) {
				t.Errorf("account %s has parent %q, want A-%d", v[0], v[1], i+1)
			}
			parents++
		case v[1] != "":
			t.Errorf("account %s has parent %s", v[0], v[1])
		}
	})
	wantParents := 0
	for i := 1; i < n; i += 10 {
		wantParents++
	}
	if parents != wantParents {
		t.Errorf("%d accounts have a parent, want %d", parents, wantParents)
	}
	contacts := unique("contact")
	query("SELECT LastName, Title, Account.AccountNumber, ReportsTo.LastName FROM Contact",
		[]string{"LastName", "Title", "Account.AccountNumber", "ReportsTo.LastName"}, func(v []string) {
			contacts(v[0])
			i := num(v[0], "Person ")
			if bad[i] {
				t.Errorf("contact %s with a bad date was loaded", v[0])
			}
			if want := fmt.Sprintf("A-%d", i); v[1] != want || v[2] != want {
				t.Errorf("contact %s: title %s, account %s, want %s", v[0], v[1], v[2], want)
			}
			want := fmt.Sprintf("Person %d", i-1)
			if i == 1 || bad[i-1] {
				want = ""
			}
			if v[3] != want {
				t.Errorf("contact %s reports to %q, want %q", v[0], v[3], want)
			}
		})
	opps := unique("opportunity")
	query("SELECT Name, Account.AccountNumber FROM Opportunity", []string{"Name", "Account.AccountNumber"}, func(v []string) {
		opps(v[0])
		if want := fmt.Sprintf("A-%d", num(v[0], "Deal ")); v[1] != want {
			t.Errorf("opportunity %s: account %s, want %s", v[0], v[1], want)
		}
	})
	roles := unique("contact role")
	query("SELECT Opportunity.Name, Contact.LastName FROM OpportunityContactRole", []string{"Opportunity.Name", "Contact.LastName"}, func(v []string) {
		roles(v[0])
		if i := num(v[0], "Deal "); v[1] != fmt.Sprintf("Person %d", i) {
			t.Errorf("role of %s: contact %s", v[0], v[1])
		}
	})
	query("SELECT Name, Beta__r.Name FROM Alpha__c", []string{"Name", "Beta__r.Name"}, func(v []string) {
		if want := map[string]string{"Alpha 1": "Beta 1", "Alpha 3": ""}[v[0]]; v[1] != want {
			t.Errorf("%s points at %q, want %q", v[0], v[1], want)
		}
	})
	query("SELECT Name, Alpha__r.Name FROM Beta__c", []string{"Name", "Alpha__r.Name"}, func(v []string) {
		if v[0] != "Beta 1" || v[1] != "Alpha 1" {
			t.Errorf("%s points at %q", v[0], v[1])
		}
	})
}

// readCSVFile reads a whole CSV file.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: path})
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, append([]string(nil), rec...))
	}
}
