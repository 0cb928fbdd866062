package load

import (
	"math/rand/v2"
	"testing"

	"github.com/zeebo/xxh3"
)

// TestJoinTakesFirstUntakenRow checks the join against a linear scan: every result takes the
// first untaken row with its content, whatever the order of the results (in order, in order
// with rows missing, shuffled) and however many rows are identical.
func TestJoinTakesFirstUntakenRow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		n := 1 + rng.IntN(200)
		distinct := 1 + rng.IntN(n+5)
		rows := make([]rowMeta, n)
		for i := range rows {
			rows[i].hash = xxh3.Uint128{Lo: uint64(rng.IntN(distinct))}
		}
		// Results: each row once, mostly in order, some moved; some results for no row.
		order := make([]xxh3.Uint128, 0, n+3)
		for i := range rows {
			order = append(order, rows[i].hash)
		}
		switch round % 3 {
		case 1:
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		case 2:
			for k := 0; k < n/10; k++ {
				a, b := rng.IntN(n), rng.IntN(n)
				order[a], order[b] = order[b], order[a]
			}
		}
		order = append(order, xxh3.Uint128{Lo: uint64(distinct + 1)}, rows[0].hash)
		j := newJoin(&chunk{rows: rows})
		taken := make([]bool, n)
		for k, h := range order {
			want := -1
			for i := range rows {
				if !taken[i] && rows[i].hash == h {
					want = i
					break
				}
			}
			if want >= 0 {
				taken[want] = true
			}
			if got := j.take(h); got != want {
				t.Fatalf("round %d, result %d (hash %d): took row %d, want %d", round, k, h, got, want)
			}
		}
	}
}
