package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares body (indented) with testdata/name, or writes it with
// -update.
func golden(t *testing.T, name, body string) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(body), "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", name, err, body)
	}
	buf.WriteByte('\n')
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func (e *env) insert(object string, fields map[string]any) string {
	e.t.Helper()
	res := e.org.Write(e.t.Context(), "", []org.WriteRequest{{Op: org.OpInsert, Object: object, Fields: fields}}, true)
	if !res[0].Success {
		e.t.Fatalf("insert %s: %+v", object, res[0].Errors)
	}
	return res[0].ID
}

func q(s string) string { return url.QueryEscape(s) }

// TestQueryColumns: ?columns=true describes the SELECT list instead of
// returning rows: plain fields, parent fields nested under their
// relationship in joinColumns, aggregates as exprN. The Salesforce CLI reads
// it to draw `sf data query` tables.
func TestQueryColumns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.insertContacts(1, "Smith")
	r := e.do("GET", "/services/data/v62.0/query?columns=true&q="+q("SELECT Id, LastName, Email, DoNotCall, Account.Name, Account.Owner.Name, Account.AnnualRevenue FROM Contact"), "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	golden(t, "query-columns-contact.json", r.body)
	r = e.do("GET", "/services/data/v62.0/query?columns=true&q="+q("SELECT COUNT(Id) FROM Account"), "")
	golden(t, "query-columns-count.json", r.body)
	// The query's own errors come back unchanged.
	r = e.do("GET", "/services/data/v62.0/query?columns=true&q="+q("SELECT Nope FROM Contact"), "")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"errorCode":"INVALID_FIELD"`) {
		t.Errorf("bad field: %d %s", r.status, r.body)
	}
}

// TestOrganization: the Organization sObject has the org's one record,
// read-only, under the org id.
func TestOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/services/data/v62.0/query?q="+q("SELECT Id, Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization"), "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	golden(t, "query-organization.json", r.body)
	r = e.do("POST", "/services/data/v62.0/sobjects/Organization", `{"Name":"x"}`)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "INVALID_FIELD_FOR_INSERT_UPDATE") {
		t.Errorf("insert Organization: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/Organization/describe", "")
	var d struct {
		Createable bool `json:"createable"`
		Deletable  bool `json:"deletable"`
		KeyPrefix  string
	}
	e.json(r, &d)
	if d.Createable || d.Deletable || d.KeyPrefix != "00D" {
		t.Errorf("describe Organization: %+v", d)
	}
}

// TestSearch: SOSL through GET search and parameterizedSearch, with scope,
// RETURNING fields, WHERE and LIMIT, and Salesforce's errors.
func TestSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.insert("Account", map[string]any{"Name": "Acme Corp", "Industry": "Energy"})
	e.insert("Account", map[string]any{"Name": "Acme Labs", "Industry": "Banking"})
	e.insert("Account", map[string]any{"Name": "Globex"})
	e.insert("Contact", map[string]any{"LastName": "Smith", "Email": "jo@acme.com", "AccountId": acc})
	e.insert("Contact", map[string]any{"LastName": "Acme", "Email": "x@example.com"})

	r := e.do("GET", "/services/data/v62.0/search?q="+q("FIND {Acme} IN ALL FIELDS RETURNING Account(Name, Industry ORDER BY Name), Contact(LastName, Email)"), "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	golden(t, "search-all-fields.json", r.body)

	count := func(path string) int {
		t.Helper()
		r := e.do("GET", path, "")
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var out struct {
			SearchRecords []map[string]any `json:"searchRecords"`
		}
		e.json(r, &out)
		return len(out.SearchRecords)
	}
	for _, c := range []struct {
		sosl string
		want int
	}{
		{"FIND {Acme} IN NAME FIELDS RETURNING Account, Contact", 3},    // the email does not count
		{"FIND {jo@acme.com} IN EMAIL FIELDS RETURNING Contact(Id)", 1}, // an email as a term
		{"FIND {Acme} RETURNING Account(Name WHERE Industry = 'Energy')", 1},
		{"FIND {Acme} RETURNING Account(Name LIMIT 1), Contact", 3},
		{"FIND {Acme} RETURNING Account, Contact LIMIT 2", 2},
		{"FIND {Ac*} RETURNING Account", 2},
		{"FIND {Acm} RETURNING Account", 0}, // whole words only without a wildcard
		{"FIND {\"Acme Labs\"} RETURNING Account", 1},
		{"FIND {Acme Corp} RETURNING Account", 1},
		{"FIND {Globex}", 1}, // every object, Id only
	} {
		if got := count("/services/data/v62.0/search?q=" + q(c.sosl)); got != c.want {
			t.Errorf("%s: %d records, want %d", c.sosl, got, c.want)
		}
	}
	if got := count("/services/data/v62.0/parameterizedSearch?q=Acme&sobject=Account&Account.fields=Id,Name&in=NAME"); got != 2 {
		t.Errorf("parameterizedSearch GET: %d records, want 2", got)
	}
	r = e.do("POST", "/services/data/v62.0/parameterizedSearch", `{"q":"Acme","fields":["Id","Name"],"sobjects":[{"name":"Account","limit":1},{"name":"Contact","fields":["LastName"]}],"in":"ALL","overallLimit":10}`)
	var out struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	e.json(r, &out)
	if len(out.SearchRecords) != 3 || out.SearchRecords[2]["LastName"] == nil {
		t.Errorf("parameterizedSearch POST: %s", r.body)
	}
	for _, c := range []struct{ sosl, code string }{
		{"Acme", "MALFORMED_SEARCH"},
		{"FIND Acme", "MALFORMED_SEARCH"},
		{"FIND {Acme", "MALFORMED_SEARCH"},
		{"FIND {A}", "INVALID_SEARCH"},
		{"FIND {Acme} IN BOGUS FIELDS", "MALFORMED_SEARCH"},
		{"FIND {Acme} RETURNING Nope__c", "INVALID_TYPE"},
		{"FIND {Acme} RETURNING Account(Nope)", "INVALID_FIELD"},
	} {
		r := e.do("GET", "/services/data/v62.0/search?q="+q(c.sosl), "")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"errorCode":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", c.sosl, r.status, r.body, c.code)
		}
	}
}

// TestContentVersion: a file uploaded as multipart (the Salesforce CLI's
// `sf data create file`) or as base64 JSON becomes a ContentVersion with
// its ContentDocument, computed fields filled in, an optional link to a
// record, and its bytes downloadable from VersionData.
func TestContentVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acc := e.insert("Account", map[string]any{"Name": "Acme"})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	jp, _ := mw.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="entity_content"`}, "Content-Type": {"application/json"}})
	jp.Write([]byte(`{"PathOnClient":"notes/report.csv","FirstPublishLocationId":"` + acc + `"}`))
	fp, _ := mw.CreateFormFile("VersionData", "report.csv")
	content := "a,b\n1,2\n"
	fp.Write([]byte(content))
	mw.Close()
	r := e.do("POST", "/services/data/v62.0/sobjects/ContentVersion", body.String(), "Content-Type", mw.FormDataContentType())
	if r.status != http.StatusCreated {
		t.Fatalf("multipart create: %d %s", r.status, r.body)
	}
	var cr struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	e.json(r, &cr)
	if !strings.HasPrefix(cr.ID, "068") || r.header.Get("Location") != "/services/data/v62.0/sobjects/ContentVersion/"+cr.ID {
		t.Errorf("create: %s Location %q", r.body, r.header.Get("Location"))
	}
	r = e.do("GET", "/services/data/v62.0/query?q="+q("SELECT Title, PathOnClient, FileExtension, FileType, ContentSize, IsLatest, VersionNumber, Checksum, VersionData, ContentDocument.Title, ContentDocument.ContentSize FROM ContentVersion"), "")
	golden(t, "query-contentversion.json", r.body)
	r = e.do("GET", "/services/data/v62.0/query?q="+q("SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink"), "")
	if !strings.Contains(r.body, `"LinkedEntityId":"`+acc+`"`) || !strings.Contains(r.body, `"ShareType":"V"`) {
		t.Errorf("link: %s", r.body)
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/ContentVersion/"+cr.ID+"/VersionData", "")
	if r.status != http.StatusOK || r.body != content || r.header.Get("Content-Type") != "application/octetstream" {
		t.Errorf("VersionData: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if got := e.org.FileStorageUsed(); got != int64(len(content)) {
		t.Errorf("FileStorageUsed = %d, want %d", got, len(content))
	}

	// A new version of the same document, as JSON with base64.
	var doc struct {
		Records []struct {
			ContentDocumentID string `json:"ContentDocumentId"`
		} `json:"records"`
	}
	e.json(e.do("GET", "/services/data/v62.0/query?q="+q("SELECT ContentDocumentId FROM ContentVersion"), ""), &doc)
	r = e.do("POST", "/services/data/v62.0/sobjects/ContentVersion", `{"Title":"v2","PathOnClient":"report.csv","ContentDocumentId":"`+doc.Records[0].ContentDocumentID+`","VersionData":"`+base64.StdEncoding.EncodeToString([]byte("x"))+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("JSON create: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v62.0/query?q="+q("SELECT VersionNumber, IsLatest FROM ContentVersion ORDER BY VersionNumber"), "")
	if !strings.Contains(r.body, `"VersionNumber":"1","IsLatest":false`) || !strings.Contains(r.body, `"VersionNumber":"2","IsLatest":true`) {
		t.Errorf("versions: %s", r.body)
	}

	for _, c := range []struct{ name, body, ct, code string }{
		{"no VersionData", `{"PathOnClient":"a.txt"}`, "", "REQUIRED_FIELD_MISSING"},
		{"no PathOnClient", `{"VersionData":"eA=="}`, "", "REQUIRED_FIELD_MISSING"},
		{"bad base64", `{"PathOnClient":"a.txt","VersionData":"!!"}`, "", "INVALID_FIELD"},
		{"read-only field", `{"PathOnClient":"a.txt","VersionData":"eA==","ContentSize":5}`, "", "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"multipart without JSON", "--b\r\nContent-Disposition: form-data; name=\"VersionData\"\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", "INVALID_MULTIPART_REQUEST"},
	} {
		var hdr []string
		if c.ct != "" {
			hdr = []string{"Content-Type", c.ct}
		}
		r := e.do("POST", "/services/data/v62.0/sobjects/ContentVersion", c.body, hdr...)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, c.code) {
			t.Errorf("%s: %d %s, want 400 %s", c.name, r.status, r.body, c.code)
		}
	}
	if r := e.do("GET", "/services/data/v62.0/sobjects/ContentVersion/068000000000000AAA/VersionData", ""); r.status != http.StatusNotFound {
		t.Errorf("VersionData of no version: %d", r.status)
	}
}

// TestFileStorageLimit: files count against FileStorageMB: /limits shows
// them (whole megabytes, rounded up) and an upload past the limit fails with
// STORAGE_LIMIT_EXCEEDED, storing nothing.
func TestFileStorageLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.org.SetLimit(org.LimitFileStorageMB, 1, 1)
	upload := func(n int) resp {
		body := `{"PathOnClient":"f.bin","VersionData":"` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, n)) + `"}`
		return e.do("POST", "/services/data/v62.0/sobjects/ContentVersion", body)
	}
	if r := upload(600 << 10); r.status != http.StatusCreated {
		t.Fatalf("first file: %d %s", r.status, r.body)
	}
	var lim map[string]struct{ Max, Remaining int }
	e.json(e.do("GET", "/services/data/v62.0/limits", ""), &lim)
	if got := lim["FileStorageMB"]; got.Max != 1 || got.Remaining != 0 {
		t.Errorf("FileStorageMB after 600 KB = %+v, want max 1 remaining 0", got)
	}
	r := upload(600 << 10)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"errorCode":"STORAGE_LIMIT_EXCEEDED"`) {
		t.Errorf("second file: %d %s", r.status, r.body)
	}
	if got := e.org.FileStorageUsed(); got != 600<<10 {
		t.Errorf("FileStorageUsed = %d after a refused upload, want %d", got, 600<<10)
	}
	if n := e.org.Count("ContentVersion"); n != 1 {
		t.Errorf("%d ContentVersions after a refused upload, want 1", n)
	}
}

// FuzzParseSOSL: the SOSL parser never panics, and what it accepts has a
// search term and well-formed RETURNING entries.
func FuzzParseSOSL(f *testing.F) {
	for _, s := range []string{
		"FIND {Acme} IN ALL FIELDS RETURNING Account(Name, Industry WHERE Industry = 'Energy' ORDER BY Name LIMIT 5), Contact LIMIT 10",
		`FIND {a\}b} RETURNING Account(Name WHERE Name = 'x)(')`,
		"FIND {\"Acme Labs\" OR Glob*} IN NAME FIELDS",
		"FIND {x", "FIND", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sr, msg := parseSOSL(s)
		if msg != "" {
			if sr != nil {
				t.Fatalf("%q: error %q with a result", s, msg)
			}
			return
		}
		for _, rt := range sr.returning {
			if rt.object == "" || rt.limit < 0 {
				t.Fatalf("%q: RETURNING entry %+v", s, rt)
			}
		}
		_ = searchTerms(sr.term)
	})
}
