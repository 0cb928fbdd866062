package conformance

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// testSFCLIResources: the resources the Salesforce CLI calls beyond CRUD
// answer in Salesforce's shapes: OpenID userinfo, query column metadata,
// the Organization record, SOSL search and a ContentVersion upload with
// its ContentDocument.
func testSFCLIResources(t *testing.T, e *Env) {
	ctx := t.Context()
	c := e.Client
	e.CleanupContacts(t)

	var ui map[string]any
	if err := c.Call(ctx, "GET", "/services/oauth2/userinfo", nil, &ui); err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	for _, k := range []string{"sub", "user_id", "organization_id", "preferred_username", "urls"} {
		if ui[k] == nil {
			t.Errorf("userinfo lacks %s: %v", k, ui)
		}
	}

	id, err := c.SObject("Contact").Create(ctx, map[string]any{"LastName": e.Name(1), "Email": strings.ToLower(e.Prefix) + "@example.com"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var cols struct {
		ColumnMetadata []struct {
			ColumnName  string `json:"columnName"`
			DisplayName string `json:"displayName"`
			Aggregate   bool   `json:"aggregate"`
			JoinColumns []struct {
				ColumnName string `json:"columnName"`
			} `json:"joinColumns"`
		} `json:"columnMetadata"`
		EntityName string `json:"entityName"`
		IDSelected bool   `json:"idSelected"`
	}
	soql := "SELECT Id, LastName, Account.Name FROM Contact WHERE Id = '" + id + "'"
	if err := c.Call(ctx, "GET", "query?columns=true&q="+url.QueryEscape(soql), nil, &cols); err != nil {
		t.Fatalf("query columns: %v", err)
	}
	if len(cols.ColumnMetadata) != 3 || cols.EntityName != "Contact" || !cols.IDSelected ||
		cols.ColumnMetadata[2].ColumnName != "Account" || len(cols.ColumnMetadata[2].JoinColumns) != 1 || cols.ColumnMetadata[2].JoinColumns[0].ColumnName != "Name" {
		t.Errorf("column metadata: %+v", cols)
	}

	var orgs struct {
		TotalSize int `json:"totalSize"`
		Records   []struct {
			ID        string `json:"Id"`
			IsSandbox *bool  `json:"IsSandbox"`
		} `json:"records"`
	}
	if err := c.Call(ctx, "GET", "query?q="+url.QueryEscape("SELECT Id, Name, IsSandbox, OrganizationType FROM Organization"), nil, &orgs); err != nil {
		t.Fatalf("Organization: %v", err)
	}
	if orgs.TotalSize != 1 || !strings.HasPrefix(orgs.Records[0].ID, "00D") || orgs.Records[0].IsSandbox == nil {
		t.Errorf("Organization: %+v", orgs)
	}

	var found struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	sosl := "FIND {" + e.Name(1) + "} IN NAME FIELDS RETURNING Contact(Id, LastName)"
	if err := c.Call(ctx, "GET", "search?q="+url.QueryEscape(sosl), nil, &found); err != nil {
		t.Fatalf("search: %v", err)
	}
	// A real org indexes new records for search after a delay.
	if found.SearchRecords == nil || e.Strict() && (len(found.SearchRecords) != 1 || found.SearchRecords[0]["Id"] != id) {
		t.Errorf("search: %+v", found)
	}

	var cv struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	body := map[string]any{"PathOnClient": e.Prefix + ".txt", "Title": e.Name(2), "FirstPublishLocationId": id,
		"VersionData": base64.StdEncoding.EncodeToString([]byte("hello"))}
	if err := c.Call(ctx, "POST", "sobjects/ContentVersion", body, &cv); err != nil {
		t.Fatalf("ContentVersion: %v", err)
	}
	rec, err := c.SObject("ContentVersion").Get(ctx, cv.ID, "ContentDocumentId", "ContentSize", "FileExtension", "IsLatest")
	if err != nil {
		t.Fatalf("get ContentVersion: %v", err)
	}
	doc, _ := rec.String("ContentDocumentId")
	if !strings.HasPrefix(doc, "069") {
		t.Errorf("ContentDocumentId %q", doc)
	}
	if doc != "" {
		t.Cleanup(func() { _ = c.SObject("ContentDocument").Delete(t.Context(), doc) })
	}
	if ext, _ := rec.String("FileExtension"); ext != "txt" {
		t.Errorf("FileExtension %q", ext)
	}
	var links struct {
		TotalSize int `json:"totalSize"`
	}
	if err := c.Call(ctx, "GET", "query?q="+url.QueryEscape("SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '"+doc+"' AND LinkedEntityId = '"+id+"'"), nil, &links); err != nil {
		t.Fatalf("ContentDocumentLink: %v", err)
	}
	if links.TotalSize != 1 {
		t.Errorf("links to the record: %d, want 1", links.TotalSize)
	}
}
