package jobstore

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRowHashes(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	if err := s.AddRowHashes(ctx, "nope", 1, []uint64{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("hashes of an unknown run: %v", err)
	}
	if err := s.CreateRun(ctx, Run{ID: "r", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRowHashes(ctx, "r", 3, []uint64{30, 40}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRowHashes(ctx, "r", 1, []uint64{10, 1<<63 + 5}); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	var firsts []int64
	if err := s.RowHashes(ctx, "r", func(first int64, hs []uint64) error {
		firsts = append(firsts, first)
		got = append(got, hs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{10, 1<<63 + 5, 30, 40}, got); diff != "" || !cmp.Equal(firsts, []int64{1, 3}) {
		t.Errorf("hashes (-want +got):\n%s; blocks from %v", diff, firsts)
	}
	if err := s.SetRunInput(ctx, "r", 12, "abc"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.GetRun(ctx, "r"); r.InputSize != 12 || r.InputHash != "abc" {
		t.Errorf("run input = %d %q", r.InputSize, r.InputHash)
	}
	if err := s.DeleteRun(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.RowHashes(ctx, "r", func(int64, []uint64) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d blocks left after the run was deleted", n)
	}
}
