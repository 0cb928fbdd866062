package conformance

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
)

// testCompoundFields: Account's BillingAddress is a compound field (type address) whose
// components name it in compoundFieldName; REST queries return it nested; a Bulk API 2.0
// query cannot select it (the job create is refused, or the job fails); an export that names
// it reads the components, each a column of its own.
func testCompoundFields(t *testing.T, e *Env) {
	e.CleanupAccounts(t)
	ctx := t.Context()
	d, err := e.Client.Describe(ctx, "Account")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	addr, ok := d.Field("BillingAddress")
	if !ok || addr.Type != "address" || addr.Createable || !addr.Compound() {
		t.Fatalf("BillingAddress: %+v", addr)
	}
	var parts []string
	for _, f := range d.Fields {
		if f.CompoundFieldName == "BillingAddress" {
			parts = append(parts, f.Name)
		}
	}
	for _, want := range []string{"BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy"} {
		if !slices.Contains(parts, want) {
			t.Errorf("%s is not listed as a component of BillingAddress (components %v)", want, parts)
		}
	}
	if lat, _ := d.Field("BillingLatitude"); lat == nil || lat.Type != "double" {
		t.Errorf("BillingLatitude: %+v", lat)
	}
	id, err := e.Client.SObject("Account").Create(ctx, map[string]any{"Name": e.Name(1), "BillingCity": "Paris", "BillingLatitude": 48.8566})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	where := " FROM Account WHERE Name LIKE " + e.Like()

	for rec, err := range e.Client.Query(ctx, "SELECT Id, BillingAddress"+where) {
		if err != nil {
			t.Fatalf("REST query of BillingAddress: %v", err)
		}
		v, _ := rec.Get("BillingAddress")
		var city any
		switch a := v.(type) {
		case salesforce.Record:
			city, _ = a.Get("city")
		case map[string]any:
			city = a["city"]
		}
		if rec.ID() != id || city != "Paris" {
			t.Errorf("REST BillingAddress %#v, want a nested value with city Paris", v)
		}
	}

	job, err := e.Client.Bulk2.CreateQueryJob(ctx, salesforce.QueryJobRequest{Query: "SELECT Id, BillingAddress" + where})
	var apiErr *salesforce.APIError
	switch {
	case err == nil:
		// Salesforce may accept the job and fail it.
		t.Cleanup(func() { _ = e.Client.Bulk2.DeleteQueryJob(context.Background(), job.ID) })
		if e.Strict() {
			t.Errorf("the emulator accepted a Bulk API 2.0 query of a compound field")
		}
		e.WaitFor(t, "query job", func(ctx context.Context) (bool, error) {
			j, err := e.Client.Bulk2.GetQueryJob(ctx, job.ID)
			if err == nil {
				job = j
			}
			return err == nil && j.Terminal(), err
		})
		if job.State != salesforce.JobStateFailed {
			t.Errorf("a Bulk API 2.0 query of BillingAddress ended %s, want Failed", job.State)
		}
	case !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(err.Error(), "compound"):
		t.Errorf("a Bulk API 2.0 query of BillingAddress: %v, want 400 naming compound data", err)
	}

	var out bytes.Buffer
	sum, err := extract.Run(ctx, e.Client, extract.Options{Query: "SELECT Id, BillingAddress" + where, API: extract.APIBulk2,
		Output: &out, PollInterval: e.PollMin, MaxPollInterval: e.PollMax, TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("export of BillingAddress: %v", err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 2 || sum.Rows != 1 {
		t.Fatalf("export: %v rows %d: %v", err, sum.Rows, recs)
	}
	got := map[string]string{}
	for i, c := range recs[0] {
		got[c] = recs[1][i]
	}
	if got["Id"] != id || got["BillingCity"] != "Paris" || !strings.HasPrefix(got["BillingLatitude"], "48.8566") || slices.Contains(recs[0], "BillingAddress") {
		t.Errorf("export columns %v row %v", recs[0], recs[1])
	}
	if want := fmt.Sprint(append([]string{"Id"}, parts...)); fmt.Sprint(recs[0]) != want {
		t.Errorf("export header %v, want %s", recs[0], want)
	}
}
