package load

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readAll(t *testing.T, src Source) ([]Row, error) {
	t.Helper()
	var rows []Row
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

func TestJSONLSourceDiscoversHeader(t *testing.T) {
	t.Parallel()
	in := `{"LastName":"Lovelace","Email":"ada@example.com","Account":{"External_Id__c":"A-1"}}

{"LastName":"Turing","Phone":null,"Interests__c":["Math","Code"],"DoNotCall":true,"Score__c":12.50}
`
	src, err := JSONLSource(strings.NewReader(in), "people.jsonl", JSONLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"LastName", "Email", "Account.External_Id__c", "Phone", "Interests__c", "DoNotCall", "Score__c"}
	if diff := cmp.Diff(wantHeader, src.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	rows, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Number: 1, Line: 1, Values: []string{"Lovelace", "ada@example.com", "A-1", "", "", "", ""}},
		{Number: 2, Line: 3, Values: []string{"Turing", "", "", "#N/A", "Math;Code", "true", "12.50"}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestJSONLSourceErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		in     string
		header []string
		want   string
	}{
		{name: "not an object", in: "{\"a\":1}\n[1,2]\n", want: "people.jsonl: row 2 (line 2): not a JSON object"},
		{name: "unknown column with fixed header", in: "{\"A\":\"x\"}\n{\"A\":\"y\",\"B\":\"z\"}\n", header: []string{"A"}, want: "people.jsonl: row 2 (line 2), column B: column is not in the header"},
		{name: "invalid utf8", in: "{\"A\":\"\xff\"}\n", header: []string{"A"}, want: "row 1 (line 1): invalid UTF-8"},
		{name: "broken json", in: "{\"A\":\"x\"}\n{\"A\":\n", header: []string{"A"}, want: "row 2 (line 2): invalid JSON"},
		{name: "empty", in: "\n\n", want: "no JSON objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := JSONLSource(strings.NewReader(tc.in), "people.jsonl", JSONLOptions{Header: tc.header})
			if err == nil {
				_, err = readAll(t, src)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want *InputError", err)
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("error %q matches io.EOF: a reader would take it for the end of the input", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestJSONLSourceNeedsSeekerWithoutHeader(t *testing.T) {
	t.Parallel()
	_, err := JSONLSource(io.MultiReader(strings.NewReader("{}")), "pipe", JSONLOptions{})
	if err == nil || !strings.Contains(err.Error(), "seekable") {
		t.Fatalf("error = %v, want a seekable-input error", err)
	}
}

func FuzzJSONLSource(f *testing.F) {
	f.Add("{\"A\":1,\"B\":{\"C\":[true,null]}}\n{\"A\":\"x\"}\n")
	f.Add("{}\n")
	f.Add("[")
	f.Fuzz(func(t *testing.T, in string) {
		src, err := JSONLSource(strings.NewReader(in), "f", JSONLOptions{})
		if err != nil {
			return
		}
		n := len(src.Header())
		for {
			r, err := src.Next()
			if err != nil {
				return
			}
			if len(r.Values) != n {
				t.Fatalf("row %d has %d values, header %d", r.Number, len(r.Values), n)
			}
		}
	})
}
