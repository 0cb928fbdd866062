package extract_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// newOrg starts an emulator with n Contacts (LastName "Last%05d", Email set
// on even rows) and returns a client for it and the ids in insert order.
func newOrg(t *testing.T, n int, opts ...salesforce.Option) (*salesforcetest.Server, *salesforce.Client, []string) {
	t.Helper()
	srv := salesforcetest.New(t)
	recs := make([]map[string]any, n)
	for i := range recs {
		r := map[string]any{"LastName": fmt.Sprintf("Last%05d", i), "FirstName": "F"}
		if i%2 == 0 {
			r["Email"] = fmt.Sprintf("c%d@example.com", i)
		}
		recs[i] = r
	}
	var ids []string
	for chunk := range slices.Chunk(recs, 5000) {
		got, err := srv.Insert(t.Context(), "Contact", chunk...)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	opts = append([]salesforce.Option{salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken())}, opts...)
	c, err := salesforce.New(srv.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, ids
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := sfcsv.NewReader(bytes.NewReader(b), sfcsv.ReaderOptions{})
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

func TestRunBulk2Smoke(t *testing.T) {
	t.Parallel()
	_, c, _ := newOrg(t, 50)
	var out bytes.Buffer
	sum, err := extract.Run(t.Context(), c, extract.Options{
		Query: "SELECT Id, LastName, Email FROM Contact ORDER BY Id", API: extract.APIBulk2,
		Output: &out, PollInterval: 1e6,
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out.Bytes())
	if len(rows) != 51 || sum.Rows != 50 {
		t.Fatalf("got %d lines, %d rows; want 51, 50\n%s", len(rows), sum.Rows, out.String())
	}
	t.Logf("%+v\n%s", sum, out.String()[:200])
	_ = context.Background
}
