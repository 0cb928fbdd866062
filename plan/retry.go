package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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

// Close releases the id map.
func (s *StepRun) Close() error { return s.ids.close() }
