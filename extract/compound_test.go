package extract_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// billing are Account's billing address components, as the emulator describes them.
var billing = []string{"BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry",
	"BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy"}

// TestExpandQuery checks that compound fields (of the FROM object and of parents, and a
// custom geolocation) become their components, that a field named twice is selected once,
// and that queries without compound fields are left as written.
func TestExpandQuery(t *testing.T) {
	t.Parallel()
	schema := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schema, []byte(`{"objects":[{"name":"Account","fields":[{"name":"Loc__c","type":"location"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile(schema))
	c := newClient(t, srv.URL(), srv)
	tests := []struct{ query, want string }{
		{"SELECT Id, BillingAddress, Name FROM Account WHERE Name != null",
			"SELECT Id, " + strings.Join(billing, ", ") + ", Name FROM Account WHERE Name != null"},
		{"SELECT BillingCity, BillingAddress FROM Account", "SELECT " + strings.Join(billing[1:2], ", ") + ", BillingStreet, " + strings.Join(billing[2:], ", ") + " FROM Account"},
		{"SELECT Id, Loc__c FROM Account", "SELECT Id, Loc__Latitude__s, Loc__Longitude__s FROM Account"},
		{"SELECT Id, Account.ShippingAddress FROM Contact",
			"SELECT Id, Account.ShippingStreet, Account.ShippingCity, Account.ShippingState, Account.ShippingPostalCode, Account.ShippingCountry, Account.ShippingLatitude, Account.ShippingLongitude, Account.ShippingGeocodeAccuracy FROM Contact"},
		{"select Id, mailingcity FROM Contact", "select Id, mailingcity FROM Contact"},
		{"SELECT Id FROM Nope__c", "SELECT Id FROM Nope__c"},
	}
	for _, tc := range tests {
		got, err := extract.ExpandQuery(t.Context(), c, tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got != tc.want {
			t.Errorf("ExpandQuery(%s)\n got %s\nwant %s", tc.query, got, tc.want)
		}
	}
}

// TestCompoundColumns reads an address through Bulk API 2.0 (which refuses the compound
// field itself) into Arrow: one column per component, latitude and longitude doubles; the
// plan's columns (what a Spark read declares) and the AllFields list agree.
func TestCompoundColumns(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	if _, err := srv.Insert(t.Context(), "Account",
		map[string]any{"Name": "Acme", "BillingCity": "Paris", "BillingLatitude": 48.8566, "BillingLongitude": 2.3522, "BillingGeocodeAccuracy": "City"},
		map[string]any{"Name": "Globex"}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL(), srv)
	var buf bytes.Buffer
	sum, err := extract.Run(t.Context(), c, extract.Options{Object: "Account", Fields: []string{"Name", "BillingAddress"},
		Where: "Name = 'Acme'", API: extract.APIBulk2, Format: extract.FormatArrow, Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"Name"}, billing...); !cmp.Equal(sum.Columns, want) {
		t.Errorf("columns %v, want %v", sum.Columns, want)
	}
	rd, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var types, values []string
	for _, f := range rd.Schema().Fields() {
		types = append(types, f.Name+":"+f.Type.String())
	}
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := range int(rec.NumCols()) {
			values = append(values, rec.Column(i).ValueStr(0))
		}
	}
	wantTypes := []string{"Name:utf8", "BillingStreet:utf8", "BillingCity:utf8", "BillingState:utf8", "BillingPostalCode:utf8",
		"BillingCountry:utf8", "BillingLatitude:float64", "BillingLongitude:float64", "BillingGeocodeAccuracy:utf8"}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("Arrow schema (-want +got):\n%s", diff)
	}
	wantValues := []string{"Acme", "(null)", "Paris", "(null)", "(null)", "(null)", "48.8566", "2.3522", "City"}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	_, cols, err := extract.ReadColumns(t.Context(), c, extract.Options{Query: "SELECT Id, BillingAddress FROM Account"})
	if err != nil {
		t.Fatal(err)
	}
	var spark []string
	for _, col := range cols {
		spark = append(spark, col.Name+":"+col.Kind.SparkType())
	}
	wantSpark := []string{"Id:string", "BillingStreet:string", "BillingCity:string", "BillingState:string", "BillingPostalCode:string",
		"BillingCountry:string", "BillingLatitude:double", "BillingLongitude:double", "BillingGeocodeAccuracy:string"}
	if diff := cmp.Diff(wantSpark, spark); diff != "" {
		t.Errorf("planned columns (-want +got):\n%s", diff)
	}

	q, all, err := extract.ReadColumns(t.Context(), c, extract.Options{Object: "Account", Fields: []string{"Name", extract.AllFields}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, col := range all {
		names[col.Name] = true
	}
	if !strings.HasPrefix(q, "SELECT Name, Id, IsDeleted,") || len(names) != len(all) || names["BillingAddress"] || names["ShippingAddress"] ||
		!names["BillingLatitude"] || !names["ShippingGeocodeAccuracy"] {
		t.Errorf("all fields: %s", q)
	}
	for row, err := range extract.Rows(t.Context(), c, extract.Options{Object: "Account", Fields: []string{extract.AllFields}, API: extract.APIBulk2}) {
		if err != nil {
			t.Fatalf("reading every field through Bulk API 2.0: %v", err)
		}
		if len(row.Columns) != len(all) {
			t.Errorf("%d columns, want %d", len(row.Columns), len(all))
		}
		break
	}
}
