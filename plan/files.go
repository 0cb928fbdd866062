package plan

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Files, the Data Loader way: in a ContentVersion step a VersionData column (in an
// Attachment step, a Body column) holds the path of a local file, relative to the plan
// file. Each row is created with one multipart request that streams the file
// (salesforce.SObject.CreateWithBlob), linked to its parent through the row's
// FirstPublishLocationId (ContentVersion) or ParentId (Attachment), translated like any
// lookup of the plan.

// filesLog is a files step's journal in its folder: one JSON line before each upload and
// one with its outcome, fsync'd, so a resumed step replays the outcomes it has, sends the
// rows never sent, and leaves the row whose upload was under way unknown (never sent twice).
const filesLog = "files.jsonl"

// DefaultFilesConcurrency is how many files a files step uploads at once when neither the
// object nor the plan's defaults set a concurrency.
const DefaultFilesConcurrency = 4

// StatusFileUnreadable is the status of a row whose file cannot be read.
const StatusFileUnreadable = "SFBATCH_FILE_UNREADABLE"

// blobField returns the column of a step's header that holds file paths, if the step's
// object takes files.
func blobField(object string, header []string) (string, bool) {
	var want string
	switch strings.ToLower(object) {
	case "contentversion":
		want = "VersionData"
	case "attachment":
		want = "Body"
	default:
		return "", false
	}
	for _, h := range header {
		if strings.EqualFold(h, want) {
			return h, true
		}
	}
	return "", false
}

// nameField is the field that defaults to the file's base name when the row leaves it blank.
func nameField(object string) string {
	if strings.EqualFold(object, "ContentVersion") {
		return "PathOnClient"
	}
	return "Name"
}

type filesEntry struct {
	Row     int64    `json:"row"`
	State   string   `json:"state"` // "sending", or the outcome
	ID      string   `json:"id,omitempty"`
	Code    string   `json:"code,omitempty"`
	Message string   `json:"message,omitempty"`
	Fields  []string `json:"fields,omitempty"`
}

// loadFiles creates one record per row of src, each with its file streamed in a multipart
// request (the step's concurrency at once, DefaultFilesConcurrency without one), and
// delivers every row's outcome to sink.
func (r *runner) loadFiles(ctx context.Context, st *Step, src load.Source, sink load.Sink, col, dir string) (*load.Summary, error) {
	start := time.Now()
	sum := &load.Summary{API: load.Collections, ErrorCodes: map[string]int64{}}
	logPath := filepath.Join(dir, filesLog)
	done, err := readFilesLog(logPath)
	if err != nil {
		return sum, err
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return sum, err
	}
	defer lf.Close()
	var mu sync.Mutex // the journal, the summary and the sink are shared by the uploads
	record := func(e filesEntry) error {
		mu.Lock()
		defer mu.Unlock()
		b, _ := json.Marshal(e) // plain struct: cannot fail
		if _, err := lf.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("plan: files journal: %w", err)
		}
		return lf.Sync()
	}
	hdr := src.Header()
	if err := sink.Start(hdr); err != nil {
		return sum, err
	}
	deliver := func(res *load.RowResult) error {
		mu.Lock()
		defer mu.Unlock()
		sum.Rows++
		switch res.Outcome {
		case load.Succeeded:
			sum.Succeeded++
			sum.Created++
		case load.Failed:
			sum.Failed++
			sum.ErrorCodes[res.Error.StatusCode]++
		case load.Unknown:
			sum.Unknown++
		}
		return sink.Write(res)
	}
	sobj := r.c.SObject(st.Object)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmpOrInt(cmpOrInt(st.obj.Concurrency, r.plan.File.Defaults.Concurrency), DefaultFilesConcurrency))
	fail := func(err error) (*load.Summary, error) {
		g.Wait() // the uploads under way end (cancelled): their rows stay unknown in the journal
		return sum, err
	}
	for {
		if err := gctx.Err(); err != nil {
			break // an upload failed (g.Wait returns its error) or ctx ended
		}
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var ie *load.InputError
		if errors.As(err, &ie) && ie.Row > 0 && !ie.Structural {
			if err := deliver(&load.RowResult{Row: ie.Row, Outcome: load.Failed, Batch: -1, Values: ie.Values,
				Error: &load.RowError{StatusCode: load.StatusInvalidRow, Message: ie.Error(), Fields: []string{ie.Column}}}); err != nil {
				return fail(err)
			}
			continue
		}
		if err != nil {
			return fail(err)
		}
		vals := append([]string(nil), row.Values...)
		res := &load.RowResult{Row: row.Number, Values: vals, Batch: -1}
		if e, ok := done[row.Number]; ok {
			replay(res, e)
			if err := deliver(res); err != nil {
				return fail(err)
			}
			continue
		}
		fields, path := map[string]any{}, ""
		for i, h := range hdr {
			v := vals[i]
			switch {
			case strings.EqualFold(h, col):
				path = v
			case v == sfcsv.NullValue:
				fields[h] = nil
			case v != "":
				fields[h] = v
			}
		}
		if path == "" || path == sfcsv.NullValue {
			res.Outcome, res.Error = load.Failed, &load.RowError{StatusCode: "REQUIRED_FIELD_MISSING", Message: fmt.Sprintf("Required fields are missing: [%s] (the path of the file)", col), Fields: []string{col}}
			if err := deliver(res); err != nil {
				return fail(err)
			}
			continue
		}
		full := r.plan.File.path(path)
		if fi, err := os.Stat(full); err != nil || !fi.Mode().IsRegular() {
			msg := fmt.Sprintf("%s: not a regular file", full)
			if err != nil {
				msg = err.Error()
			}
			res.Outcome, res.Error = load.Failed, &load.RowError{StatusCode: StatusFileUnreadable, Message: msg, Fields: []string{col}}
			if err := deliver(res); err != nil {
				return fail(err)
			}
			continue
		}
		if nf := nameField(st.Object); !hasField(fields, nf) {
			fields[nf] = filepath.Base(full)
		}
		res.Batch, res.Attempts = 0, 1
		g.Go(func() error {
			if err := record(filesEntry{Row: res.Row, State: "sending"}); err != nil {
				return err
			}
			id, err := sobj.CreateWithBlob(gctx, fields, col, filepath.Base(full), func() (io.ReadCloser, error) { return os.Open(full) })
			var ae *salesforce.APIError
			switch {
			case err == nil:
				res.Outcome, res.ID, res.Created = load.Succeeded, id, true
			case errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && !load.OrgUnusable(err):
				res.Outcome, res.Error = load.Failed, &load.RowError{StatusCode: ae.ErrorCode, Message: ae.Message, Fields: ae.Fields}
			default:
				// The upload may or may not have been applied: the row stays unknown in the
				// journal, and the step stops (resumable).
				return fmt.Errorf("row %d: %w", res.Row, err)
			}
			e := filesEntry{Row: res.Row, State: res.Outcome.String(), ID: res.ID}
			if res.Error != nil {
				e.Code, e.Message, e.Fields = res.Error.StatusCode, res.Error.Message, res.Error.Fields
			}
			if err := record(e); err != nil {
				return err
			}
			return deliver(res)
		})
	}
	if err := g.Wait(); err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	sum.Duration = time.Since(start)
	return sum, nil
}

func hasField(m map[string]any, name string) bool {
	for k, v := range m {
		if strings.EqualFold(k, name) && v != nil {
			return true
		}
	}
	return false
}

// replay fills res from a journal entry: its outcome, or unknown for an upload that was
// under way when the step stopped.
func replay(res *load.RowResult, e filesEntry) {
	res.Batch, res.Attempts = 0, 1
	switch e.State {
	case load.Succeeded.String():
		res.Outcome, res.ID, res.Created = load.Succeeded, e.ID, true
	case load.Failed.String():
		res.Outcome, res.Error = load.Failed, &load.RowError{StatusCode: e.Code, Message: e.Message, Fields: e.Fields}
	default:
		res.Outcome = load.Unknown
		res.Error = &load.RowError{StatusCode: "SFBATCH_UNKNOWN", Message: "the upload was under way when the run stopped: it may have created the record; it is not sent again"}
	}
}

// readFilesLog reads a files step's journal: the last entry per row.
func readFilesLog(path string) (map[int64]filesEntry, error) {
	out := map[int64]filesEntry{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e filesEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a line cut short by a crash: its upload never started
		}
		out[e.Row] = e
	}
	return out, sc.Err()
}

// fileCheckSource is a step's source as the preview checks it: the file column is
// replaced by a check that the file exists (a row whose file cannot be read is a finding),
// and the name field gets the file's base name when blank, as the run does.
type fileCheckSource struct {
	load.Source
	col     int
	nameCol int // -1 when the name column is added
	hdr     []string
	file    *File
}

func newFileCheckSource(src load.Source, object, col string, f *File) *fileCheckSource {
	s := &fileCheckSource{Source: src, col: -1, nameCol: -1, file: f}
	nf := nameField(object)
	for i, h := range src.Header() {
		switch {
		case strings.EqualFold(h, col):
			s.col = i
			continue
		case strings.EqualFold(h, nf):
			s.nameCol = len(s.hdr)
		}
		s.hdr = append(s.hdr, h)
	}
	if s.nameCol < 0 {
		s.hdr = append(s.hdr, nf)
	}
	return s
}

func (s *fileCheckSource) Header() []string { return s.hdr }

func (s *fileCheckSource) Next() (load.Row, error) {
	row, err := s.Source.Next()
	if err != nil {
		return row, err
	}
	path := row.Values[s.col]
	out := make([]string, 0, len(s.hdr))
	out = append(out, row.Values[:s.col]...)
	out = append(out, row.Values[s.col+1:]...)
	var ferr error
	if path == "" || path == sfcsv.NullValue {
		ferr = errors.New("no file path")
	} else if fi, err := os.Stat(s.file.path(path)); err != nil {
		ferr = err
	} else if !fi.Mode().IsRegular() {
		ferr = fmt.Errorf("%s: not a regular file", path)
	}
	if ferr != nil {
		return load.Row{}, &load.InputError{Row: row.Number, Line: row.Line, Column: s.Source.Header()[s.col], Values: row.Values, Err: ferr}
	}
	if len(out) < len(s.hdr) {
		out = append(out, filepath.Base(path))
	} else if out[s.nameCol] == "" {
		out[s.nameCol] = filepath.Base(path)
	}
	row.Values = out
	return row, nil
}
