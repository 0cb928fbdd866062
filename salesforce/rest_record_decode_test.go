package salesforce

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stripAttributes removes "attributes" members at every level, as Record does.
func stripAttributes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "attributes")
		for k, e := range x {
			x[k] = stripAttributes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stripAttributes(e)
		}
	}
	return v
}

func TestRecordParserErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":"x\u00zz"}`, "{\"a\":\"x\x01\"}", `{"a":[1,]}`, `{"a":1} x`, `{"a":"unterminated}`,
		strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300),
	} {
		var r Record
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("Unmarshal(%.40q) succeeded", in)
		}
		if _, err := newRecordParser([]byte(in)).parseTop(); err == nil {
			t.Errorf("parseTop(%.40q) succeeded", in)
		}
	}
}

func FuzzRecordDecode(f *testing.F) {
	f.Add([]byte(`{"attributes":{"type":"Contact","url":"/x/003A"},"Id":"003A","N":1.50,"B":true,"Z":null,"P":{"attributes":{"type":"Account"},"Name":"A\u00e9\n"},"L":[1,"a",{"x":[]}]}`))
	f.Add([]byte(`{"a":1,"a":2,"é":"\ud83d\ude00","bad":"\xff"}`))
	f.Add([]byte(`{"n":-0.0e+10,"m":1E5}`))
	f.Add(coreQueryPageJSON(2))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := newRecordParser(data).parseTop()
		var std map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		stdErr := dec.Decode(&std)
		if stdErr == nil && !json.Valid(data) {
			stdErr = errMore // trailing data after the object
		}
		if (err == nil) != (stdErr == nil && std != nil) {
			if !(stdErr == nil && std == nil) { // top-level null: we refuse, std accepts
				t.Fatalf("parser err = %v, encoding/json err = %v", err, stdErr)
			}
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(stripAttributes(std), rec.Map()); diff != "" {
			t.Fatalf("differs from encoding/json (-std +ours):\n%s", diff)
		}
	})
}

const errMore = bytesError("trailing data")

type bytesError string

func (e bytesError) Error() string { return string(e) }
