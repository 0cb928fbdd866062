package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// ErrUnresolved is wrapped by the row error of a lookup whose source id has no record
// created by the run (its parent row failed, or was never in the plan's source).
var ErrUnresolved = errors.New("reference to a row this run did not load")

// refSource sends a step's rows: lookup columns holding source ids are translated to the
// ids the run created, and deferred lookups and a Key column that is not a field are left
// out. A row whose lookup cannot be translated fails alone.
type refSource struct {
	ctx    context.Context
	src    load.Source
	ids    *idMap
	keep   []int          // source columns sent, in order
	trans  map[int]string // source column -> target object, for ByKey lookups
	hdr    []string       // the header sent
	name   string
	cached map[string]string // "Object\x00key" -> id, bounded by refCache
	// placeholder replaces translated lookups by placeholderID (preview: nothing is sent).
	placeholder bool
	// passCreated lets through a value that is already an id the run created (a retry of
	// failure.csv, whose rows hold ids where the first attempt had translated them).
	passCreated bool
}

// refCache bounds the ids a refSource keeps in memory.
const refCache = 50_000

func newRefSource(ctx context.Context, src load.Source, ids *idMap, refs []Ref, drop []string) *refSource {
	s := &refSource{ctx: ctx, src: src, ids: ids, trans: map[int]string{}, cached: map[string]string{}}
	if n, ok := src.(interface{ Name() string }); ok {
		s.name = n.Name()
	}
	hdr := src.Header()
	for i, h := range hdr {
		if slices.ContainsFunc(drop, func(d string) bool { return strings.EqualFold(d, h) }) {
			continue
		}
		s.keep = append(s.keep, i)
		s.hdr = append(s.hdr, h)
		for _, r := range refs {
			if r.ByKey && strings.EqualFold(r.Column, h) {
				s.trans[i] = r.Target
			}
		}
	}
	return s
}

func (s *refSource) Header() []string { return s.hdr }

// Name names the input.
func (s *refSource) Name() string { return s.name }

func (s *refSource) Next() (load.Row, error) {
	row, err := s.src.Next()
	if err != nil {
		var ie *load.InputError
		if errors.As(err, &ie) && ie.Row > 0 {
			ie.Values = s.project(ie.Values)
		}
		return row, err
	}
	for i, target := range s.trans {
		v := row.Values[i]
		if v == "" || v == sfcsv.NullValue {
			continue
		}
		if s.placeholder {
			row.Values[i] = placeholderID
			continue
		}
		id, ok, err := s.lookup(target, v)
		if err != nil {
			return row, err
		}
		if !ok && s.passCreated {
			if ok, err = s.ids.created(s.ctx, target, v); err != nil {
				return row, err
			}
			id = v
		}
		if !ok {
			return load.Row{}, &load.InputError{File: s.name, Row: row.Number, Line: row.Line, Column: s.src.Header()[i],
				Values: s.project(row.Values), Err: fmt.Errorf("%w: %s %q", ErrUnresolved, target, v)}
		}
		row.Values[i] = id
	}
	row.Values = s.project(row.Values)
	return row, nil
}

func (s *refSource) lookup(object, key string) (string, bool, error) {
	ck := object + "\x00" + key
	if id, ok := s.cached[ck]; ok {
		return id, true, nil
	}
	id, ok, err := s.ids.lookup(s.ctx, object, key)
	if ok {
		if len(s.cached) >= refCache {
			clear(s.cached)
		}
		s.cached[ck] = id
	}
	return id, ok, err
}

func (s *refSource) project(vals []string) []string {
	if vals == nil || len(s.keep) == len(vals) {
		return vals
	}
	out := make([]string, 0, len(s.keep))
	for _, i := range s.keep {
		if i < len(vals) {
			out = append(out, vals[i])
		}
	}
	return out
}

// zipResults reads the step's source (mapped and converted, as it was sent) beside its
// results.csv and calls fn for every row that succeeded, with the row's values under hdr
// and its record id.
func (r *runner) zipResults(st *Step, fn func(hdr, vals []string, id string) error) error {
	src, closeSrc, err := r.plan.File.openMapped(st.obj)
	if err != nil {
		return err
	}
	defer closeSrc()
	if src, err = r.plan.File.converted(st.obj, src, st.describe); err != nil {
		return err
	}
	rf, err := os.Open(filepath.Join(r.opts.Dir, st.Dir(), load.ResultsFile))
	if err != nil {
		return err
	}
	defer rf.Close()
	rd := sfcsv.NewReader(rf, sfcsv.ReaderOptions{ReuseRecord: true})
	rh, err := rd.Header()
	if err != nil {
		return fmt.Errorf("reading %s results: %w", st.Dir(), err)
	}
	cRow, cOut, cID := slices.Index(rh, "sf__Row"), slices.Index(rh, "sf__Outcome"), slices.Index(rh, "sf__Id")
	if cRow < 0 || cOut < 0 || cID < 0 {
		return fmt.Errorf("reading %s results: missing sf__ columns", st.Dir())
	}
	hdr := src.Header()
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s results: %w", st.Dir(), err)
		}
		if rec[cOut] != load.Succeeded.String() {
			continue
		}
		n, err := strconv.ParseInt(rec[cRow], 10, 64)
		if err != nil {
			return fmt.Errorf("reading %s results: sf__Row %q", st.Dir(), rec[cRow])
		}
		id := rec[cID]
		// Advance the source to row n.
		for {
			row, err := src.Next()
			var ie *load.InputError
			if errors.As(err, &ie) && ie.Row > 0 && !ie.Structural {
				if ie.Row >= n {
					return fmt.Errorf("%s: row %d succeeded but the source rejects it now: the source changed", st.Dir(), n)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: reading row %d of the source: %w", st.Dir(), n, err)
			}
			if row.Number < n {
				continue
			}
			if row.Number > n {
				return fmt.Errorf("%s: row %d is missing from the source: the source changed", st.Dir(), n)
			}
			if err := fn(hdr, row.Values, id); err != nil {
				return err
			}
			break
		}
	}
}
