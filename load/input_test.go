package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// newInputRun returns a run with opts that has read header, enough for an inputSource and
// a chunker.
func newInputRun(tb testing.TB, opts Options, header []string) *run {
	tb.Helper()
	if opts.Object == "" {
		opts.Object = "Contact"
	}
	cfg, err := opts.resolve()
	if err != nil {
		tb.Fatal(err)
	}
	return &run{cfg: cfg, dir: tb.TempDir(), seed: rand.Uint64(), header: header,
		open: map[string]*OpenJob{}, live: map[*chunk]struct{}{}, sum: Summary{ErrorCodes: map[string]int64{}}}
}

// chunkInput reads src through an inputSource and a chunker of api as a pass does (with
// passRunner.add's null handling) and returns the chunks, sealed, and the rows rejected.
func chunkInput(tb testing.TB, r *run, api API, src Source) (chunks []*chunk, rejected []int64) {
	tb.Helper()
	in := &inputSource{src: src, r: r}
	k, err := newChunker(r, api, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p, err := in.next()
		if err == io.EOF {
			break
		}
		var ie *InputError
		if errors.As(err, &ie) && ie.Structural {
			break // the input ends here
		}
		if err != nil {
			tb.Fatal(err)
		}
		if r.cfg.Nulls == NullsWrite {
			for i, v := range p.vals {
				if v == "" {
					p.vals[i] = sfcsv.NullValue
				}
			}
		}
		full, reject, err := k.add(p)
		if err != nil {
			tb.Fatal(err)
		}
		if reject != nil {
			rejected = append(rejected, p.num)
		}
		if full != nil {
			chunks = append(chunks, full)
		}
	}
	if c := k.flush(); c != nil {
		chunks = append(chunks, c)
	}
	for _, c := range chunks {
		if err := c.seal(); err != nil {
			tb.Fatal(err)
		}
	}
	return chunks, rejected
}

// chunkFile returns a chunk's file after checking that the chunk's measured size is the
// file's: bytes and characters.
func chunkFile(t *testing.T, c *chunk) []byte {
	t.Helper()
	b, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	if c.bytes != int64(len(b)) || c.chars != int64(utf8.RuneCount(b)) {
		t.Fatalf("chunk counted %d bytes, %d characters; its file has %d bytes, %d characters",
			c.bytes, c.chars, len(b), utf8.RuneCount(b))
	}
	return b
}

// inPlaceSource changes one value of every row in place and returns the row otherwise as
// it came, as a converting wrapper does.
type inPlaceSource struct {
	Source
	col int
	fn  func(string) string
}

func (s inPlaceSource) Next() (Row, error) {
	row, err := s.Source.Next()
	if err == nil {
		row.Values[s.col] = s.fn(row.Values[s.col])
	}
	return row, err
}

func TestChunkerSendsRowsAsRead(t *testing.T) {
	t.Parallel()
	const input = "Name,Title,Description\r\n" +
		"Ada,Countess,plain\r\n" + // sent as read
		"\"Grace\",\"Rear Admiral\",\"needlessly quoted\"\r\n" + // sent as read: quotes kept
		"\"Hopper, G.\",\"say \"\"hi\"\"\",\"two\nlines\"\n" + // sent as read
		"Zoë,日本,\n" + // sent as read (empty last value)
		"Lone,a\rb,x\n" + // a lone CR: encoded (quoted)
		"Bom,\ufeffx,y\n" + // a byte order mark starting a value: encoded (quoted)
		"Nul,a\x00b,z\n" + // a NUL byte: rejected
		"Last,row,no terminator"
	header := []string{"Name", "Title", "Description"}
	rows := [][]string{
		{"Ada", "Countess", "plain"},
		{"Grace", "Rear Admiral", "needlessly quoted"},
		{"Hopper, G.", `say "hi"`, "two\nlines"},
		{"Zoë", "日本", ""},
		{"Lone", "a\rb", "x"},
		{"Bom", "\ufeffx", "y"},
		{"Last", "row", "no terminator"},
	}
	for _, tc := range []struct {
		name  string
		opts  Options
		delim sfcsv.Delimiter // of the input
		wrap  func(Source) Source
		want  [][]string // rows sent, default rows
		texts []string   // lines of the chunk file that must be there
	}{
		{name: "LF", texts: []string{"Ada,Countess,plain\n", "\"Grace\",\"Rear Admiral\",\"needlessly quoted\"\n",
			"\"Hopper, G.\",\"say \"\"hi\"\"\",\"two\nlines\"\n", "Zoë,日本,\n", "Lone,\"a\rb\",x\n", "Bom,\"\ufeffx\",y\n", "Last,row,no terminator\n"}},
		{name: "CRLF", opts: Options{LineEnding: sfcsv.CRLF},
			texts: []string{"Ada,Countess,plain\r\n", "\"Grace\",\"Rear Admiral\",\"needlessly quoted\"\r\n", "Last,row,no terminator\r\n"}},
		{name: "other delimiter", opts: Options{ColumnDelimiter: sfcsv.Semicolon},
			texts: []string{"Ada;Countess;plain\n", "Grace;Rear Admiral;needlessly quoted\n", "Hopper, G.;\"say \"\"hi\"\"\";\"two\nlines\"\n"}},
		{name: "nulls written", opts: Options{Nulls: NullsWrite},
			want: func() [][]string {
				w := [][]string{}
				for _, r := range rows {
					r = append([]string(nil), r...)
					for i := range r {
						if r[i] == "" {
							r[i] = sfcsv.NullValue
						}
					}
					w = append(w, r)
				}
				return w
			}(),
			texts: []string{"Ada,Countess,plain\n", "Zoë,日本,#N/A\n"}},
		{name: "value changed in place", wrap: func(s Source) Source {
			return inPlaceSource{Source: s, col: 0, fn: strings.ToUpper}
		}, want: func() [][]string {
			w := [][]string{}
			for _, r := range rows {
				r = append([]string(nil), r...)
				r[0] = strings.ToUpper(r[0])
				w = append(w, r)
			}
			return w
		}(), texts: []string{"ADA,Countess,plain\n", "GRACE,Rear Admiral,needlessly quoted\n"}},
		{name: "value cut in place", wrap: func(s Source) Source {
			return inPlaceSource{Source: s, col: 2, fn: func(v string) string { return v[:len(v)/2] }}
		}, want: func() [][]string {
			w := [][]string{}
			for _, r := range rows {
				r = append([]string(nil), r...)
				r[2] = r[2][:len(r[2])/2]
				w = append(w, r)
			}
			return w
		}(), texts: []string{"Ada,Countess,pl\n", "Grace,Rear Admiral,needless\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, api := range []API{Bulk2, Bulk1} {
				if api == Bulk1 && tc.opts.ColumnDelimiter != 0 {
					continue // Bulk API 1.0 takes only commas
				}
				opts := tc.opts
				opts.API = api
				r := newInputRun(t, opts, header)
				var src Source = CSVSource(strings.NewReader(input), "in.csv", CSVOptions{Delimiter: tc.delim})
				if tc.wrap != nil {
					src = tc.wrap(src)
				}
				src.Header()
				chunks, rejected := chunkInput(t, r, api, src)
				if len(chunks) != 1 {
					t.Fatalf("%v: %d chunks", api, len(chunks))
				}
				if diff := cmp.Diff([]int64(nil), rejected); diff != "" {
					t.Errorf("%v: rejected rows (-want +got):\n%s", api, diff)
				}
				b := chunkFile(t, chunks[0])
				for _, text := range tc.texts {
					if !bytes.Contains(b, []byte(text)) {
						t.Errorf("%v: chunk file lacks %q:\n%q", api, text, b)
					}
				}
				rd := sfcsv.NewReader(bytes.NewReader(b), sfcsv.ReaderOptions{Delimiter: r.cfg.ColumnDelimiter})
				hdr, err := rd.Header()
				if err != nil {
					t.Fatal(err)
				}
				var got [][]string
				for {
					rec, err := rd.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if le, ok := rd.LineEnding(); le != r.cfg.LineEnding || !ok {
						t.Errorf("%v: row %d ends with %v (%v), the job's line ending is %v", api, rd.Row(), le, ok, r.cfg.LineEnding)
					}
					got = append(got, rec)
				}
				want := tc.want
				if want == nil {
					want = rows
				}
				if diff := cmp.Diff(append([][]string{header}, want...), append([][]string{hdr}, got...)); diff != "" {
					t.Errorf("%v: chunk rows (-want +got):\n%s", api, diff)
				}
				if len(chunks[0].rows) != len(want) {
					t.Errorf("%v: chunk has %d rows, want %d", api, len(chunks[0].rows), len(want))
				}
			}
		})
	}
}

// TestRecordTextIntact checks what counts as a row still holding the values read.
func TestRecordTextIntact(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"a,bb,,c\n", "\"a\",\"b,b\",,\"\"\n", "x,\"\",,y\n"} {
		src := CSVSource(strings.NewReader("h1,h2,h3,h4\n"+in), "in.csv", CSVOptions{})
		row, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !row.text.intact(row.Values) {
			t.Fatalf("%q: the row as read is not intact", in)
		}
		same := append([]string(nil), row.Values...)
		for i := range row.Values {
			changed := func(v string) {
				t.Helper()
				vals := append([]string(nil), same...)
				vals[i] = v
				if vals[i] != same[i] && row.text.intact(vals) {
					t.Errorf("%q: value %d changed from %q to %q counts as intact", in, i+1, same[i], v)
				}
			}
			changed(strings.Clone(same[i]) + "x")
			changed(same[i] + "")
			changed("")
			changed(sfcsv.NullValue)
			if len(same[i]) > 0 {
				changed(same[i][1:])
				changed(same[i][:len(same[i])-1])
			}
			if i+1 < len(same) {
				vals := append([]string(nil), same...)
				vals[i], vals[i+1] = vals[i+1], vals[i]
				if vals[i] != vals[i+1] && row.text.intact(vals) {
					t.Errorf("%q: values %d and %d swapped count as intact", in, i+1, i+2)
				}
			}
		}
		if row.text.intact(same[:len(same)-1]) || row.text.intact(append(same, "")) {
			t.Errorf("%q: a row with another number of values counts as intact", in)
		}
	}
	if (&recordText{}).intact(nil) {
		t.Error("no text counts as intact")
	}
	var ie *InputError
	src := CSVSource(strings.NewReader("a,b\n1\n"), "in.csv", CSVOptions{})
	if _, err := src.Next(); !errors.As(err, &ie) {
		t.Fatalf("short row: %v", err)
	}
}

// BenchmarkInputToChunk measures the engine's client-side work per input row of a CSV file
// up to its chunk file, for Bulk API 2.0: reading and checking the row, then writing it to
// the chunk, as read ("as-read") or encoded again because its values changed ("encoded",
// with NullsWrite and empty cells).
func BenchmarkInputToChunk(b *testing.B) {
	const rows = 20_000
	var in bytes.Buffer
	in.WriteString("FirstName,LastName,Email,Phone,Title,MobilePhone,MailingStreet,MailingCity,MailingPostalCode,Description\n")
	for i := range rows {
		n := fmt.Sprint(i)
		in.WriteString("First" + n + ",Last" + n + ",contact" + n + "@example.com,+1 415 555 " + n + ",Senior Engineer " + n +
			",+1 650 555 " + n + "," + n + " Market Street Suite " + n + ",San Francisco,," + "Loaded by the benchmark row " + n + "\n")
	}
	data := in.Bytes()
	header := strings.Split("FirstName,LastName,Email,Phone,Title,MobilePhone,MailingStreet,MailingCity,MailingPostalCode,Description", ",")
	for _, tc := range []struct {
		name string
		opts Options
	}{{"as-read", Options{API: Bulk2}}, {"encoded", Options{API: Bulk2, Nulls: NullsWrite}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := benchCPU()
			for b.Loop() {
				r := newInputRun(b, tc.opts, header)
				src := CSVSource(bytes.NewReader(data), "in.csv", CSVOptions{})
				src.Header()
				chunks, _ := chunkInput(b, r, Bulk2, src)
				for _, c := range chunks {
					c.remove()
				}
			}
			b.ReportMetric(float64(benchCPU()-cpu0)/float64(b.N)/rows, "cpu-ns/row")
		})
	}
}

// recordingSource passes rows on unchanged and keeps a copy of their values.
type recordingSource struct {
	Source
	rows [][]string
}

func (s *recordingSource) Next() (Row, error) {
	row, err := s.Source.Next()
	if err == nil {
		s.rows = append(s.rows, append([]string(nil), row.Values...))
	}
	return row, err
}

// FuzzChunkerAsRead feeds arbitrary CSV to the input path up to the chunk file: the rows
// the chunk holds must read back as the rows accepted (whether sent as read or encoded
// again), every record must end with the job's line ending, and the chunk's counted size
// must be its file's.
func FuzzChunkerAsRead(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n\"x,y\",\"q\"\"\"\n"), false)
	f.Add([]byte("a,b\r\n\"multi\r\nline\",\n\n\"\",\"\"\r\nZoë,\ufeffx\r\n"), true)
	f.Add([]byte("a,b\nl\rone,x\r\nbad\"q,y\n1\n\xff,z\nlast,\"open\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, crlf bool) {
		rd := sfcsv.NewReader(bytes.NewReader(data), sfcsv.ReaderOptions{})
		header, err := rd.Header()
		if err != nil || len(header) == 0 {
			return
		}
		seen := map[string]bool{}
		for _, h := range header {
			k := strings.ToLower(strings.TrimSpace(h))
			if k == "" || seen[k] {
				return // a header the source refuses
			}
			seen[k] = true
		}
		opts := Options{API: Bulk2}
		if crlf {
			opts.LineEnding = sfcsv.CRLF
		}
		r := newInputRun(t, opts, header)
		src := &recordingSource{Source: CSVSource(bytes.NewReader(data), "in.csv", CSVOptions{})}
		src.Header()
		chunks, rejected := chunkInput(t, r, Bulk2, src)
		if len(rejected) > 0 {
			return // a row over a size limit: not in this input's range
		}
		var got [][]string
		for _, c := range chunks {
			b := chunkFile(t, c)
			cr := sfcsv.NewReader(bytes.NewReader(b), sfcsv.ReaderOptions{})
			if _, err := cr.Header(); err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := cr.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("chunk %q: %v", b, err)
				}
				if le, ok := cr.LineEnding(); le != r.cfg.LineEnding || !ok {
					t.Fatalf("chunk %q: row %d does not end with %v", b, cr.Row(), r.cfg.LineEnding)
				}
				got = append(got, rec)
			}
		}
		// Rows with a NUL byte are refused, not sent.
		var want [][]string
		for _, row := range src.rows {
			if !slices.ContainsFunc(row, func(v string) bool { return strings.IndexByte(v, 0) >= 0 }) {
				want = append(want, row)
			}
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("input %q: chunk rows (-want +got):\n%s", data, diff)
		}
	})
}
