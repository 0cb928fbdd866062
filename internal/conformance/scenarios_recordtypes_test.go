package conformance

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// recordTypeSchema is the emulator schema file with Account record types and dependent
// picklists (emulator/testdata/recordtypes.json).
var recordTypeSchema = filepath.Join("..", "..", "emulator", "testdata", "recordtypes.json")

// recordTypeClient returns a client of an org with record types: on the emulator, one of its
// own started with recordTypeSchema; a real org as it is.
func recordTypeClient(t *testing.T, e *Env) *salesforce.Client {
	t.Helper()
	if e.Emulator == nil {
		return e.Client
	}
	srv := salesforcetest.New(t, salesforcetest.WithSeed(1), salesforcetest.WithSchemaFile(recordTypeSchema))
	cr := srv.Credentials()
	c, err := salesforce.Login(t.Context(), salesforce.LoginConfig{
		LoginURL: srv.LoginURL(), HTTPClient: srv.Client(),
		Username: cr.Username, Password: cr.Password, SecurityToken: cr.SecurityToken,
	}, salesforce.WithRetry(emulatorRetry()))
	if err != nil {
		t.Fatalf("logging in to the emulator: %v", err)
	}
	return c
}

// testRecordTypesPicklists: describe lists record types with the master one, the UI API serves
// picklist values per record type in Salesforce's shape, RecordType is queryable, and (on the
// emulator's schema) writes enforce restricted picklists per record type and dependent values.
func testRecordTypesPicklists(t *testing.T, e *Env) {
	ctx := t.Context()
	c := recordTypeClient(t, e)
	d, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatalf("Describe(Account): %v", err)
	}
	master := false
	for _, rt := range d.RecordTypeInfos {
		if rt.Master {
			master = rt.RecordTypeID == salesforce.MasterRecordTypeID
		}
	}
	if len(d.RecordTypeInfos) > 0 && !master {
		t.Errorf("recordTypeInfos without the master record type: %+v", d.RecordTypeInfos)
	}
	// Master values on the UI API are describe's values.
	all, err := c.PicklistValuesByRecordType(ctx, "Account", salesforce.MasterRecordTypeID)
	if err != nil {
		t.Fatalf("PicklistValuesByRecordType(master): %v", err)
	}
	rating, ok := all.PicklistFieldValues["Rating"]
	f, _ := d.Field("Rating")
	if !ok || f == nil || len(rating.Values) != len(f.PicklistValues) || rating.ETag == "" || all.ETag == "" {
		t.Fatalf("Rating on the UI API: %+v, describe %+v", rating, f)
	}
	if !strings.HasSuffix(rating.URL, "/ui-api/object-info/Account/picklist-values/"+salesforce.MasterRecordTypeID+"/Rating") {
		t.Errorf("url %q", rating.URL)
	}
	if len(rating.ControllerValues) != 0 || len(rating.Values[0].ValidFor) != 0 {
		t.Errorf("independent picklist with controller values: %+v", rating)
	}
	for _, err := range c.Query(ctx, "SELECT Id, DeveloperName, SobjectType, IsActive FROM RecordType LIMIT 5") {
		if err != nil {
			t.Errorf("query RecordType: %v", err)
		}
	}
	if e.Emulator == nil {
		return // the rest needs the emulator's schema
	}

	const smb, legacy = "0125e00000SMB01AAH", "0125e00000OLD01AAH"
	smbValues, err := c.PicklistValuesByRecordType(ctx, "Account", smb)
	if err != nil {
		t.Fatalf("PicklistValuesByRecordType(SMB): %v", err)
	}
	if got := smbValues.PicklistFieldValues["Region__c"].Values; len(got) != 1 || got[0].Value != "APAC" {
		t.Errorf("SMB Region__c: %+v", got)
	}
	country := smbValues.PicklistFieldValues["Country__c"]
	if country.ControllerValues["AMER"] != 1 {
		t.Errorf("Country__c controllerValues %v", country.ControllerValues)
	}
	for _, v := range country.Values {
		if v.Value == "Canada" && !slices.Equal(v.ValidFor, []int{1}) {
			t.Errorf("Canada validFor %v", v.ValidFor)
		}
	}
	if lvl := smbValues.PicklistFieldValues["Partner_Level__c"]; lvl.ControllerValues["true"] != 1 || lvl.ControllerValues["false"] != 0 {
		t.Errorf("checkbox controllerValues %v", lvl.ControllerValues)
	}
	// Describe's validFor bitset agrees with the UI API's indexes.
	cf, _ := d.Field("Country__c")
	if !cf.DependentPicklist || cf.ControllerName != "Region__c" {
		t.Errorf("Country__c: dependent %v controller %q", cf.DependentPicklist, cf.ControllerName)
	}
	for _, p := range cf.PicklistValues {
		if p.Value == "Canada" && (!p.ValidForIndex(1) || p.ValidForIndex(0) || p.ValidForIndex(2)) {
			t.Errorf("Canada validFor %q", p.ValidFor)
		}
	}

	accounts := c.SObject("Account")
	for _, w := range []struct {
		fields map[string]any
		code   string
	}{
		{map[string]any{"Name": e.Name(1), "RecordTypeId": smb, "Region__c": "APAC", "Country__c": "Japan"}, ""},
		{map[string]any{"Name": e.Name(2), "RecordTypeId": smb, "Region__c": "EMEA"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{map[string]any{"Name": e.Name(3), "Region__c": "AMER", "Country__c": "France"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{map[string]any{"Name": e.Name(4), "RecordTypeId": legacy}, "INVALID_CROSS_REFERENCE_KEY"},
		{map[string]any{"Name": e.Name(5), "Partner__c": true, "Partner_Level__c": "Gold"}, ""},
	} {
		id, err := accounts.Create(ctx, w.fields)
		switch {
		case w.code == "" && err != nil:
			t.Errorf("create %v: %v", w.fields, err)
		case w.code != "" && !salesforce.IsErrorCode(err, w.code):
			t.Errorf("create %v: %v (id %q), want %s", w.fields, err, id, w.code)
		}
	}
	n := 0
	for rec, err := range c.Query(ctx, "SELECT RecordType.DeveloperName FROM Account WHERE Name = '"+e.Name(5)+"'") {
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		n++
		if got, _ := rec.Get("RecordType.DeveloperName"); got != "Enterprise" {
			t.Errorf("default record type: %v", got)
		}
	}
	if n != 1 {
		t.Errorf("%d accounts named %s", n, e.Name(5))
	}
}

// testPicklistValueCase: a picklist value written in another case matches the picklist's
// value and is stored with the picklist's spelling (Contact.LeadSource, unrestricted: "web"
// reads back "Web"); on the emulator's record type schema the same holds for a restricted
// picklist and a restricted dependent one, checked against the record type's values.
func testPicklistValueCase(t *testing.T, e *Env) {
	ctx := t.Context()
	e.CleanupContacts(t)
	id, err := e.Client.SObject("Contact").Create(ctx, map[string]any{"LastName": e.Name(1), "LeadSource": "web"})
	if err != nil {
		t.Fatalf("create with LeadSource web: %v", err)
	}
	rec, err := e.Client.SObject("Contact").Get(ctx, id, "LeadSource")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got, _ := rec.String("LeadSource"); got != "Web" {
		t.Errorf("LeadSource written as web reads back %q, want Web", got)
	}
	if e.Emulator == nil {
		return // the rest needs the emulator's record type schema
	}
	c := recordTypeClient(t, e)
	const smb = "0125e00000SMB01AAH"
	accounts := c.SObject("Account")
	id, err = accounts.Create(ctx, map[string]any{"Name": e.Name(1), "RecordTypeId": smb, "Region__c": "apac", "Country__c": "JAPAN"})
	if err != nil {
		t.Fatalf("create with restricted values in another case: %v", err)
	}
	rec, err = accounts.Get(ctx, id, "Region__c", "Country__c")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if r, _ := rec.String("Region__c"); r != "APAC" {
		t.Errorf("Region__c reads back %q, want APAC", r)
	}
	if cn, _ := rec.String("Country__c"); cn != "Japan" {
		t.Errorf("Country__c reads back %q, want Japan", cn)
	}
	if _, err := accounts.Create(ctx, map[string]any{"Name": e.Name(2), "RecordTypeId": smb, "Region__c": "emea"}); !salesforce.IsErrorCode(err, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") {
		t.Errorf("emea outside the SMB record type: %v, want INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", err)
	}
}
