package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestRowHashIsFNV1a checks that rowHashV1 is FNV-1a over the cells, each followed by a 0
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
		if got, want := rowHashV1(tc.vals, tc.rejected), h.Sum64(); got != want {
			t.Errorf("rowHashV1(%q, %v) = %#x, want %#x", tc.vals, tc.rejected, got, want)
		}
	}
}

// TestRowHashV2IsStable pins rowHashV2: run.db keeps its hashes across sfbatch versions, so
// the function of a version never changes (a new function is a new version).
func TestRowHashV2IsStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vals     []string
		rejected bool
		want     uint64
	}{
		{nil, false, 0x5a47c779b906693f},
		{nil, true, 0x1d4bf54a9ca72fb4},
		{[]string{""}, false, 0x819a66eec3733a28},
		{[]string{"a", "", "Ünïcödé, \"x\"\n"}, false, 0xc106637585710b6c},
		{[]string{"E000000001", "First1", "Last1"}, true, 0x5cbef4662c63fb8f},
		{[]string{strings.Repeat("long value ", 40), "x"}, false, 0xcc8b27bbd3a7efc5},
	} {
		if got := rowHashV2(tc.vals, tc.rejected); got != tc.want {
			t.Errorf("rowHashV2(%q, %v) = %#x, want %#x", tc.vals, tc.rejected, got, tc.want)
		}
	}
}

// TestRowHashV2TellsRowsApart: rows that differ in a cell, in where cells end, in their
// order or number, or in being rejected, hash differently.
func TestRowHashV2TellsRowsApart(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {"", "abc"}, {"c", "ab"}, {"ab", "d"},
		{"ab", "c", ""}, {}, {""}, {"", ""}, {"ab\x00", "c"}, {"ab", "\x00c"},
	}
	seen := map[uint64]string{}
	for _, r := range rows {
		for _, rejected := range []bool{false, true} {
			k := fmt.Sprintf("%q rejected %v", r, rejected)
			h := rowHashV2(r, rejected)
			if prev, ok := seen[h]; ok {
				t.Errorf("%s and %s hash alike (%#x)", prev, k, h)
			}
			seen[h] = k
		}
	}
}

// TestRowHasherVersions: a new run records the XXH3 row hash; a run recorded without a
// version (by an older sfbatch) used FNV-1a, which its resumption keeps using; an unknown
// version is an error rather than a wrong comparison.
func TestRowHasherVersions(t *testing.T) {
	t.Parallel()
	vals := []string{"a", "b"}
	for _, tc := range []struct {
		opts string
		want func([]string, bool) uint64
	}{
		{"", rowHashV1},
		{"{}", rowHashV1},
		{`{"row_hash":1}`, rowHashV1},
		{`{"row_hash":2}`, rowHashV2},
		{string(newRunOptions()), rowHashV2},
	} {
		h, err := rowHasher(json.RawMessage(tc.opts))
		if err != nil {
			t.Fatalf("%s: %v", tc.opts, err)
		}
		if h(vals, false) != tc.want(vals, false) {
			t.Errorf("options %q: wrong row hash", tc.opts)
		}
	}
	if _, err := rowHasher(json.RawMessage(`{"row_hash":99}`)); err == nil {
		t.Error("an unknown row hash version is accepted")
	}
}

// TestCheckRowHashesByVersion: the rows of a run journaled with either row hash are checked
// with that hash: the same rows pass, a changed row is ErrInputChanged.
func TestCheckRowHashesByVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	header := []string{"Name", "Email"}
	rows := [][]string{{"Ada", "ada@example.com"}, {"Grace", "grace@example.com"}, {"Alan", "alan@example.com"}}
	for _, version := range []struct {
		name string
		opts json.RawMessage
		hash func([]string, bool) uint64
	}{
		{"older sfbatch (no version)", nil, rowHashV1},
		{"current", newRunOptions(), rowHashV2},
	} {
		t.Run(version.name, func(t *testing.T) {
			t.Parallel()
			st, err := jobstore.Open(ctx, filepath.Join(t.TempDir(), runJournalFile))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			run := jobstore.Run{ID: jobstore.NewRunID(time.Now()), Object: "Contact", Operation: "insert", InputPath: "-", Options: version.opts}
			if err := st.CreateRun(ctx, run); err != nil {
				t.Fatal(err)
			}
			var hs []uint64
			for _, r := range rows {
				hs = append(hs, version.hash(r, false))
			}
			if err := st.AddRowHashes(ctx, run.ID, 1, hs); err != nil {
				t.Fatal(err)
			}
			runs, err := st.ListRuns(ctx)
			if err != nil || len(runs) != 1 {
				t.Fatalf("ListRuns: %v, %v", runs, err)
			}
			src := func(rows [][]string) load.Source { return load.RowsSource(header, slices.Values(rows)) }
			if err := checkRowHashes(ctx, st, runs[0], src(rows)); err != nil {
				t.Fatalf("same rows: %v", err)
			}
			changed := slices.Clone(rows)
			changed[1] = []string{"Grace", "hopper@example.com"}
			if err := checkRowHashes(ctx, st, runs[0], src(changed)); !errors.Is(err, jobstore.ErrInputChanged) || !strings.Contains(err.Error(), "row 2") {
				t.Fatalf("changed row 2: %v", err)
			}
		})
	}
}

// BenchmarkRowHash compares the row hashes on a Contact row of ten cells (about 200 bytes).
func BenchmarkRowHash(b *testing.B) {
	row := []string{"First12345", "Last00012345", "contact12345@example.com", "+1 415 555 2345", "Senior Engineer 12345",
		"+1 650 555 2345", "12345 Market Street Suite 12345", "San Francisco", "94123", "Loaded by the peer benchmark row 12345 of the input file"}
	for _, tc := range []struct {
		name string
		fn   func([]string, bool) uint64
	}{{"v1-fnv", rowHashV1}, {"v2-xxh3", rowHashV2}} {
		b.Run(tc.name, func(b *testing.B) {
			var sink uint64
			for b.Loop() {
				sink += tc.fn(row, false)
			}
			_ = sink
		})
	}
}

// TestRowHashesOnlyForStreamedInput: a run over a file records the file's SHA-256 and no
// row hashes (a resumption checks the file by its hash); a run over standard input read as
// it streams records a row hash per row, with the run's row hash version, for the
// resumption to compare the rows it read.
func TestRowHashesOnlyForStreamedInput(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	}
	const n = 50
	path := writeContacts(t, n)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		input string
		stdin string
		want  int
	}{{"file", path, "", 0}, {"standard input", "-", string(b), n}} {
		dir := filepath.Join(t.TempDir(), "out")
		o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", ColumnDelimiter: "COMMA", LineEnding: "LF",
			input: tc.input, OutputDir: dir, Quiet: true}
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(tc.stdin), Out: &out, ErrOut: &errOut}
		cmd := newLoadCmds(ios)[0]
		cmd.SetContext(t.Context())
		if _, err := runLoadWith(cmd, ios, connect, o); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, errOut.String())
		}
		st, err := jobstore.Open(t.Context(), filepath.Join(dir, runJournalFile))
		if err != nil {
			t.Fatal(err)
		}
		runs, err := st.ListRuns(t.Context())
		if err != nil || len(runs) != 1 {
			t.Fatalf("%s: runs %v, %v", tc.name, runs, err)
		}
		if h, err := rowHasher(runs[0].Options); err != nil || h([]string{"x"}, false) != rowHashV2([]string{"x"}, false) {
			t.Errorf("%s: the run does not record the XXH3 row hash: %s, %v", tc.name, runs[0].Options, err)
		}
		got := 0
		if err := st.RowHashes(t.Context(), runs[0].ID, func(_ int64, hs []uint64) error { got += len(hs); return nil }); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if got != tc.want {
			t.Errorf("%s: %d row hashes recorded, want %d", tc.name, got, tc.want)
		}
	}
}
