package plan

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestPlanFiles loads Accounts and ContentVersions whose VersionData column holds file paths
// (one over 10 MB): each file is uploaded in its own multipart request and linked to its
// account through FirstPublishLocationId, translated by the plan's id map; a missing file is
// a finding in the preview and fails its row alone in the run.
func TestPlanFiles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := salesforcetest.New(t)
	c := client(t, srv)
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 11<<20)
	rand.Read(big)
	files := map[string][]byte{"docs/a.txt": []byte("alpha"), "docs/b.pdf": []byte("%PDF-1.4 beta"), "docs/big.bin": big}
	for n, b := range files {
		write(n, b)
	}
	write("accounts.csv", []byte("LegacyId,Name\nA-1,Acme\nA-2,Globex\n"))
	write("files.csv", []byte("Title,VersionData,FirstPublishLocationId\nAlpha,docs/a.txt,A-1\nBeta,docs/b.pdf,A-2\nBig,docs/big.bin,A-1\nGone,docs/missing.txt,A-2\n"))
	write("attachments.csv", []byte("Description,Body,ParentId\nnotes,docs/b.pdf,A-2\n"))
	write("plan.yaml", []byte(`objects:
  - object: ContentVersion
    source: files.csv
  - object: Attachment
    source: attachments.csv
  - object: Account
    source: accounts.csv
    key: LegacyId
`))
	f, err := ReadFile(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(ctx, c, f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[1].Object != "ContentVersion" || !p.Steps[1].Files() || p.Steps[2].Object != "Attachment" || !p.Steps[2].Files() {
		t.Fatalf("steps: %+v %+v", p.Steps[1], p.Steps[2])
	}
	pv, err := PreviewPlan(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	sp := pv.Steps[1]
	if sp.Requests != 4 || len(sp.Findings) != 1 || sp.Findings[0].Row != 4 || sp.Findings[0].Column != "VersionData" {
		t.Fatalf("preview: %d requests, findings %v", sp.Requests, sp.Findings)
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, c, p, Options{Dir: run})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Steps[1]; s.Succeeded != 3 || s.Failed != 1 || s.ErrorCodes[StatusFileUnreadable] != 1 {
		t.Fatalf("files step: %+v", s)
	}
	r, err := srv.Org().Query(ctx, "SELECT Id, Title, PathOnClient, FirstPublishLocationId FROM ContentVersion ORDER BY Title", false)
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]string{}
	ar, _ := srv.Org().Query(ctx, "SELECT Id, Name FROM Account", false)
	for i := range ar.Len() {
		accounts[ar.Values(i)[0].(string)] = ar.Values(i)[1].(string)
	}
	want := map[string][2]string{"Alpha": {"docs/a.txt", "Acme"}, "Beta": {"docs/b.pdf", "Globex"}, "Big": {"docs/big.bin", "Acme"}}
	if r.Len() != 3 {
		t.Fatalf("%d ContentVersions", r.Len())
	}
	for i := range r.Len() {
		v := r.Values(i)
		w := want[v[1].(string)]
		body, _ := srv.Org().VersionData(v[0].(string))
		if !bytes.Equal(body, files[w[0]]) || v[2] != filepath.Base(w[0]) || accounts[v[3].(string)] != w[1] {
			t.Errorf("%v: %d bytes, linked to %v", v, len(body), accounts[fmtAny(v[3])])
		}
	}
	if s := res.Steps[2]; s.Succeeded != 1 {
		t.Fatalf("attachment step: %+v", s)
	}
	ar, err = srv.Org().Query(ctx, "SELECT Id, Name, Parent.Name, BodyLength FROM Attachment", false)
	if err != nil || ar.Len() != 1 {
		t.Fatalf("attachments: %v", err)
	}
	if v := ar.Values(0); v[1] != "b.pdf" || v[2] != "Globex" || v[3] != float64(len(files["docs/b.pdf"])) {
		t.Errorf("attachment %v", v)
	}
	if body, _ := srv.Org().VersionData(ar.Values(0)[0].(string)); !bytes.Equal(body, files["docs/b.pdf"]) {
		t.Errorf("attachment body %q", body)
	}
	b, err := os.ReadFile(filepath.Join(run, p.Steps[1].Dir(), load.ResultsFile))
	if err != nil || strings.Count(string(b), "\n") != 5 || !strings.Contains(string(b), StatusFileUnreadable) {
		t.Errorf("results.csv (%v):\n%s", err, b)
	}
}

func fmtAny(v any) string { s, _ := v.(string); return s }

// TestPlanFilesJournal: a files step's journal decides what a resumed step sends: a row
// with an outcome is not sent again, a row whose upload was under way is unknown (never sent
// twice), the others are sent.
func TestPlanFilesJournal(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := salesforcetest.New(t)
	c := client(t, srv)
	dir := t.TempDir()
	for name, body := range map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c",
		"files.csv": "Title,VersionData\nA,a.txt\nB,b.txt\nC,c.txt\n", "plan.yaml": "objects: [{object: ContentVersion, source: files.csv}]\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ReadFile(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(ctx, c, f)
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	step := filepath.Join(run, p.Steps[0].Dir())
	if err := os.MkdirAll(step, 0o755); err != nil {
		t.Fatal(err)
	}
	journal := `{"row":1,"state":"sending"}
{"row":1,"state":"succeeded","id":"068000000000001AAA"}
{"row":2,"state":"sending"}
{"row":3,"sta`
	if err := os.WriteFile(filepath.Join(step, filesLog), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, c, p, Options{Dir: run})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Steps[0]; s.Succeeded != 2 || s.Unknown != 1 || srv.Count("ContentVersion") != 1 {
		t.Fatalf("step %+v, org has %d ContentVersions", s, srv.Count("ContentVersion"))
	}
}
