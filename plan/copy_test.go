package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestOrgToOrgCopy copies Accounts (with a self-reference) and their Contacts (with a
// self-reference) from one emulated org to another: the queries run on the source
// connection, the order comes from the target's describe, and every lookup holds the id the
// run created in the target, not the source's.
func TestOrgToOrgCopy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srcSrv, dstSrv := salesforcetest.New(t, salesforcetest.WithSeed(11)), salesforcetest.New(t, salesforcetest.WithSeed(22))
	src, dst := client(t, srcSrv), client(t, dstSrv)
	const n = 30
	var parent string
	for i := 1; i <= n; i++ {
		f := map[string]any{"Name": fmt.Sprintf("Account %d", i)}
		if i%5 == 2 {
			f["ParentId"] = parent
		}
		ids, err := srcSrv.Insert(ctx, "Account", f)
		if err != nil {
			t.Fatal(err)
		}
		id := ids[0]
		if i%5 == 1 {
			parent = id
		}
		var boss string
		for j := 1; j <= 2; j++ {
			cf := map[string]any{"LastName": fmt.Sprintf("Person %d-%d", i, j), "AccountId": id}
			if boss != "" {
				cf["ReportsToId"] = boss
			}
			cids, err := srcSrv.Insert(ctx, "Contact", cf)
			if err != nil {
				t.Fatal(err)
			}
			boss = cids[0]
		}
	}
	f, err := Parse(strings.NewReader(`version: 1
connections:
  source: {env: SOURCE_}
objects:
  - object: Contact
    query: SELECT Id, LastName, AccountId, ReportsToId FROM Contact
  - object: Account
    connection: source
    query: SELECT Id, Name, ParentId FROM Account
`), "copy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := FetchSources(ctx, f, map[string]*salesforce.Client{"source": src}, dir, false); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(ctx, dst, f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].Object != "Account" || p.Steps[1].Object != "Contact" || p.Steps[0].Rows != n || p.Steps[1].Rows != 2*n {
		t.Fatalf("steps %+v %+v", p.Steps[0], p.Steps[1])
	}
	res, err := Run(ctx, dst, p, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("result %+v", res.Steps)
	}
	if dstSrv.Count("Account") != n || dstSrv.Count("Contact") != 2*n {
		t.Fatalf("target has %d accounts, %d contacts", dstSrv.Count("Account"), dstSrv.Count("Contact"))
	}
	// The same graph, by names, in both orgs; no id of the source in the target.
	graph := func(c *salesforce.Client) (string, []string) {
		var lines []string
		var ids []string
		for r, err := range c.Query(ctx, "SELECT Id, LastName, Account.Name, Account.Parent.Name, ReportsTo.LastName, AccountId, ReportsToId FROM Contact ORDER BY LastName") {
			if err != nil {
				t.Fatal(err)
			}
			an, _ := r.Get("Account.Name")
			pn, _ := r.Get("Account.Parent.Name")
			bn, _ := r.Get("ReportsTo.LastName")
			ln, _ := r.Get("LastName")
			lines = append(lines, fmt.Sprint(ln, "|", an, "|", pn, "|", bn))
			for _, k := range []string{"Id", "AccountId", "ReportsToId"} {
				if v, _ := r.Get(k); v != nil {
					ids = append(ids, fmt.Sprint(v))
				}
			}
		}
		return strings.Join(lines, "\n"), ids
	}
	want, srcIDs := graph(src)
	got, dstIDs := graph(dst)
	if got != want {
		t.Errorf("target graph:\n%s\nwant:\n%s", got, want)
	}
	seen := map[string]bool{}
	for _, id := range srcIDs {
		seen[id] = true
	}
	for _, id := range dstIDs {
		if seen[id] {
			t.Fatalf("target holds the source's id %s", id)
		}
	}
	if !strings.Contains(want, "|Account 1|") || !strings.Contains(want, "Person 2-1|Account 2|Account 1|") {
		t.Fatalf("source graph lacks parents: %s", want)
	}
}

func TestPlanFileQueryChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{"objects: [{object: Account}]", "source or query is required"},
		{"objects: [{object: Account, source: a.csv, query: SELECT Id FROM Account}]", "not both"},
		{"objects: [{object: Account, query: SELECT Id FROM Account}]", `connection "source" is not in connections`},
		{"connections: {prod: {profile: p}}\nobjects: [{object: Account, query: SELECT Id FROM Account, connection: qa}]", `connection "qa" is not in connections`},
		{"connections: {source: {}}\nobjects: [{object: Account, query: SELECT Id FROM Account}]", "needs a profile or env"},
		{"connections: {source: {profile: a, env: B_}}\nobjects: [{object: Account, query: SELECT Id FROM Account}]", "not both"},
		{"objects: [{object: Account, source: a.csv, connection: source}]", "connection applies to a query"},
	} {
		_, err := Parse(strings.NewReader(tc.body), "p.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
	f, err := Parse(strings.NewReader("connections: {source: {profile: prod}}\nobjects: [{object: Account, query: SELECT Id FROM Account}]"), "p.yaml")
	if err != nil || fmt.Sprint(f.SourceConnections()) != "[source]" {
		t.Errorf("%v %v", f, err)
	}
}
