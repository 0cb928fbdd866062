package load_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// Record types of emulator/testdata/recordtypes.json.
const (
	rtSMB    = "0125e00000SMB01AAH"
	rtLegacy = "0125e00000OLD01AAH"
)

var recordTypeSchema = salesforcetest.WithSchemaFile(filepath.Join("..", "emulator", "testdata", "recordtypes.json"))

var pickHeader = []string{"Name", "RecordTypeId", "Region__c", "Country__c", "Partner__c", "Partner_Level__c"}

// pickRows and pickWant: rows with record types and picklist values, and the finding each
// bad row must give (row -> column and code).
var pickRows = [][]string{
	{"ok default", "", "EMEA", "France", "false", "None"},
	{"inactive record type", rtLegacy, "", "", "", ""},
	{"outside SMB", rtSMB, "EMEA", "", "", ""},
	{"dependent", "", "AMER", "France", "", ""},
	{"checkbox dependent", "", "EMEA", "", "true", "None"},
	{"ok SMB", rtSMB, "APAC", "Japan", "true", "Silver"},
	{"no such value", "", "Mars", "", "", ""},
	{"ok 15-character id", rtSMB[:15], "APAC", "", "", ""},
	{"outside SMB, dependent", rtSMB, "APAC", "", "true", "Gold"},
	// Salesforce matches picklist values whatever their case (and stores its own spelling).
	{"case differs", rtSMB, "apac", "JAPAN", "TRUE", "silver"},
	{"case differs, outside SMB", rtSMB, "emea", "", "", ""},
}

type finding struct{ column, code string }

var pickWant = map[int64]finding{
	2:  {"RecordTypeId", "INVALID_CROSS_REFERENCE_KEY"},
	3:  {"Region__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
	4:  {"Country__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
	5:  {"Partner_Level__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
	7:  {"Region__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
	9:  {"Partner_Level__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
	11: {"Region__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
}

// pickSources returns the rows as CSV-like rows, JSON Lines and Parquet.
func pickSources(t *testing.T) map[string]func() load.Source {
	t.Helper()
	var jl bytes.Buffer
	for _, r := range pickRows {
		m := map[string]any{}
		for i, h := range pickHeader {
			if r[i] != "" {
				m[h] = r[i]
			}
		}
		b, _ := json.Marshal(m)
		jl.Write(append(b, '\n'))
	}
	type row struct {
		Name         string  `parquet:"Name"`
		RecordTypeID *string `parquet:"RecordTypeId,optional"`
		Region       *string `parquet:"Region__c,optional"`
		Country      *string `parquet:"Country__c,optional"`
		Partner      *string `parquet:"Partner__c,optional"`
		Level        *string `parquet:"Partner_Level__c,optional"`
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	var rows []row
	for _, r := range pickRows {
		rows = append(rows, row{r[0], opt(r[1]), opt(r[2]), opt(r[3]), opt(r[4]), opt(r[5])})
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, rows); err != nil {
		t.Fatal(err)
	}
	return map[string]func() load.Source{
		"csv": func() load.Source { return src(pickHeader, pickRows) },
		"jsonl": func() load.Source {
			s, err := load.JSONLSource(bytes.NewReader(jl.Bytes()), "rows.jsonl", load.JSONLOptions{Header: pickHeader})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"parquet": func() load.Source {
			s, err := load.ParquetSource(bytes.NewReader(pq.Bytes()), int64(pq.Len()), "rows.parquet")
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// TestPreflightRecordTypesAndPicklists: a dry run finds, per row, a record type that is not
// the object's, values outside the row's record type (values from the UI API) and dependent
// values not valid for their controlling value, on every input format; a load fails exactly
// those rows unsent; and the emulator, without the preflight, rejects the same rows with the
// same codes.
func TestPreflightRecordTypesAndPicklists(t *testing.T) {
	t.Parallel()
	for name, open := range pickSources(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, c := emulator(t, recordTypeSchema)
			_, err := load.New(c).Load(t.Context(), open(), nil, quick(load.Options{Object: "Account", DryRun: true, Preflight: load.PreflightRequired}))
			var pe *load.PreflightError
			if !errors.As(err, &pe) {
				t.Fatalf("dry run: %v", err)
			}
			got := map[int64]finding{}
			for _, p := range pe.Problems {
				if _, dup := got[p.Row]; dup {
					t.Errorf("second finding for row %d: %v", p.Row, p)
				}
				got[p.Row] = finding{p.Column, p.Code}
			}
			if fmt.Sprint(got) != fmt.Sprint(pickWant) {
				t.Errorf("findings %v\nwant %v\n%v", got, pickWant, pe.Problems)
			}
		})
	}
	for _, preflight := range []load.Preflight{load.PreflightRequired, load.PreflightOff} {
		t.Run(fmt.Sprint("load/preflight=", preflight), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t, recordTypeSchema)
			res := newResults(t)
			sum, err := load.New(c).Load(t.Context(), src(pickHeader, pickRows), res, quick(load.Options{Object: "Account", Preflight: preflight}))
			if err != nil {
				t.Fatal(err)
			}
			res.check(len(pickRows))
			for i := int64(1); i <= int64(len(pickRows)); i++ {
				r := res.byRow[i]
				w, bad := pickWant[i]
				switch {
				case bad && (r.Outcome != load.Failed || r.Error == nil || r.Error.StatusCode != w.code || !slices.Contains(r.Error.Fields, w.column)):
					t.Errorf("row %d: %+v %+v, want %v", i, r.Outcome, r.Error, w)
				case !bad && r.Outcome != load.Succeeded:
					t.Errorf("row %d: %v %+v", i, r.Outcome, r.Error)
				}
			}
			if want := len(pickRows) - len(pickWant); sum.Succeeded != int64(want) || srv.Count("Account") != want {
				t.Errorf("summary %+v, org has %d accounts", sum, srv.Count("Account"))
			}
			// The row written in other cases holds the picklists' own spelling.
			rec, err := srv.Get(t.Context(), "Account", res.byRow[10].ID, "Region__c", "Country__c", "Partner_Level__c")
			if err != nil || rec["Region__c"] != "APAC" || rec["Country__c"] != "Japan" || rec["Partner_Level__c"] != "Silver" {
				t.Errorf("row 10 stored as %v (%v), want APAC, Japan, Silver", rec, err)
			}
		})
	}
}

// TestPreflightRecordTypeDeveloperName: a RecordType.DeveloperName column names the record
// type among the object's, and its values are checked against that record type.
func TestPreflightRecordTypeDeveloperName(t *testing.T) {
	t.Parallel()
	srv, c := emulator(t, recordTypeSchema)
	header := []string{"Name", "RecordType.DeveloperName", "Region__c"}
	rows := [][]string{{"a", "SMB", "APAC"}, {"b", "Nope", "APAC"}, {"c", "smb", "EMEA"}, {"d", "Legacy", ""}, {"e", "Enterprise", "AMER"}}
	_, err := load.New(c).Load(t.Context(), src(header, rows), nil, quick(load.Options{Object: "Account", DryRun: true, Preflight: load.PreflightRequired}))
	var pe *load.PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("dry run: %v", err)
	}
	var got []string
	for _, p := range pe.Problems {
		got = append(got, fmt.Sprintf("%d %s %s", p.Row, p.Column, p.Code))
	}
	want := []string{"2 RecordType.DeveloperName INVALID_FIELD", "3 Region__c INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "4 RecordType.DeveloperName INVALID_FIELD"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	res := newResults(t)
	sum, err := load.New(c).Load(t.Context(), src(header, rows), res, quick(load.Options{Object: "Account"}))
	if err != nil {
		t.Fatal(err)
	}
	res.check(len(rows))
	if sum.Succeeded != 2 || srv.Count("Account") != 2 {
		t.Errorf("summary %+v", sum)
	}
	rec, err := srv.Get(t.Context(), "Account", res.byRow[1].ID, "RecordTypeId")
	if err != nil || rec["RecordTypeId"] != rtSMB {
		t.Errorf("row 1 record type %v (%v)", rec["RecordTypeId"], err)
	}
}
