package extract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

const typedQuery = "SELECT Id, LastName, DoNotCall, Birthdate, CreatedDate, Account.Name, Account.NumberOfEmployees, Account.AnnualRevenue, Email FROM Contact ORDER BY Id"

// typedOrg holds two Contacts: one with every typed field set (and a name
// that needs escaping), one with nulls.
func typedOrg(t *testing.T) (*salesforcetest.Server, []string) {
	t.Helper()
	srv := salesforcetest.New(t)
	ctx := t.Context()
	aids, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Acme \"Q\"", "NumberOfEmployees": 42, "AnnualRevenue": 1234.5})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := srv.Insert(ctx, "Contact",
		map[string]any{"LastName": "O'Neil, \"Jr\"\nline2 é", "DoNotCall": true, "Birthdate": "1990-02-28", "AccountId": aids[0], "Email": "a@example.com"},
		map[string]any{"LastName": "Null", "DoNotCall": false},
	)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ids
}

func TestRunJSONLTypes(t *testing.T) {
	t.Parallel()
	srv, ids := typedOrg(t)
	c := newClient(t, srv.URL(), srv)
	for _, api := range []extract.API{extract.APIBulk2, extract.APIBulk1, extract.APIREST} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			_, err := extract.Run(t.Context(), c, fast(extract.Options{Query: typedQuery, API: api, Format: extract.FormatJSONL, Output: &out}))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
			}
			var got []map[string]any
			for _, l := range lines {
				d := json.NewDecoder(strings.NewReader(l))
				d.UseNumber()
				var m map[string]any
				if err := d.Decode(&m); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				created, ok := m["CreatedDate"].(string)
				if _, err := time.Parse("2006-01-02T15:04:05.000Z", created); !ok || err != nil {
					t.Errorf("CreatedDate %v is not a Salesforce datetime string", m["CreatedDate"])
				}
				delete(m, "CreatedDate")
				got = append(got, m)
			}
			want := []map[string]any{
				{"Id": ids[0], "LastName": "O'Neil, \"Jr\"\nline2 é", "DoNotCall": true, "Birthdate": "1990-02-28",
					"Account.Name": "Acme \"Q\"", "Account.NumberOfEmployees": json.Number("42"), "Account.AnnualRevenue": json.Number("1234.5"), "Email": "a@example.com"},
				{"Id": ids[1], "LastName": "Null", "DoNotCall": false, "Birthdate": nil,
					"Account.Name": nil, "Account.NumberOfEmployees": nil, "Account.AnnualRevenue": nil, "Email": nil},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON lines (-want +got):\n%s", diff)
			}
			// Keys are in SELECT order.
			if !strings.HasPrefix(lines[0], `{"Id":`) || !strings.Contains(lines[0], `"DoNotCall":true,"Birthdate":"1990-02-28"`) {
				t.Errorf("line not in column order: %s", lines[0])
			}
		})
	}
}

func TestRunParquet(t *testing.T) {
	t.Parallel()
	srv, ids := typedOrg(t)
	c := newClient(t, srv.URL(), srv)
	for _, api := range []extract.API{extract.APIBulk2, extract.APIREST} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			_, err := extract.Run(t.Context(), c, fast(extract.Options{Query: typedQuery, API: api, Format: extract.FormatParquet, Output: &out}))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parquet.OpenFile(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if f.NumRows() != 2 {
				t.Fatalf("NumRows = %d, want 2", f.NumRows())
			}
			types := map[string]string{}
			for _, fl := range f.Schema().Fields() {
				types[fl.Name()] = fmt.Sprintf("%v optional=%v", fl.Type(), fl.Optional())
			}
			wantTypes := map[string]string{
				"Id": "STRING optional=true", "LastName": "STRING optional=true", "DoNotCall": "BOOLEAN optional=true",
				"Birthdate": "DATE optional=true", "CreatedDate": "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS) optional=true",
				"Account.Name": "STRING optional=true", "Account.NumberOfEmployees": "INT(64,true) optional=true",
				"Account.AnnualRevenue": "DOUBLE optional=true", "Email": "STRING optional=true",
			}
			if diff := cmp.Diff(wantTypes, types); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
			r := parquet.NewReader(bytes.NewReader(out.Bytes()))
			defer r.Close()
			rows := make([]parquet.Row, 2)
			n, _ := r.ReadRows(rows)
			if n != 2 {
				t.Fatalf("read %d rows", n)
			}
			cols := f.Schema().Columns()
			get := func(row parquet.Row, name string) parquet.Value {
				for i, p := range cols {
					if strings.Join(p, ".") == name {
						for _, v := range row {
							if v.Column() == i {
								return v
							}
						}
					}
				}
				t.Fatalf("no column %s", name)
				return parquet.Value{}
			}
			r0, r1 := rows[0], rows[1]
			if got := string(get(r0, "Id").ByteArray()); got != ids[0] {
				t.Errorf("Id = %q, want %q", got, ids[0])
			}
			if !get(r0, "DoNotCall").Boolean() || get(r1, "DoNotCall").Boolean() {
				t.Error("DoNotCall values wrong")
			}
			if got := get(r0, "Birthdate").Int32(); got != int32(time.Date(1990, 2, 28, 0, 0, 0, 0, time.UTC).Unix()/86400) {
				t.Errorf("Birthdate = %d days", got)
			}
			if got := get(r0, "Account.NumberOfEmployees").Int64(); got != 42 {
				t.Errorf("NumberOfEmployees = %d", got)
			}
			if got := get(r0, "Account.AnnualRevenue").Double(); got != 1234.5 {
				t.Errorf("AnnualRevenue = %v", got)
			}
			if ms := get(r0, "CreatedDate").Int64(); time.Since(time.UnixMilli(ms)).Abs() > 24*time.Hour {
				t.Errorf("CreatedDate = %d ms, not near now", ms)
			}
			for _, name := range []string{"Birthdate", "Account.Name", "Account.NumberOfEmployees", "Email"} {
				if !get(r1, name).IsNull() {
					t.Errorf("row 2 %s is not null", name)
				}
			}
		})
	}
}
