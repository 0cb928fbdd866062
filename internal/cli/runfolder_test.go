package cli

import (
	"hash/fnv"
	"testing"
)

// TestRowHashIsFNV1a checks that rowHash is FNV-1a over the cells, each followed by a 0
// byte, after a 1 byte for a rejected row: the hashes in run.db of earlier runs must stay
// comparable.
func TestRowHashIsFNV1a(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vals     []string
		rejected bool
	}{
		{nil, false},
		{nil, true},
		{[]string{""}, false},
		{[]string{"a", "", "Ünïcödé, \"x\"\n"}, false},
		{[]string{"E000000001", "First1", "Last1"}, true},
	} {
		h := fnv.New64a()
		if tc.rejected {
			h.Write([]byte{1})
		}
		for _, v := range tc.vals {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
		if got, want := rowHash(tc.vals, tc.rejected), h.Sum64(); got != want {
			t.Errorf("rowHash(%q, %v) = %#x, want %#x", tc.vals, tc.rejected, got, want)
		}
	}
}
