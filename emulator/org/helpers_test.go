package org

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newOrg(t *testing.T, schema *Schema) (*Org, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	o, err := New(Options{Schema: schema, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o, clk
}

func customSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := LoadSchemaFile(filepath.Join("testdata", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustInsert inserts records of one object and returns their ids.
func mustInsert(t *testing.T, o *Org, object string, rows ...map[string]any) []string {
	t.Helper()
	reqs := make([]WriteRequest, len(rows))
	for i, r := range rows {
		reqs[i] = WriteRequest{Op: OpInsert, Object: object, Fields: r}
	}
	res := o.Write(t.Context(), "", reqs, false)
	ids := make([]string, len(res))
	for i, r := range res {
		if !r.Success {
			t.Fatalf("insert %s %v: %+v", object, rows[i], r.Errors)
		}
		ids[i] = r.ID
	}
	return ids
}

func writeOne(t *testing.T, o *Org, req WriteRequest) WriteResult {
	t.Helper()
	return o.Write(t.Context(), "", []WriteRequest{req}, false)[0]
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
