package org

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

// TestCountOnly: inserts are validated and answered as usual, counted, and not kept; COUNT()
// without WHERE sees them, other queries and gets do not; the mode refuses a data file.
func TestCountOnly(t *testing.T) {
	t.Parallel()
	o, err := New(Options{Clock: clock.NewFake(t0), CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	before := o.Count("Contact")
	reqs := []WriteRequest{
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "A"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"FirstName": "no last name"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "B", "NoSuchField__c": "x"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "C"}},
	}
	res := o.Write(t.Context(), "", reqs, false)
	if !res[0].Success || !res[3].Success || res[1].Success || res[2].Success {
		t.Fatalf("results %+v", res)
	}
	if !strings.HasPrefix(res[0].ID, "003") || res[0].ID == res[3].ID || !res[0].Created {
		t.Errorf("ids %q %q", res[0].ID, res[3].ID)
	}
	if got := o.Count("Contact") - before; got != 2 {
		t.Errorf("Count grew by %d, want 2", got)
	}
	r, err := o.Query(t.Context(), "SELECT COUNT() FROM Contact", false)
	if err != nil || r.TotalSize != before+2 {
		t.Errorf("COUNT() = %v, %v; want %d", r.TotalSize, err, before+2)
	}
	r, err = o.Query(t.Context(), "SELECT Id FROM Contact WHERE LastName = 'A'", false)
	if err != nil || r.TotalSize != 0 {
		t.Errorf("a counted record is visible to a query: %v, %v", r.TotalSize, err)
	}
	if _, err := o.Get(t.Context(), "Contact", res[0].ID, []string{"Id"}); err == nil {
		t.Error("a counted record can be read back")
	}
	if _, err := New(Options{CountOnly: true, DataFile: filepath.Join(t.TempDir(), "org.db")}); err == nil {
		t.Error("CountOnly with a data file was accepted")
	}
}
