package bulk

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadChunked(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("0123456789abcdef\n"), 30_000) // 510,000 bytes: several growing chunks
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int64
		want  []byte
		big   bool
	}{
		{"empty", nil, 100, nil, false},
		{"one chunk", []byte("a,b\n1,2\n"), 100, []byte("a,b\n1,2\n"), false},
		{"many chunks", big, int64(len(big)), big, false},
		{"many chunks, short reads", big, int64(len(big)), big, false},
		{"over the limit", big, int64(len(big)) - 1, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tc.data)
			if tc.name == "many chunks, short reads" {
				r = iotest.HalfReader(r)
			}
			got, tooBig, _, err := readChunked(io.LimitReader(r, tc.limit+1), tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if tooBig != tc.big || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, tooBig %v; want %d bytes, tooBig %v", len(got), tooBig, len(tc.want), tc.big)
			}
			if len(got) > minUploadChunk && cap(got) != len(got) {
				t.Errorf("cap %d for %d bytes", cap(got), len(got))
			}
		})
	}
	// A body that fails part way fails the read, whatever the error.
	boom := errors.New("boom")
	for _, e := range []error{boom, io.ErrUnexpectedEOF} {
		r := io.MultiReader(bytes.NewReader(big[:100_000]), iotest.ErrReader(e))
		if _, _, _, err := readChunked(r, int64(len(big))); !errors.Is(err, e) {
			t.Errorf("err = %v, want %v", err, e)
		}
	}
}

// TestBulk2ChunkedUpload uploads a Bulk 2.0 job's data without a length
// (chunked, over several read chunks, with a quoted row among plain ones)
// and checks that every row is inserted and echoed in the results as
// uploaded.
func TestBulk2ChunkedUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	var data bytes.Buffer
	data.WriteString("FirstName,LastName,Description\n")
	const rows = 3_000
	for i := range rows {
		if i == rows/2 {
			data.WriteString("\"Quo\"\"ted\",\"Multi\nLine\",\"a,b\"\n")
			continue
		}
		fmt.Fprintf(&data, "F%d,L%d,%s\n", i, i, strings.Repeat("d", 100))
	}
	id := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	// A reader without a length is sent chunked.
	e.benchDo(t, "PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", struct{ io.Reader }{bytes.NewReader(data.Bytes())}, 201)
	e.benchDo(t, "PATCH", dataV+"/jobs/ingest/"+id, jsonCT, strings.NewReader(`{"state":"UploadComplete"}`), 200)
	e.idle()
	if n := e.org.Count("Contact"); n != rows {
		t.Fatalf("%d contacts, want %d", n, rows)
	}
	res := e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	in, err := csv.NewReader(bytes.NewReader(data.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != rows+1 {
		t.Fatalf("%d result rows, want %d", len(recs), rows+1)
	}
	for i, r := range recs[1:] {
		if r[1] != "true" || !slices.Equal(r[2:], in[i+1]) {
			t.Fatalf("result row %d = %q, want the input %q", i, r, in[i+1])
		}
	}
}
