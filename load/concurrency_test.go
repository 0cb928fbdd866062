package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestController drives the AIMD controller through scripts of steps and checks every
// change of the limit. Steps: "a" takes a ticket (numbered from 0 in order), "cN:cause"
// reports congestion on ticket N, "rN" releases ticket N.
func TestController(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ceiling int
		steps   string
		want    []string // "from->to cause"
		final   int
	}{
		{name: "clean run never changes", ceiling: 4, steps: "a a a a r0 r1 r2 r3 a r4", final: 4},
		{name: "one congestion halves", ceiling: 4, steps: "a a c0:503", want: []string{"4->2 503"}, final: 2},
		{
			name: "tickets of one episode decrease once", ceiling: 8,
			steps: "a a a a c0:503 c1:429 c2:REQUEST_LIMIT_EXCEEDED c3:503",
			want:  []string{"8->4 503"}, final: 4,
		},
		{
			name: "a ticket taken after a decrease decreases again", ceiling: 4,
			steps: "a c0:503 r0 a c1:UNABLE_TO_LOCK_ROW",
			want:  []string{"4->2 503", "2->1 UNABLE_TO_LOCK_ROW"}, final: 1,
		},
		{
			name: "never below one", ceiling: 2,
			steps: "a c0:503 r0 a c1:503 r1 a c2:503 r2",
			want:  []string{"2->1 503"}, final: 1,
		},
		{
			name: "additive increase after a round of clean completions", ceiling: 4,
			// A round is as many clean completions as the limit.
			steps: "a c0:503 r0 a a r1 r2 a a a r3 r4 r5",
			want:  []string{"4->2 503", "2->3 recovered", "3->4 recovered"}, final: 4,
		},
		{
			name: "completions of tickets from before a change earn nothing", ceiling: 4,
			steps: "a a a a c0:503 r1 r2 r3 r0",
			want:  []string{"4->2 503"}, final: 2,
		},
		{
			name: "congested tickets earn nothing", ceiling: 2,
			steps: "a c0:503 r0 a c1:503 r1 a r2",
			want:  []string{"2->1 503", "1->2 recovered"}, final: 2,
		},
		{
			name: "back off to one and recover to the ceiling", ceiling: 4,
			steps: "a a a a c1:503 r0 r1 r2 r3 a c4:ConcurrentPerOrgLongTxn r4 a c5:503 r5 a r6 a a r7 r8 a a a r9 r10 r11 a a a a r12",
			want:  []string{"4->2 503", "2->1 ConcurrentPerOrgLongTxn", "1->2 recovered", "2->3 recovered", "3->4 recovered"},
			final: 4,
		},
		{name: "ceiling one never moves", ceiling: 1, steps: "a c0:503 r0 a r1 a r2", final: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			c := newController(tt.ceiling, func(from, to int, cause string) {
				got = append(got, fmt.Sprintf("%d->%d %s", from, to, cause))
			})
			var tickets []*ticket
			for _, step := range strings.Fields(tt.steps) {
				switch {
				case step == "a":
					tk, err := c.acquire(t.Context())
					if err != nil {
						t.Fatalf("step %s: %v", step, err)
					}
					tickets = append(tickets, tk)
				case step[0] == 'c':
					n, cause, _ := strings.Cut(step[1:], ":")
					tickets[atoi(t, n)].congestion(cause)
				case step[0] == 'r':
					tickets[atoi(t, step[1:])].release()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if c.current() != tt.final {
				t.Errorf("final limit %d, want %d", c.current(), tt.final)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestControllerAcquireWaits checks that acquire blocks at the limit, wakes when a slot
// opens, and gives up when its context ends.
func TestControllerAcquireWaits(t *testing.T) {
	t.Parallel()
	c := newController(2, nil)
	a, _ := c.acquire(t.Context())
	b, _ := c.acquire(t.Context())
	a.congestion(CauseUnavailable) // limit 1, two in flight
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.acquire(ctx); err == nil {
		t.Fatal("acquire over the limit with a cancelled context succeeded")
	}
	got := make(chan *ticket)
	go func() {
		tk, _ := c.acquire(t.Context())
		got <- tk
	}()
	a.release() // one in flight: still at the limit of 1
	b.release()
	tk := <-got
	if tk == nil {
		t.Fatal("no ticket after slots opened")
	}
	if c.current() != 1 {
		t.Errorf("limit %d, want 1 (tickets from before the decrease earn no increase)", c.current())
	}
	a.release() // a second release changes nothing
	tk.release()
	if c.current() != 2 {
		t.Errorf("limit %d, want 2 (a clean ticket taken after the decrease completes a round of 1)", c.current())
	}
}

func TestCongestionCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		api        API
		congestion string
		want       string
	}{
		{Collections, "ConcurrentPerOrgLongTxn", CauseLongTxn},
		{Bulk2, "ConcurrentPerOrgLongTxn", ""},
		{Bulk1, "503", CauseUnavailable},
		{Bulk2, "429", CauseTooManyRequests},
		{Bulk2, "REQUEST_LIMIT_EXCEEDED", CauseRequestLimit},
		{Collections, "", ""},
	}
	for _, tt := range tests {
		if got := congestionCause(tt.api, tt.congestion); got != tt.want {
			t.Errorf("congestionCause(%v, %q) = %q, want %q", tt.api, tt.congestion, got, tt.want)
		}
	}
}

// TestControllerWeights: chunks smaller than a full slot share one: with a limit of 1, ten
// one-batch tickets run at once and an eleventh waits; a full ticket waits until enough is
// free, but one always starts when nothing is in flight.
func TestControllerWeights(t *testing.T) {
	t.Parallel()
	c := newController(1, nil)
	// A cancelled context: acquireWeight takes a free slot at once and returns the context's
	// error only when it would have to wait.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	var small []*ticket
	for range slotBatches {
		tk, err := c.acquireWeight(done, 1)
		if err != nil {
			t.Fatal(err)
		}
		small = append(small, tk)
	}
	waits := func(weight int) bool {
		tk, err := c.acquireWeight(done, weight)
		if err == nil {
			tk.release()
			return false
		}
		return true
	}
	if !waits(1) {
		t.Fatal("a one-batch ticket started over a limit of 1 slot")
	}
	small[0].release()
	if waits(1) {
		t.Fatal("a one-batch ticket waited with a batch free")
	}
	if !waits(slotBatches) {
		t.Fatal("a full ticket started with only a batch free")
	}
	for _, tk := range small[1:] {
		tk.release()
	}
	if waits(2 * slotBatches) { // clamped to one slot; starts when nothing is in flight
		t.Fatal("a ticket waited with nothing in flight")
	}
}

// TestSlotWeight: a ramping Bulk API 2.0 job counts its batches of 10,000 records (or its
// bytes' share of the byte cap), a job of a set size and other APIs a whole slot.
func TestSlotWeight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		api       API
		batchSize int
		rows      int
		bytes     int64
		want      int
	}{
		{"first ramp job", Bulk2, 0, FirstBulk2JobRecords, 1 << 20, 1},
		{"ramp job", Bulk2, 0, 40_000, 8 << 20, 4},
		{"partial batch", Bulk2, 0, 25_001, 1 << 20, 3},
		{"full job", Bulk2, 0, DefaultBulk2JobRecords, 20 << 20, slotBatches},
		{"bytes", Bulk2, 0, 10, MaxBulk2JobBytes / 2, slotBatches / 2},
		{"batch size set", Bulk2, 50, 50, 1 << 10, slotBatches},
		{"bulk1", Bulk1, 0, 10, 1 << 10, slotBatches},
	}
	for _, tt := range tests {
		r := &run{cfg: &config{Options: Options{BatchSize: tt.batchSize, MaxBytesPerJob: MaxBulk2JobBytes}}}
		c := &chunk{api: tt.api, rows: make([]rowMeta, tt.rows), bytes: tt.bytes}
		if got := r.slotWeight(c); got != tt.want {
			t.Errorf("%s: weight %d, want %d", tt.name, got, tt.want)
		}
	}
}
