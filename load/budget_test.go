package load

import (
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

func TestParseShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		bad  bool
	}{
		{in: "0.5", want: 0.5},
		{in: "50%", want: 0.5},
		{in: " 12.5 % ", want: 0.125},
		{in: "1", want: 1},
		{in: "100%", want: 1},
		{in: "0", bad: true},
		{in: "0%", bad: true},
		{in: "1.5", bad: true},
		{in: "150%", bad: true},
		{in: "-0.1", bad: true},
		{in: "NaN", bad: true},
		{in: "half", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseShare(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseShare(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestShareAllowance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		share float64
		l     salesforce.Limit
		want  int64
	}{
		{0.5, salesforce.Limit{Max: 15000, Remaining: 10000}, 5000}, // 5,000 used before the run
		{0.5, salesforce.Limit{Max: 15000, Remaining: 7}, 3},        // rounded down
		{1, salesforce.Limit{Max: 15000, Remaining: 15000}, 15000},
		{0.25, salesforce.Limit{Max: 100, Remaining: 0}, 0},
		{0.25, salesforce.Limit{Max: 100, Remaining: -5}, 0}, // over the limit already
	}
	for _, tt := range tests {
		if got := ShareAllowance(tt.share, tt.l); got != tt.want {
			t.Errorf("ShareAllowance(%v, %+v) = %d, want %d", tt.share, tt.l, got, tt.want)
		}
	}
}

// TestBudgetReservesWorkInFlight: a chunk starts only when what was spent, what the chunks in
// flight still hold and its own estimate fit; once one is refused, none starts.
func TestBudgetReservesWorkInFlight(t *testing.T) {
	t.Parallel()
	b := &budget{requests: 40, batches: 3, orgLeft: -1, reserved: map[*ticket]int64{}, perTicket: map[*ticket]int64{}}
	t1, t2, t3 := &ticket{}, &ticket{}, &ticket{}
	if why := b.start(t1, 16, 1); why != "" {
		t.Fatal(why)
	}
	for range 10 { // t1 spends 10 of its 16
		b.observe(t1, salesforce.Signal{})
		b.observe(nil, salesforce.Signal{})
	}
	if why := b.start(t2, 16, 1); why != "" { // 10 spent + 6 held + 16 = 32
		t.Fatal(why)
	}
	if why := b.start(t3, 16, 1); why == "" { // 10 + 6 + 16 + 16 = 48 > 40
		t.Fatal("a chunk over the allowance started")
	}
	b.done(t1)
	if why := b.start(t3, 1, 0); why == "" {
		t.Fatal("a chunk started after one was refused")
	}
	b2 := &budget{requests: 100, batches: 1, orgLeft: -1, reserved: map[*ticket]int64{}, perTicket: map[*ticket]int64{}}
	if why := b2.start(t1, 1, 1); why != "" {
		t.Fatal(why)
	}
	if why := b2.start(t2, 1, 1); why == "" {
		t.Fatal("a second batch over a batch allowance of 1 started")
	}
	b3 := &budget{requests: 100, batches: -1, orgLeft: -1, reserved: map[*ticket]int64{}, perTicket: map[*ticket]int64{}}
	b3.observe(nil, salesforce.Signal{HasLimit: true, Limit: salesforce.LimitInfo{Used: 14995, Max: 15000}})
	if why := b3.start(t1, 6, 0); why == "" {
		t.Fatal("a chunk needing more than the org has left (Sforce-Limit-Info) started")
	}
}
