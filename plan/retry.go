package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sfbatch/sfbatch/convert"
	"github.com/sfbatch/sfbatch/load"
)

// StepRun is one step of a plan run, opened to load some of its rows again (sfbatch
// retry of a step folder). Not safe for concurrent use.
type StepRun struct {
	Step  StepDoc // the step as plan.json records it
	RunID string  // the step's run id in the plan's run.db
	ids   *idMap
}

// OpenStep opens the step whose folder is stepDir, inside a plan run folder.
func OpenStep(ctx context.Context, stepDir string) (*StepRun, error) {
	planDir := filepath.Dir(filepath.Clean(stepDir))
	b, err := os.ReadFile(filepath.Join(planDir, PlanFile))
	if err != nil {
		return nil, fmt.Errorf("plan: %s is not a step of a plan run: %w", stepDir, err)
	}
	var doc Doc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("plan: %s: %w", PlanFile, err)
	}
	name := filepath.Base(filepath.Clean(stepDir))
	for _, sd := range doc.Steps {
		if sd.Dir != name {
			continue
		}
		ids, err := openIDMap(ctx, filepath.Join(planDir, JournalFile))
		if err != nil {
			return nil, err
		}
		return &StepRun{Step: sd, RunID: fmt.Sprintf("%s-%02d", doc.RunID, sd.N), ids: ids}, nil
	}
	return nil, fmt.Errorf("plan: %s has no step %s", planDir, name)
}

// Operation is the step's operation.
func (s *StepRun) Operation() load.Operation { return load.Operation(s.Step.Operation) }

// Source wraps rows of the step (as its failure.csv holds them) so that lookups holding
// source ids are translated through the plan run's id map, as the run did; values that
// are already ids the run created pass as they are. A lookup that still names a row
// that was not loaded fails its row.
func (s *StepRun) Source(ctx context.Context, src load.Source) load.Source {
	var refs []Ref
	for col, target := range s.Step.Translate {
		refs = append(refs, Ref{Column: col, Target: target, ByKey: true})
	}
	rs := newRefSource(ctx, src, s.ids, refs, nil)
	rs.passCreated = true
	return rs
}

// Convert wraps rows of the step (as its failure.csv holds them) with the step's
// conversions, applied to the rows raw reports (by their row in src): rows that failed
// before conversion hold the values as the source had them, the others hold values already
// converted, which are left as they are. A value that still cannot be converted fails its
// row, as in the run.
func (s *StepRun) Convert(src load.Source, raw func(row int64) bool) (load.Source, error) {
	if len(s.Step.Convert) == 0 {
		return src, nil
	}
	hdr := src.Header()
	cs := &convertSource{Source: src, rules: make([]*convert.Rule, len(hdr)), canon: make([]*convert.Rule, len(hdr)), raw: raw}
	for col, c := range s.Step.Convert {
		r, err := c.rule(Defaults{})
		if err != nil {
			return nil, fmt.Errorf("plan: step %s: convert.%s: %w", s.Step.Dir, col, err)
		}
		// Salesforce's own form of the kind: a fixed value written that way is taken too.
		canon := &convert.Rule{Kind: r.Kind, Zone: r.Zone, Nulls: r.Nulls}
		if err := canon.Compile(); err != nil {
			return nil, fmt.Errorf("plan: step %s: convert.%s: %w", s.Step.Dir, col, err)
		}
		for i, h := range hdr {
			if strings.EqualFold(h, col) {
				cs.rules[i], cs.canon[i] = r, canon
			}
		}
	}
	return cs, nil
}

// convertSource applies rules to the rows raw selects; a value the rule cannot read that
// is already in Salesforce's form (canon) is taken as it is.
type convertSource struct {
	load.Source
	rules []*convert.Rule
	canon []*convert.Rule
	raw   func(int64) bool
}

func (s *convertSource) Next() (load.Row, error) {
	row, err := s.Source.Next()
	if err != nil || !s.raw(row.Number) {
		return row, err
	}
	for i, r := range s.rules {
		if r == nil || i >= len(row.Values) {
			continue
		}
		v, err := r.Convert(row.Values[i])
		if err != nil && errors.Is(err, convert.ErrConvert) {
			if cv, cerr := s.canon[i].Convert(row.Values[i]); cerr == nil {
				v, err = cv, nil
			}
		}
		if err != nil {
			if !errors.Is(err, convert.ErrConvert) {
				return row, err
			}
			name := ""
			if n, ok := s.Source.(interface{ Name() string }); ok {
				name = n.Name()
			}
			return load.Row{}, &load.InputError{File: name, Row: row.Number, Line: row.Line, Column: s.Header()[i],
				Values: row.Values, Err: fmt.Errorf("%w: %w", load.ErrValue, err)}
		}
		row.Values[i] = v
	}
	return row, nil
}

// Close releases the id map.
func (s *StepRun) Close() error { return s.ids.close() }
