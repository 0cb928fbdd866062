package bulk

import (
	"bytes"
	"errors"
	"io"
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
