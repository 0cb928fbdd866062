package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestPlanOrgToOrgCopy runs a plan whose objects are SOQL queries against a source org
// (an emulator of its own, reached through SOURCE_SF_* variables) into the target org (a
// second emulator): the preview reads the source, the run copies Accounts and Contacts with
// their lookups remapped to the target's ids, and the run folder keeps what was read.
func TestPlanOrgToOrgCopy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := salesforcetest.New(t, salesforcetest.WithSeed(3)), salesforcetest.New(t, salesforcetest.WithSeed(4))
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	for prefix, s := range map[string]*salesforcetest.Server{"": dst, "SOURCE_": src} {
		ca := filepath.Join(dir, prefix+"ca.pem")
		if err := os.WriteFile(ca, s.CACertPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		env[prefix+envInstanceURL], env[prefix+envAccessToken], env[prefix+envCACertFile] = s.URL(), s.AccessToken(), ca
	}
	acc, err := src.Insert(ctx, "Account", map[string]any{"Name": "Parent Co"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := src.Insert(ctx, "Account", map[string]any{"Name": "Child Co", "ParentId": acc[0]})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := src.Insert(ctx, "Contact", map[string]any{"LastName": fmt.Sprint("Person ", i), "AccountId": child[0]}); err != nil {
			t.Fatal(err)
		}
	}
	planFile := filepath.Join(dir, "copy.yaml")
	if err := os.WriteFile(planFile, []byte(`version: 1
connections:
  source: {env: SOURCE_}
objects:
  - object: Contact
    query: SELECT Id, LastName, AccountId FROM Contact
  - object: Account
    query: SELECT Id, Name, ParentId FROM Account
`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := func(out string) *planOptions {
		return &planOptions{auth: authOptions{ConfigPath: filepath.Join(dir, "config.json"), getenv: func(k string) string { return env[k] }},
			OutputDir: out, Quiet: true, file: planFile}
	}
	var out bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}
	cmd := newPlanCmd(ios)
	cmd.SetContext(ctx)
	if err := runPlanPreview(cmd, ios, opts(filepath.Join(dir, "preview"))); err != nil {
		t.Fatalf("preview: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1    Account") || !strings.Contains(out.String(), "2    Contact") {
		t.Errorf("preview:\n%s", out.String())
	}
	if dst.Count("Account") != 0 {
		t.Fatal("the preview wrote to the target")
	}
	cmd = newRunCmd(ios)
	cmd.SetContext(ctx)
	run := filepath.Join(dir, "run")
	if err := runPlan(cmd, ios, opts(run)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if dst.Count("Account") != 2 || dst.Count("Contact") != 3 || src.Count("Account") != 2 {
		t.Fatalf("target has %d accounts, %d contacts", dst.Count("Account"), dst.Count("Contact"))
	}
	for _, f := range []string{"sources/Account.csv", "sources/Contact.csv", "01-Account/success.csv", "02-Contact/success.csv"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Error(err)
		}
	}
	r, err := dst.Org().Query(ctx, "SELECT Account.Name, Account.Parent.Name FROM Contact", false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Len() {
		if v := fmt.Sprint(r.Values(i)); v != "[Child Co Parent Co]" {
			t.Errorf("contact %d: %s", i, v)
		}
	}
}
