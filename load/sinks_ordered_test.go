package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// sinkCase makes n results with every outcome and values that need quoting, in a shuffled
// order with runs of rows in order (as jobs deliver them).
func sinkCase(rng *rand.Rand, n, width int) []RowResult {
	vals := []string{"", "plain", "a,b", "say \"hi\"", "two\nlines", "tab\there", "ünï", " lead", "\ufeffbom"}
	out := make([]RowResult, n)
	for i := range out {
		r := RowResult{Row: int64(i + 1), Outcome: Outcome(1 + rng.IntN(4)), Values: make([]string, width)}
		for j := range r.Values {
			r.Values[j] = vals[rng.IntN(len(vals))]
		}
		if rng.IntN(50) == 0 {
			r.Values = r.Values[:rng.IntN(width+1)] // short rows are padded
		}
		switch r.Outcome {
		case Succeeded:
			r.ID, r.Created = fmt.Sprintf("003%012d", i), rng.IntN(2) == 0
			if rng.IntN(20) == 0 {
				r.ID = fmt.Sprintf("id,\"%d\"", i) // an id that needs quotes
			}
		default:
			r.Error = &RowError{StatusCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "bad: \"x\", y", Fields: []string{"Email", "Phone"}}
			if rng.IntN(3) == 0 {
				r.Error.Fields = nil
			}
			r.JobID, r.BatchID = "750xx", "751yy"
		}
		out[i] = r
	}
	// Jobs of 100 rows, finished in a shuffled order, each with its rows shuffled a little.
	var order []RowResult
	jobs := rng.Perm((n + 99) / 100)
	for _, j := range jobs {
		lo, hi := j*100, min(j*100+100, n)
		part := append([]RowResult(nil), out[lo:hi]...)
		for k := range part {
			if rng.IntN(10) == 0 {
				m := rng.IntN(len(part))
				part[k], part[m] = part[m], part[k]
			}
		}
		order = append(order, part...)
	}
	return order
}

// mergedSink is a CSVFiles that merges part files at Close, as a resumed load's does.
func mergedSink(t *testing.T, dir string) *CSVFiles {
	t.Helper()
	s, err := CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.merge, s.runMax = true, 97
	return s
}

// TestCSVFilesOrderedMatchesMerged writes the same shuffled results through the ordered
// writer (small reorder buffer: spills, compaction of runs) and through the merging one and
// wants byte-identical files.
func TestCSVFilesOrderedMatchesMerged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		width int
		d     sfcsv.Delimiter
	}{{"one-column", 1, 0}, {"four-columns", 4, sfcsv.Comma}, {"tab", 3, sfcsv.Tab}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(tc.width)))
			hdr := []string{"A", "B", "C", "D"}[:tc.width]
			rows := sinkCase(rng, 5000, tc.width)
			ordDir, mrgDir := t.TempDir(), t.TempDir()
			ord, err := CSVSinks(ordDir)
			if err != nil {
				t.Fatal(err)
			}
			mrg := mergedSink(t, mrgDir)
			for _, s := range []*CSVFiles{ord, mrg} {
				s.Delimiter = tc.d
				if err := s.Start(hdr); err != nil {
					t.Fatal(err)
				}
			}
			ord.ord.heldMax = 2000
			for i := range rows {
				for _, s := range []*CSVFiles{ord, mrg} {
					if err := s.Write(&rows[i]); err != nil {
						t.Fatal(err)
					}
					if i%300 == 299 {
						if err := s.Sync(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			for _, s := range []*CSVFiles{ord, mrg} {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range outputNames {
				got, _ := os.ReadFile(filepath.Join(ordDir, name))
				want, _ := os.ReadFile(filepath.Join(mrgDir, name))
				if !bytes.Equal(got, want) {
					t.Errorf("%s: ordered writer wrote %d bytes, merge %d; first difference at %d", name, len(got), len(want), firstDiff(got, want))
				}
			}
			if _, err := os.Stat(filepath.Join(ordDir, PartsDir)); !os.IsNotExist(err) {
				t.Errorf("parts left: %v", err)
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestCSVFilesOrderedCrashResume abandons an ordered writer (a crash) after a Sync with rows
// held in memory, in spilled runs and written, then resumes: the rows synced keep their
// outcome, rows written after the last Sync are lost and delivered again, a later outcome
// of a synced row wins, and every row is in results.csv once.
func TestCSVFilesOrderedCrashResume(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("close-keep-", keep), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(7, 7))
			hdr := []string{"Name", "Email"}
			rows := sinkCase(rng, 3000, 2)
			dir := t.TempDir()
			s, err := CSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			s.Delimiter = sfcsv.Semicolon
			s.Start(hdr)
			s.ord.heldMax = 3000
			synced := 2000
			crashed := t.TempDir()
			for i := range rows {
				s.Write(&rows[i])
				if i == synced-1 {
					if err := s.Sync(); err != nil {
						t.Fatal(err)
					}
					// What a crash now leaves: the files as written so far, buffers lost.
					if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if keep {
				// An interrupted load that closes its sink: every row written, kept for resume.
				s.Keep = true
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				synced = len(rows)
			}
			if !keep {
				dir = crashed
			}

			r, err := ResumeCSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			r.Delimiter = sfcsv.Semicolon
			r.Start(hdr)
			want := map[int64]string{}
			for _, x := range rows[:synced] {
				want[x.Row] = x.Outcome.String()
			}
			for i := synced; i < len(rows); i++ {
				x := rows[i]
				x.Outcome, x.Error, x.ID = Succeeded, nil, "001again"
				r.Write(&x)
				want[x.Row] = x.Outcome.String()
			}
			again := rows[5] // a synced row whose outcome changes (an unknown row settled)
			again.Outcome, again.Error, again.ID = Succeeded, nil, "001settled"
			r.Write(&again)
			want[again.Row] = "succeeded"
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			got := readResultsWith(t, dir, sfcsv.Semicolon)
			if len(got) != len(rows) {
				t.Fatalf("results.csv has %d rows, want %d", len(got), len(rows))
			}
			for n, o := range want {
				if got[n].outcome != o {
					t.Errorf("row %d: %q, want %q", n, got[n].outcome, o)
				}
			}
			if got[again.Row].id != "001settled" {
				t.Errorf("settled row: %+v", got[again.Row])
			}
		})
	}
}

// readResultsWith reads results.csv written with delimiter d: row -> outcome and id.
func readResultsWith(t *testing.T, dir string, d sfcsv.Delimiter) map[int64]resultRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{Delimiter: d})
	if _, err := rd.Header(); err != nil {
		t.Fatal(err)
	}
	out := map[int64]resultRow{}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(rec[0], 10, 64)
		if _, dup := out[n]; dup {
			t.Errorf("results.csv lists row %d twice", n)
		}
		out[n] = resultRow{rec[1], rec[2], rec[4]}
	}
}

// TestCSVFilesOrderedGaps: rows that never arrive (numbers a source skipped) do not hold the
// others back for ever; Close writes what waits, in row order.
func TestCSVFilesOrderedGaps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Start([]string{"Name"})
	for _, n := range []int64{9, 2, 5, 1, 30} {
		if err := s.Write(&RowResult{Row: n, Outcome: Succeeded, ID: fmt.Sprint("id", n), Values: []string{fmt.Sprint("n", n)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SuccessFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "sf__Row,sf__Id,sf__Created,Name\n1,id1,false,n1\n2,id2,false,n2\n5,id5,false,n5\n9,id9,false,n9\n30,id30,false,n30\n"
	if string(b) != want {
		t.Errorf("%s:\n%s\nwant\n%s", SuccessFile, b, want)
	}
}
