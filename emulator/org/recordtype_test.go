package org

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	rtEnterprise = "0125e00000ENT01AAH"
	rtSMB        = "0125e00000SMB01AAH"
	rtLegacy     = "0125e00000OLD01AAH"
)

func recordTypeSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := LoadSchemaFile(filepath.Join("..", "testdata", "recordtypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecordTypesSchema(t *testing.T) {
	t.Parallel()
	s := recordTypeSchema(t)
	acc, _ := s.Object("Account")
	if len(acc.RecordTypes) != 3 || acc.DefaultRecordType().ID != rtEnterprise {
		t.Fatalf("record types %+v, default %+v", acc.RecordTypes, acc.DefaultRecordType())
	}
	if f, ok := acc.Field("RecordTypeId"); !ok || f.Type != TypeReference || f.ReferenceTo[0] != "RecordType" || f.RelationshipName != "RecordType" {
		t.Errorf("RecordTypeId: %+v", f)
	}
	region, _ := acc.Field("Region__c")
	smb, _ := acc.RecordType(rtSMB[:15])
	if got := smb.Values(region); !slices.Equal(got, []string{"APAC"}) {
		t.Errorf("SMB Region__c values %v", got)
	}
	if got := (*RecordType)(nil).Values(region); len(got) != 3 {
		t.Errorf("master Region__c values %v", got)
	}
	con, _ := s.Object("Contact")
	if _, ok := con.Field("RecordTypeId"); ok || len(con.RecordTypes) != 0 {
		t.Errorf("Contact gained record types")
	}
}

func TestEncodeValidFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		idx  []int
		n    int
		want string
	}{
		{[]int{0}, 3, "gA=="},    // 1000 0000
		{[]int{1}, 2, "QA=="},    // 0100 0000
		{[]int{0, 2}, 3, "oA=="}, // 1010 0000
		{[]int{}, 3, "AA=="},
		{[]int{8}, 9, "AIA="}, // second byte, first bit
		{[]int{7, 9}, 12, "AUA="},
	} {
		if got := EncodeValidFor(tc.idx, tc.n); got != tc.want {
			t.Errorf("EncodeValidFor(%v, %d) = %q, want %q", tc.idx, tc.n, got, tc.want)
		}
	}
	s := recordTypeSchema(t)
	acc, _ := s.Object("Account")
	country, _ := acc.Field("Country__c")
	region, _ := acc.Field("Region__c")
	if got := country.ValidForIndexes(region, "Canada"); !slices.Equal(got, []int{1}) {
		t.Errorf("Canada valid for %v", got)
	}
	level, _ := acc.Field("Partner_Level__c")
	partner, _ := acc.Field("Partner__c")
	if got := level.ValidForIndexes(partner, "Gold"); !slices.Equal(got, []int{1}) {
		t.Errorf("Gold valid for %v", got)
	}
}

func TestRecordTypeWrites(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, recordTypeSchema(t))
	for _, tc := range []struct {
		name   string
		fields map[string]any
		code   string
		field  string
		wantRT string
	}{
		{"default record type", map[string]any{"Name": "a", "Region__c": "EMEA"}, "", "", rtEnterprise},
		{"value of the record type", map[string]any{"Name": "a", "RecordTypeId": rtSMB, "Region__c": "apac"}, "", "", rtSMB},
		{"value outside the record type", map[string]any{"Name": "a", "RecordTypeId": rtSMB, "Region__c": "EMEA"}, CodeRestrictedPicklist, "Region__c", ""},
		{"value outside the default record type", map[string]any{"Name": "a", "Region__c": "APAC"}, CodeRestrictedPicklist, "Region__c", ""},
		{"value of no record type", map[string]any{"Name": "a", "Region__c": "Mars"}, CodeRestrictedPicklist, "Region__c", ""},
		{"inactive record type", map[string]any{"Name": "a", "RecordTypeId": rtLegacy}, CodeInvalidCrossReference, "RecordTypeId", ""},
		{"record type of nothing", map[string]any{"Name": "a", "RecordTypeId": "0125e00000XXX01AAH"}, CodeInvalidCrossReference, "RecordTypeId", ""},
		{"dependent value valid", map[string]any{"Name": "a", "Region__c": "AMER", "Country__c": "Canada"}, "", "", rtEnterprise},
		{"dependent value invalid", map[string]any{"Name": "a", "Region__c": "AMER", "Country__c": "France"}, CodeRestrictedPicklist, "Country__c", ""},
		{"dependent without controller", map[string]any{"Name": "a", "Country__c": "France"}, CodeRestrictedPicklist, "Country__c", ""},
		{"checkbox controller true", map[string]any{"Name": "a", "Partner__c": true, "Partner_Level__c": "Gold"}, "", "", rtEnterprise},
		{"checkbox controller false", map[string]any{"Name": "a", "Partner_Level__c": "Gold"}, CodeRestrictedPicklist, "Partner_Level__c", ""},
		{"checkbox controller, value outside the record type", map[string]any{"Name": "a", "RecordTypeId": rtSMB, "Partner__c": "true", "Partner_Level__c": "Gold"}, CodeRestrictedPicklist, "Partner_Level__c", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Account", Fields: tc.fields})
			if tc.code == "" {
				if !r.Success {
					t.Fatalf("insert failed: %+v", r.Errors)
				}
				rec, err := o.Get(t.Context(), "Account", r.ID, []string{"RecordTypeId"})
				if err != nil || rec["RecordTypeId"] != tc.wantRT {
					t.Errorf("RecordTypeId %v (%v), want %s", rec["RecordTypeId"], err, tc.wantRT)
				}
				return
			}
			if r.Success || r.Errors[0].StatusCode != tc.code || !slices.Equal(r.Errors[0].Fields, []string{tc.field}) {
				t.Fatalf("got %+v, want %s on %s", r, tc.code, tc.field)
			}
			if tc.code == CodeRestrictedPicklist && !strings.Contains(r.Errors[0].Message, "bad value for restricted picklist field") {
				t.Errorf("message %q", r.Errors[0].Message)
			}
		})
	}
	// An update checks the record's record type, and a controller change its dependents.
	id := mustInsert(t, o, "Account", map[string]any{"Name": "u", "RecordTypeId": rtSMB, "Region__c": "APAC", "Country__c": "Japan"})[0]
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Account", ID: id, Fields: map[string]any{"Region__c": "AMER"}}); r.Success || r.Errors[0].Fields[0] != "Region__c" {
		t.Errorf("update to a value outside the record type: %+v", r)
	}
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Account", ID: id, Fields: map[string]any{"RecordTypeId": rtEnterprise, "Region__c": "AMER"}}); r.Success || r.Errors[0].Fields[0] != "Country__c" {
		t.Errorf("controller change leaving Japan under AMER: %+v", r)
	}
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Account", ID: id, Fields: map[string]any{"RecordTypeId": rtEnterprise, "Region__c": "AMER", "Country__c": "USA"}}); !r.Success {
		t.Errorf("valid change: %+v", r.Errors)
	}
}

func TestRecordTypeQuery(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, recordTypeSchema(t))
	got := queryColumn(t, o, "SELECT Id, DeveloperName, IsActive FROM RecordType WHERE SobjectType = 'Account' ORDER BY DeveloperName", 1)
	if diff := cmp.Diff([]string{"Enterprise", "Legacy", "SMB"}, got); diff != "" {
		t.Errorf("record types (-want +got):\n%s", diff)
	}
	id := mustInsert(t, o, "Account", map[string]any{"Name": "q", "RecordTypeId": rtSMB})[0]
	if got := queryColumn(t, o, "SELECT RecordType.DeveloperName FROM Account WHERE Id = '"+id+"'", 0); !slices.Equal(got, []string{"SMB"}) {
		t.Errorf("RecordType.DeveloperName = %v", got)
	}
	// A relationship key sets the record type by developer name, like Data Loader's
	// RecordType.DeveloperName column.
	r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "r", "RecordType.DeveloperName": "SMB", "Region__c": "APAC"}})
	if !r.Success {
		t.Errorf("insert by RecordType.DeveloperName: %+v", r.Errors)
	}
}

func TestRecordTypeSchemaErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"objects":[{"name":"Account","recordTypes":[{"developerName":"A","default":true},{"developerName":"B","default":true}]}]}`, "more than one default"},
		{`{"objects":[{"name":"Account","recordTypes":[{"developerName":"A","picklistValues":{"Name":["x"]}}]}]}`, "not a picklist"},
		{`{"objects":[{"name":"Account","recordTypes":[{"developerName":"A","picklistValues":{"Rating":["Lukewarm"]}}]}]}`, "not a value"},
		{`{"objects":[{"name":"Account","recordTypes":[{"id":"001000000000001","developerName":"A"}]}]}`, "not a record type id"},
		{`{"objects":[{"name":"Account","fields":[{"name":"D__c","type":"picklist","values":["x"],"controllerName":"Name"}]}]}`, "not a picklist or checkbox"},
		{`{"objects":[{"name":"Account","fields":[{"name":"D__c","type":"picklist","values":["x"],"controllerName":"Rating","validFor":{"x":["Tepid"]}}]}]}`, "controlling value"},
	} {
		if _, err := parseSchema([]byte(tc.body), "t"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.body, err, tc.want)
		}
	}
}
