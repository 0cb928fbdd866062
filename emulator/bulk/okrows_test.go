package bulk

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBulk2SuccessfulResultsKeptCompactly checks that the result files of
// a service without a data file (which keeps successful rows compactly and
// renders them when downloaded) are byte for byte those of a service with
// one (which keeps the rendered lines): plain rows, rows the CSV reader
// reads (quotes, line breaks), blank lines, failed rows, over several
// internal batches, under each delimiter and line ending.
func TestBulk2SuccessfulResultsKeptCompactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		delim, name, le, eol string
		rows, batches        int
	}{
		{",", "COMMA", "LF", "\n", MaxBatchRecords + 500, 2},
		{"|", "PIPE", "CRLF", "\r\n", 500, 1},
		{"\t", "TAB", "LF", "\n", 500, 1},
	} {
		t.Run(tc.name+"-"+tc.le, func(t *testing.T) {
			var sb strings.Builder
			row := func(cells ...string) { sb.WriteString(strings.Join(cells, tc.delim) + tc.eol) }
			row("FirstName", "LastName", "Email")
			for i := range tc.rows {
				switch i % 97 {
				case 3:
					row(`"Quoted`+tc.delim+`"`, fmt.Sprint("L", i), "") // a delimiter in a quoted cell
				case 5:
					row(`"Multi`+tc.eol+`line ""q"""`, fmt.Sprint("L", i), "#N/A")
				case 7:
					row("NoLast", "", fmt.Sprint("x", i, "@example.com")) // fails: LastName is required
				case 11:
					sb.WriteString(tc.eol) // a blank line
				case 13:
					row("Too", "Many", "Cells", "Here") // fails: the CSV reader's row error
				case 17:
					row("", fmt.Sprint("L", i), "") // empty cells
				default:
					row(fmt.Sprint("F", i), fmt.Sprint("L", i), fmt.Sprint("u", i, "@example.com"))
				}
			}
			data := sb.String()
			files := func(e *env) map[string]string {
				id := e.createIngest(fmt.Sprintf(`{"object":"Contact","operation":"insert","columnDelimiter":%q,"lineEnding":%q}`, tc.name, tc.le))["id"].(string)
				wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
				wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
				e.idle()
				out := map[string]string{}
				for _, f := range []string{"successfulResults", "failedResults", "unprocessedrecords"} {
					r := e.do("GET", dataV+"/jobs/ingest/"+id+"/"+f, "", "")
					wantStatus(t, r, 200)
					out[f] = r.body
				}
				return out
			}
			e := newEnv(t, Options{})
			compact := files(e)
			stored := files(newEnv(t, Options{DataFile: filepath.Join(t.TempDir(), "org.db")}))
			e.svc.mu.Lock()
			var kept []int
			for _, b := range e.svc.order[0].batches {
				kept = append(kept, len(b.ok.rows))
			}
			e.svc.mu.Unlock()
			if len(kept) != tc.batches || kept[len(kept)-1] < 100 {
				t.Errorf("successful rows kept compactly, per batch: %v", kept)
			}
			// The internal batches run in parallel: the ids they are given
			// depend on timing.
			ids := regexp.MustCompile(`"003[0-9A-Za-z]{15}"`)
			for f, want := range stored {
				got := ids.ReplaceAllString(compact[f], `"ID"`)
				want = ids.ReplaceAllString(want, `"ID"`)
				if got != want {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%s differs at byte %d: got %q, want %q", f, i, got[max(i-80, 0):min(i+80, len(got))], want[max(i-80, 0):min(i+80, len(want))])
				}
			}
		})
	}
}
