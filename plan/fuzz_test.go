package plan

import (
	"strings"
	"testing"
)

// FuzzParse: no plan file panics the reader.
func FuzzParse(f *testing.F) {
	f.Add("objects:\n  - {object: Account, source: a.csv}\n", "p.yaml")
	f.Add(`{"objects":[{"object":"Account","source":"a.csv","convert":{"D":{"type":"date","format":"DD/MM/YY","pivot":1950}}}]}`, "p.json")
	f.Fuzz(func(t *testing.T, in, name string) {
		Parse(strings.NewReader(in), name)
	})
}
