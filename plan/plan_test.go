package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// migration writes a plan of Account (self-reference), Contact (self-reference, dates in
// European order), Opportunity, OpportunityContactRole and the Alpha__c/Beta__c cycle,
// listed children first, with n accounts and a few bad rows.
func migration(t *testing.T, dir string, n int) (path string, bad int) {
	t.Helper()
	w := func(name string, lines []string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	acc := []string{"LegacyId,Name,AccountNumber,ParentId"}
	con := []string{"LegacyId,LastName,Title,AccountId,ReportsToId,Birthdate"}
	opp := []string{"LegacyId,Name,AccountId,StageName,CloseDate"}
	ocr := []string{"OpportunityId,ContactId,Role"}
	for i := 1; i <= n; i++ {
		parent := ""
		if i%10 == 1 && i < n {
			parent = fmt.Sprintf("A-%d", i+1) // points at a row later in the file
		}
		acc = append(acc, fmt.Sprintf("A-%d,Account %d,A-%d,%s", i, i, i, parent))
		boss := ""
		if i > 1 {
			boss = fmt.Sprintf("C-%d", i-1)
		}
		date := fmt.Sprintf("%02d/%02d/19%02d", i%28+1, i%12+1, i%100)
		if i%500 == 7 {
			date = "31/02/1980" // cannot be converted: the row fails, and its children
			bad++
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
	path = filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(`version: 1
defaults:
  dateFormat: DD/MM/YYYY
  concurrency: 2
objects:
  - object: OpportunityContactRole
    source: roles.csv
  - object: Alpha__c
    source: alpha.csv
    key: Key
  - object: Beta__c
    source: beta.csv
    key: Key
  - object: Contact
    source: contacts.csv
    key: LegacyId
    convert:
      Birthdate: {type: date, pivot: 1950}
  - object: Opportunity
    source: opportunities.csv
    key: LegacyId
  - object: Account
    source: accounts.csv
    key: LegacyId
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

func client(t *testing.T, srv *salesforcetest.Server) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPlanOrdersFromDescribeAndResolvesLookups(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/cycle.schema.json"))
	c := client(t, srv)
	dir := t.TempDir()
	const n = 12_500 // 50,000 rows of Account, Contact, Opportunity and their roles, through Bulk API 2.0
	path, bad := migration(t, dir, n)
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(t.Context(), c, f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range p.Steps {
		var d []string
		for _, r := range st.Deferred {
			d = append(d, r.Column)
		}
		got = append(got, fmt.Sprintf("%s %s", st.Dir(), strings.Join(d, ",")))
	}
	// Parents first whatever the file's order; the cycle is broken at Alpha__c's optional lookup.
	want := []string{"01-Account ParentId", "02-Contact ReportsToId", "03-Opportunity ", "04-OpportunityContactRole ",
		"05-Alpha__c Beta__c", "06-Beta__c ", "07-Account ParentId", "08-Contact ReportsToId", "09-Alpha__c Beta__c"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("steps (-want +got):\n%s", d)
	}

	pv, err := PreviewPlan(t.Context(), c, p)
	if err != nil {
		t.Fatal(err)
	}
	// The bad dates and the bad restricted picklist value are findings; nothing was written.
	if pv.FindingsCount != bad+1 {
		t.Errorf("preview findings = %d, want %d: %+v", pv.FindingsCount, bad+1, pv.Steps)
	}
	// 12,500 Accounts: a first job of 10,000 records (FirstBulk2JobRecords) and one of 2,500,
	// counted as two of Salesforce's batches of 10,000.
	if srv.Count("Account") != 0 || pv.Limits == nil || pv.Steps[0].API != load.Bulk2 || pv.Steps[0].Jobs != 2 || pv.Steps[0].Batches != 2 {
		t.Errorf("preview: %d accounts written, limits %v, account step %+v", srv.Count("Account"), pv.LimitsErr, pv.Steps[0])
	}

	out := filepath.Join(dir, "run")
	os.Mkdir(out, 0o755)
	res, err := Run(t.Context(), c, p, Options{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][3]int64{}
	for _, s := range res.Steps {
		if s.Rows != s.Succeeded+s.Failed+s.NotProcessed {
			t.Errorf("%s: %d rows, %d+%d+%d outcomes", s.Dir, s.Rows, s.Succeeded, s.Failed, s.NotProcessed)
		}
		counts[s.Dir] = [3]int64{s.Rows, s.Succeeded, s.Failed}
	}
	// Contacts with a bad date fail; so do their roles, and the reports-to of the next contact.
	wantCounts := map[string][3]int64{
		"05-Alpha__c": {3, 2, 1}, "06-Beta__c": {2, 1, 1}, "01-Account": {n, n, 0}, "02-Contact": {n, n - int64(bad), int64(bad)},
		"03-Opportunity": {n, n, 0}, "04-OpportunityContactRole": {n, n - int64(bad), int64(bad)},
		"09-Alpha__c": {1, 1, 0}, "07-Account": {n / 10, n / 10, 0}, "08-Contact": {n - 1 - int64(bad), n - 1 - 2*int64(bad), int64(bad)},
	}
	if d := cmp.Diff(wantCounts, counts); d != "" {
		t.Errorf("step counts [rows succeeded failed] (-want +got):\n%s", d)
	}
	if got := srv.Count("Account"); got != n {
		t.Errorf("%d accounts in the org, want %d", got, n)
	}
	// Every lookup points at the record created for the source id it named.
	checked := 0
	for rec, err := range c.Query(t.Context(), "SELECT Title, Account.AccountNumber, ReportsTo.LastName FROM Contact") {
		if err != nil {
			t.Fatal(err)
		}
		title, _ := rec.String("Title")
		a, _ := rec.Parent("Account")
		if num, _ := a.String("AccountNumber"); num != title {
			t.Fatalf("contact of %s points at account %s", title, num)
		}
		checked++
	}
	if checked != n-bad {
		t.Errorf("checked %d contacts, want %d", checked, n-bad)
	}
	for rec, err := range c.Query(t.Context(), "SELECT AccountNumber, Parent.AccountNumber FROM Account WHERE ParentId != null") {
		if err != nil {
			t.Fatal(err)
		}
		num, _ := rec.String("AccountNumber")
		par, _ := rec.Parent("Parent")
		pn, _ := par.String("AccountNumber")
		var i int
		fmt.Sscanf(num, "A-%d", &i)
		if pn != fmt.Sprintf("A-%d", i+1) {
			t.Fatalf("account %s has parent %s", num, pn)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "02-Contact", load.FailureFile)); err != nil {
		t.Error(err)
	}
}

func TestPlanRequiredCycleIsAnError(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/cycle.schema.json"))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "g.csv"), []byte("Name,Delta__c\nG,\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("Name,Gamma__c\nD,\n"), 0o644)
	path := filepath.Join(dir, "p.json")
	os.WriteFile(path, []byte(`{"objects":[{"object":"Gamma__c","source":"g.csv"},{"object":"Delta__c","source":"d.csv"}]}`), 0o644)
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(t.Context(), client(t, srv), f)
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "cycle of required lookups") || !strings.Contains(err.Error(), "Gamma__c.Delta__c -> Delta__c") {
		t.Fatalf("Compile = %v, want a required-cycle *Error", err)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"unknown key":    "objects:\n  - object: Account\n    source: a.csv\n    sorce: x\n",
		"upsert no key":  "objects:\n  - object: Account\n    source: a.csv\n    operation: upsert\n",
		"bad operation":  "objects:\n  - object: Account\n    source: a.csv\n    operation: merge\n",
		"twice":          "objects:\n  - {object: Account, source: a.csv}\n  - {object: account, source: b.csv}\n",
		"no objects":     "version: 1\n",
		"two-digit year": "objects:\n  - object: Account\n    source: a.csv\n    convert: {D: {type: date, format: DD/MM/YY}}\n",
	} {
		if _, err := Parse(strings.NewReader(in), "p.yaml"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPlanResumeAfterInterruption stops a plan while its Contact step runs, then resumes
// it: the Account step is not run again, the id map written before the stop still
// resolves the lookups, and no record is created twice.
func TestPlanResumeAfterInterruption(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/cycle.schema.json"))
	c := client(t, srv)
	dir := t.TempDir()
	const n = 3000
	path, bad := migration(t, dir, n)
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(t.Context(), c, f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	os.Mkdir(out, 0o755)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var inContacts atomic.Bool
	_, err = Run(ctx, c, p, Options{Dir: out,
		Event: func(kind string, f map[string]any) {
			if kind == "step_started" && f["step"] == 2 {
				inContacts.Store(true)
			}
		},
		Progress: load.ProgressFunc(func(e load.Event) {
			// Cancel once the Contact step (02) has a job in flight.
			if e.Kind == load.JobState && inContacts.Load() {
				cancel()
			}
		})})
	if err == nil {
		t.Fatal("the interrupted run finished")
	}
	if got := srv.Count("Contact"); got == n-bad {
		t.Logf("the Contact step had finished in the org when it was stopped")
	}
	res, err := Run(t.Context(), c, p, Options{Dir: out, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Steps[0].Skipped || res.Steps[1].Skipped {
		t.Errorf("resume: Account step skipped %v (want true), Contact step skipped %v (want false)", res.Steps[0].Skipped, res.Steps[1].Skipped)
	}
	if got := srv.Count("Account"); got != n {
		t.Errorf("%d accounts, want %d", got, n)
	}
	if got := srv.Count("Contact"); got != n-bad {
		t.Errorf("%d contacts, want %d", got, n-bad)
	}
	if got := srv.Count("OpportunityContactRole"); got != n-bad {
		t.Errorf("%d contact roles, want %d", got, n-bad)
	}
	for _, s := range res.Steps {
		if s.Rows != s.Succeeded+s.Failed+s.NotProcessed {
			t.Errorf("%s: %d rows, %d+%d+%d outcomes", s.Dir, s.Rows, s.Succeeded, s.Failed, s.NotProcessed)
		}
	}
}
