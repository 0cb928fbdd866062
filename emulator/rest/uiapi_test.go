package rest

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
)

const (
	rtEnterprise = "0125e00000ENT01AAH"
	rtSMB        = "0125e00000SMB01AAH"
)

func newRecordTypeEnv(t *testing.T) *env {
	t.Helper()
	s, err := org.LoadSchemaFile(filepath.Join("..", "testdata", "recordtypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvSchema(t, s)
}

// TestUIAPIPicklistValues checks the UI API's picklist values against golden files in the
// shapes of Salesforce's documentation (Picklist Values, Picklist Values Collection).
func TestUIAPIPicklistValues(t *testing.T) {
	t.Parallel()
	e := newRecordTypeEnv(t)
	base := "/services/data/v62.0/ui-api/object-info/Account/picklist-values/"
	for _, tc := range []struct{ path, file string }{
		{base + org.MasterRecordTypeID + "/Rating", "uiapi-picklist-master-rating.json"},
		{base + rtSMB + "/Region__c", "uiapi-picklist-smb-region.json"},
		{base + rtEnterprise + "/Country__c", "uiapi-picklist-enterprise-country.json"},
		{base + rtEnterprise + "/Partner_Level__c", "uiapi-picklist-enterprise-partner-level.json"},
		{base + rtEnterprise + "/Segment__c", "uiapi-picklist-enterprise-segment.json"},
	} {
		r := e.do(http.MethodGet, tc.path, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", tc.path, r.status, r.body)
		}
		golden(t, tc.file, r.body)
	}
	var all struct {
		ETag                string                    `json:"eTag"`
		PicklistFieldValues map[string]map[string]any `json:"picklistFieldValues"`
	}
	e.json(e.do(http.MethodGet, base+rtSMB, ""), &all)
	// Account's picklists: Industry, Type and Rating, the schema file's four, and the geocode
	// accuracy of its two addresses.
	if all.ETag == "" || len(all.PicklistFieldValues) != 9 {
		t.Errorf("collection: eTag %q, %d fields", all.ETag, len(all.PicklistFieldValues))
	}
	if v := all.PicklistFieldValues["Region__c"]["values"].([]any); len(v) != 1 {
		t.Errorf("SMB Region__c values %v", v)
	}
	for _, p := range []string{
		base + "0125e00000XXX01AAH/Region__c", // no such record type
		base + rtSMB + "/Name",                // not a picklist
		base + rtSMB + "/Nope__c",
		"/services/data/v62.0/ui-api/object-info/Nope__c/picklist-values/" + org.MasterRecordTypeID,
		"/services/data/v62.0/ui-api/object-info/Contact/picklist-values/" + rtSMB, // Account's record type
	} {
		if r := e.do(http.MethodGet, p, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	if r := e.do(http.MethodPost, base+rtSMB, "{}"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.status)
	}
}

// TestDescribeRecordTypes checks describe's recordTypeInfos and dependent picklists.
func TestDescribeRecordTypes(t *testing.T) {
	t.Parallel()
	e := newRecordTypeEnv(t)
	var d struct {
		RecordTypeInfos []map[string]any `json:"recordTypeInfos"`
		Fields          []map[string]any `json:"fields"`
	}
	e.json(e.do(http.MethodGet, "/services/data/v62.0/sobjects/Account/describe", ""), &d)
	golden(t, "describe-account-recordtypeinfos.json", jsonString(t, d.RecordTypeInfos))
	var fields []map[string]any
	for _, f := range d.Fields {
		switch f["name"] {
		case "Country__c", "Partner_Level__c", "Region__c":
			fields = append(fields, map[string]any{"name": f["name"], "controllerName": f["controllerName"],
				"dependentPicklist": f["dependentPicklist"], "restrictedPicklist": f["restrictedPicklist"], "picklistValues": f["picklistValues"]})
		}
	}
	golden(t, "describe-account-dependent-picklists.json", jsonString(t, fields))
	// An object without record types lists the master one, as Salesforce does.
	var c struct {
		RecordTypeInfos []map[string]any `json:"recordTypeInfos"`
	}
	e.json(e.do(http.MethodGet, "/services/data/v62.0/sobjects/Contact/describe", ""), &c)
	golden(t, "describe-contact-recordtypeinfos.json", jsonString(t, c.RecordTypeInfos))
	var q struct {
		TotalSize int `json:"totalSize"`
	}
	e.json(e.do(http.MethodGet, "/services/data/v62.0/query?q=SELECT+Id+FROM+RecordType+WHERE+SobjectType='Account'+AND+IsActive=true", ""), &q)
	if q.TotalSize != 2 {
		t.Errorf("active Account record types: %d", q.TotalSize)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
