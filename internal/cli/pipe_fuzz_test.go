package cli

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/load"
)

// FuzzPipeJSONL feeds arbitrary text to pipe's JSON Lines reader: it never panics, every row
// has one value per column, and it ends with io.EOF or an *load.InputError.
func FuzzPipeJSONL(f *testing.F) {
	f.Add("{\"LastName\":\"Ada\",\"Phone\":null,\"N\":1.5}\n{\"LastName\":\"Alan\"}\n")
	f.Add("{\"a\":[1]}\n")
	f.Add("{\"a\":1}{\"b\":2}\n")
	f.Add("\n\n{\"a\":\"\\u00e9\"}")
	f.Add("not json")
	f.Fuzz(func(t *testing.T, data string) {
		in, err := newJSONLInput(bufio.NewReader(strings.NewReader(data)), "fuzz.jsonl", "#N/A")
		if err != nil {
			var ie *load.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("open: %T %v", err, err)
			}
			return
		}
		for {
			r, err := in.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var ie *load.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("%T %v", err, err)
				}
				return
			}
			if len(r.Values) != len(in.Header()) {
				t.Fatalf("row %d: %d values, %d columns", r.Number, len(r.Values), len(in.Header()))
			}
		}
	})
}

// FuzzHandshake: any first line is either credentials or an error that quotes nothing of it.
func FuzzHandshake(f *testing.F) {
	f.Add("{\"accessToken\":\"tok\",\"instanceUrl\":\"https://x\"}\n")
	f.Add("{\"accessToken\":\"secret-abc\",\"bogus\":1}\n")
	f.Add("secret-abc\n")
	f.Fuzz(func(t *testing.T, line string) {
		_, err := readHandshake(bufio.NewReader(strings.NewReader(line)))
		if err != nil && len(line) > 12 && strings.Contains(err.Error(), line[:12]) && !strings.Contains("--handshake: the first line ", line[:12]) {
			t.Fatalf("error %q quotes the handshake line", err)
		}
	})
}
