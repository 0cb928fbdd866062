package load

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowSetMatchesMap checks rowSet against a plain map for random and
// ordered insertions, including whole blocks that collapse into spans.
func TestRowSetMatchesMap(t *testing.T) {
	t.Parallel()
	for seed := uint64(0); seed < 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var a, b rowSet
		ma, mb := map[int64]bool{}, map[int64]bool{}
		limit := int64(3*rowSetBlock + rng.IntN(rowSetBlock))
		// Mostly in order (as a load reads), some shuffled (as results arrive).
		for r := int64(1); r <= limit; r++ {
			a.set(r)
			ma[r] = true
		}
		for range int(limit) {
			r := 1 + rng.Int64N(limit)
			if rng.IntN(4) > 0 {
				b.set(r)
				mb[r] = true
			}
		}
		for r := int64(1); r <= limit+10; r++ {
			if a.has(r) != ma[r] || b.has(r) != mb[r] {
				t.Fatalf("seed %d row %d: has = %v/%v, want %v/%v", seed, r, a.has(r), b.has(r), ma[r], mb[r])
			}
		}
		var want []int64
		for r := int64(1); r <= limit; r++ {
			if ma[r] && !mb[r] {
				want = append(want, r)
			}
		}
		if got := a.andNot(&b); !slices.Equal(got, want) {
			t.Fatalf("seed %d: andNot has %d rows, want %d", seed, len(got), len(want))
		}
		if len(a.partial) > 1 || len(a.full) != 1 {
			t.Errorf("seed %d: ordered set kept %d partial blocks and %d spans, want at most 1 and 1", seed, len(a.partial), len(a.full))
		}
	}
}

// TestRowSetMemoryBounded shows the set's size does not grow with the rows
// it holds when rows complete roughly in order.
func TestRowSetMemoryBounded(t *testing.T) {
	t.Parallel()
	var s rowSet
	const n = 5_000_000
	for r := int64(1); r <= n; r++ {
		s.set(r)
	}
	if len(s.partial) > 1 || len(s.full) != 1 {
		t.Fatalf("after %d ordered rows: %d partial blocks, %d spans", n, len(s.partial), len(s.full))
	}
	if !s.has(1) || !s.has(n) || s.has(n+1) {
		t.Error("membership wrong at the edges")
	}
}

func BenchmarkRowSetSet(b *testing.B) {
	var s rowSet
	for i := range b.N {
		s.set(int64(i) + 1)
	}
}
