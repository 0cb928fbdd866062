package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones of plans and --time-zone, on machines without zoneinfo

	"github.com/sfbatch/sfbatch/convert"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// Describer is the call Compile makes; *salesforce.Client has it.
type Describer interface {
	Describe(ctx context.Context, object string) (*salesforce.SObjectDescribe, error)
}

// Plan is a File checked against the org: its steps in load order.
type Plan struct {
	File  *File
	Steps []*Step
}

// Step is one load of a plan: the first pass of an object, or the second pass that fills
// its deferred lookups (an update by the ids the first pass created).
type Step struct {
	N         int    // 1-based; the step's folder is NN-Object
	Object    string // sObject API name as the org spells it
	Pass      int    // 1, or 2 for the pass that fills deferred lookups
	Operation load.Operation
	Source    string // the input file (pass 1), or the generated input.csv (pass 2)
	Refs      []Ref  // lookups to plan objects in this step's columns
	Deferred  []Ref  // pass 1: columns left for pass 2; pass 2: the columns it fills
	Rows      int64  // data rows of the source (pass 1); 0 for pass 2 until generated
	Invalid   int64  // rows the reader rejects
	First     *Step  // pass 2: the first pass it completes

	obj      *Object
	describe *salesforce.SObjectDescribe
	dropKey  bool   // the Key column is not a field: it is not sent
	blob     string // a files step: the column holding file paths (see loadFiles)
}

// Files reports whether the step uploads files (ContentVersion or Attachment bodies from a
// column of file paths), one request per row.
func (s *Step) Files() bool { return s.blob != "" }

// Dir is the step's folder name: "03-Contact".
func (s *Step) Dir() string { return fmt.Sprintf("%02d-%s", s.N, s.Object) }

// Compile describes every object of f, reads each source's header (through its mapping),
// finds the lookups between the plan's objects and orders the steps: parents first
// whatever the file's order, self-references and optional lookups of a cycle deferred to a
// second pass. It counts each source's rows. Problems with the plan are an *Error.
func Compile(ctx context.Context, c Describer, f *File) (*Plan, error) {
	names := make([]string, len(f.Objects))
	descs := make([]*salesforce.SObjectDescribe, len(f.Objects))
	var probs []string
	for i, o := range f.Objects {
		d, err := c.Describe(ctx, o.Object)
		if err != nil {
			var ae *salesforce.APIError
			if errors.As(err, &ae) && (ae.StatusCode == 404 || ae.ErrorCode == "NOT_FOUND" || ae.ErrorCode == "INVALID_TYPE") {
				probs = append(probs, fmt.Sprintf("objects[%d]: %s is not an object of the org", i, o.Object))
				continue
			}
			return nil, fmt.Errorf("plan: describing %s: %w", o.Object, err)
		}
		names[i], descs[i] = d.Name, d
	}
	if len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	inPlan := func(obj string) (string, bool) {
		for _, n := range names {
			if strings.EqualFold(n, obj) {
				return n, true
			}
		}
		return "", false
	}
	hasKey := func(obj string) bool {
		for i, n := range names {
			if strings.EqualFold(n, obj) {
				return f.Objects[i].key() != ""
			}
		}
		return false
	}
	steps := make([]*Step, len(f.Objects))
	refs := make([][]Ref, len(f.Objects))
	for i := range f.Objects {
		o := &f.Objects[i]
		st := &Step{Object: names[i], Pass: 1, Operation: o.operationOrInsert(), Source: f.path(o.Source), obj: o, describe: descs[i]}
		src, closeSrc, err := f.openMapped(o)
		if err != nil {
			probs = append(probs, fmt.Sprintf("objects[%d] (%s): %v", i, o.Object, err))
			continue
		}
		hdr := slices.Clone(src.Header())
		if k := o.key(); k != "" {
			if !slices.ContainsFunc(hdr, func(h string) bool { return strings.EqualFold(h, k) }) {
				probs = append(probs, fmt.Sprintf("objects[%d] (%s): key column %q is not in the source", i, o.Object, k))
			}
			_, isField := descs[i].Field(k)
			// A source's own Id is never sent, except as the record to update.
			st.dropKey = !isField || strings.EqualFold(k, "Id") && st.Operation != load.Update
		}
		for col := range o.Convert {
			if !slices.ContainsFunc(hdr, func(h string) bool { return strings.EqualFold(h, col) }) {
				probs = append(probs, fmt.Sprintf("objects[%d] (%s): convert.%s: no such column after mapping", i, o.Object, col))
			}
		}
		if wrapped, err := f.converted(o, src, descs[i]); err != nil {
			probs = append(probs, fmt.Sprintf("objects[%d] (%s): %v", i, o.Object, err))
		} else {
			st.Rows, st.Invalid, err = load.CheckStructure(wrapped)
			if err != nil {
				probs = append(probs, fmt.Sprintf("objects[%d] (%s): %v", i, o.Object, err))
			}
		}
		closeSrc()
		if col, ok := blobField(names[i], hdr); ok && st.Operation == load.Insert {
			st.blob = col
		}
		refs[i] = findRefs(hdr, descs[i], inPlan, hasKey)
		st.Refs = refs[i]
		steps[i] = st
	}
	if len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	ord, deferred, err := order(names, refs)
	if err != nil {
		return nil, err
	}
	p := &Plan{File: f}
	var second []*Step
	for _, i := range ord {
		st := steps[i]
		st.Deferred = deferred[i]
		p.Steps = append(p.Steps, st)
		if len(st.Deferred) > 0 {
			second = append(second, &Step{Object: st.Object, Pass: 2, Operation: load.Update, Refs: st.Deferred,
				Deferred: st.Deferred, First: st, obj: st.obj, describe: st.describe})
		}
	}
	p.Steps = append(p.Steps, second...)
	for n, st := range p.Steps {
		st.N = n + 1
	}
	return p, nil
}

// key is the column holding the row's source id: Key, else the external id on upsert.
func (o *Object) key() string {
	if o.Key != "" {
		return o.Key
	}
	if o.operationOrInsert() == load.Upsert {
		return o.ExternalID
	}
	return ""
}

// openMapped opens o's source with its mapping applied.
func (f *File) openMapped(o *Object) (load.Source, func(), error) {
	path := f.path(o.Source)
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	format := strings.ToLower(o.Format)
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jsonl", ".ndjson":
			format = "jsonl"
		case ".parquet":
			format = "parquet"
		default:
			format = "csv"
		}
	}
	var src load.Source
	switch format {
	case "jsonl":
		src, err = load.JSONLSource(fh, path, load.JSONLOptions{})
	case "parquet":
		var st os.FileInfo
		if st, err = fh.Stat(); err == nil {
			src, err = load.ParquetSource(fh, st.Size(), path)
		}
	default:
		src = load.CSVSource(fh, path, load.CSVOptions{})
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	if o.Mapping != "" || len(o.Map) > 0 {
		m := &load.Mapping{}
		if o.Mapping != "" {
			mf, err := os.Open(f.path(o.Mapping))
			if err != nil {
				fh.Close()
				return nil, nil, fmt.Errorf("mapping: %w", err)
			}
			m, err = load.ParseMapping(mf, o.Mapping)
			mf.Close()
			if err != nil {
				fh.Close()
				return nil, nil, err
			}
		}
		keys := make([]string, 0, len(o.Map))
		for k := range o.Map {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := m.Add(k + "=" + o.Map[k]); err != nil {
				fh.Close()
				return nil, nil, err
			}
		}
		if src, err = m.Apply(src); err != nil {
			fh.Close()
			return nil, nil, err
		}
	}
	return src, func() { fh.Close() }, nil
}

// converted wraps src with o's conversions.
// Date and date-time fields without a conversion of their own get the defaults'
// dateFormat, datetimeFormat and timeZone, when set.
func (f *File) converted(o *Object, src load.Source, d *salesforce.SObjectDescribe) (load.Source, error) {
	convs := f.conversions(o, src.Header(), d)
	if len(convs) == 0 {
		return src, nil
	}
	rules := map[string]*convert.Rule{}
	for col, c := range convs {
		r, err := c.rule(f.Defaults)
		if err != nil {
			return nil, fmt.Errorf("convert.%s: %w", col, err)
		}
		rules[col] = r
	}
	return convert.Source(src, rules)
}

// conversions returns the conversion of each column of hdr that has one: o's own, and the
// defaults' for date and date-time fields without one.
func (f *File) conversions(o *Object, hdr []string, d *salesforce.SObjectDescribe) map[string]Conversion {
	convs := map[string]Conversion{}
	d0 := f.Defaults
	for _, col := range hdr {
		fd, ok := d.Field(col)
		if !ok {
			continue
		}
		switch {
		case fd.Type == "date" && d0.DateFormat != "":
			convs[col] = Conversion{Type: "date"}
		case fd.Type == "datetime" && (d0.DateTimeFormat != "" || d0.TimeZone != ""):
			convs[col] = Conversion{Type: "datetime"}
		}
	}
	for col, c := range o.Convert {
		for k := range convs {
			if strings.EqualFold(k, col) {
				delete(convs, k)
			}
		}
		convs[col] = c
	}
	return convs
}

// resolvedConversions is conversions with the defaults' formats and zone written in, so
// that each can be applied without the plan file (plan.json records them for retry).
func (f *File) resolvedConversions(o *Object, hdr []string, d *salesforce.SObjectDescribe) map[string]Conversion {
	convs := f.conversions(o, hdr, d)
	for col, c := range convs {
		switch strings.ToLower(c.Type) {
		case "date":
			c.Format = first(c.Format, f.Defaults.DateFormat)
		case "datetime":
			c.Format = first(c.Format, f.Defaults.DateTimeFormat)
		}
		if t := strings.ToLower(c.Type); t == "date" || t == "datetime" {
			c.TimeZone = first(c.TimeZone, f.Defaults.TimeZone)
		}
		convs[col] = c
	}
	return convs
}

func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}
