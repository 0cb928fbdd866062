package extract

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
)

// TestArrowWriterKinds writes one row of every Kind and a row of nulls, refuses a row with a value that does not fit, and reads the stream
// back: each column has the Kind's Arrow type and the parsed value.
func TestArrowWriterKinds(t *testing.T) {
	t.Parallel()
	cols := []string{"Name", "DoNotCall", "NumberOfEmployees", "AnnualRevenue", "Birthdate", "CreatedDate"}
	kinds := []Kind{KindString, KindBool, KindInt, KindFloat, KindDate, KindDateTime}
	var buf bytes.Buffer
	w := NewArrowWriter(&buf, cols, kinds)
	if err := w.Write([]string{"Acme, Inc.", "true", "120", "1234.5", "2024-02-29", "2024-03-01T12:34:56.789+0000"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"", "", "", "", "", ""}); err != nil {
		t.Fatal(err)
	}
	var ve *ValueError
	if err := w.Write([]string{"x", "maybe", "1", "1", "2024-01-01", "2024-01-01T00:00:00.000Z"}); !errors.As(err, &ve) || ve.Column != "DoNotCall" {
		t.Fatalf("bad boolean: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if !rd.Schema().Equal(ArrowSchema(cols, kinds)) {
		t.Errorf("schema %v", rd.Schema())
	}
	var got [][]string
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := range int(rec.NumRows()) {
			var row []string
			for c := range cols {
				row = append(row, rec.Column(c).ValueStr(i))
			}
			got = append(got, row)
		}
	}
	want := [][]string{
		{"Acme, Inc.", "true", "120", "1234.5", "2024-02-29", "2024-03-01T12:34:56.789Z"},
		{"(null)", "(null)", "(null)", "(null)", "(null)", "(null)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
