package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestPipeExportPartitions reads one query as three id-range partitions, one of them empty:
// every partition's Arrow schema is the same, fixed from the field list and describe (dates
// as date32, booleans as bool, datetimes as timestamps), and together they hold every record
// once with typed values.
func TestPipeExportPartitions(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	var recs []map[string]any
	for i := range 10 {
		recs = append(recs, map[string]any{"LastName": fmt.Sprintf("Exp%02d", i), "Birthdate": fmt.Sprintf("1990-01-%02d", i+1), "DoNotCall": i%2 == 0})
	}
	ids, err := srv.Insert(t.Context(), "Contact", recs...)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	mid := ids[len(ids)/2]
	const query = "SELECT Id, LastName, Birthdate, DoNotCall, CreatedDate FROM Contact"
	var schemas []*arrow.Schema
	got := map[string]string{}
	for _, rg := range []string{"," + mid, mid + ",", "003ZZZZZZZZZZZZ,"} {
		r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--export", "--handshake", "-q", query, "--id-range", rg)
		if r.code != ExitOK {
			t.Fatalf("range %s: exit %d\n%s", rg, r.code, r.stderr)
		}
		schema, batches := readArrowResults(t, r.out)
		schemas = append(schemas, schema)
		idCol := column(t, schema, batches, "Id")
		names := column(t, schema, batches, "LastName")
		births := column(t, schema, batches, "Birthdate")
		calls := column(t, schema, batches, "DoNotCall")
		for i, id := range idCol {
			if _, dup := got[id]; dup {
				t.Errorf("%s in two partitions", id)
			}
			got[id] = names[i] + " " + births[i] + " " + calls[i]
		}
	}
	want := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32,
		arrow.FixedWidthTypes.Boolean, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}}
	for i, s := range schemas {
		if !s.Equal(schemas[0]) {
			t.Errorf("partition %d schema %v differs from %v", i, s, schemas[0])
		}
	}
	for i, f := range schemas[0].Fields() {
		if !arrow.TypeEqual(f.Type, want[i]) {
			t.Errorf("column %s: %s, want %s", f.Name, f.Type, want[i])
		}
	}
	if len(got) != len(ids) {
		t.Fatalf("%d records exported, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		v := got[id]
		f := strings.Fields(v)
		if len(f) != 3 || !strings.HasPrefix(f[0], "Exp") {
			t.Errorf("%s: %q", id, v)
			continue
		}
		n := 0
		fmt.Sscanf(f[0], "Exp%d", &n)
		wantBirth := time.Date(1990, 1, n+1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if f[1] != wantBirth || f[2] != fmt.Sprint(n%2 == 0) {
			t.Errorf("%s: %q, want birthdate %s and DoNotCall %v", id, v, wantBirth, n%2 == 0)
		}
	}
}
