package clock

import (
	"testing"
	"time"
)

func TestFakeAfterFiresOnAdvance(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	early, late := f.After(time.Second), f.After(time.Minute)
	if got := f.Waiters(); got != 2 {
		t.Fatalf("Waiters() = %d, want 2", got)
	}
	f.Advance(2 * time.Second)
	select {
	case got := <-early:
		if want := start.Add(2 * time.Second); !got.Equal(want) {
			t.Errorf("early fired at %v, want %v", got, want)
		}
	default:
		t.Fatal("1s timer did not fire after advancing 2s")
	}
	select {
	case <-late:
		t.Fatal("1m timer fired after advancing 2s")
	default:
	}
	f.Advance(time.Minute)
	select {
	case <-late:
	default:
		t.Fatal("1m timer did not fire")
	}
	if got := f.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d after all fired, want 0", got)
	}
}

func TestFakeNonPositiveFiresNow(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Unix(0, 0))
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire immediately")
	}
}
