package plan

import (
	"context"
	"errors"
	"fmt"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// requestsPerBulk2Job estimates the requests one Bulk API 2.0 ingest job takes: create,
// upload, close, a few status polls, and the three result files.
const requestsPerBulk2Job = 9

// requestsPerBulk1Batch estimates the requests of one Bulk API 1.0 batch: add, polls, result.
const requestsPerBulk1Batch = 4

// placeholderID stands in, during preview, for a lookup that will hold an id created by
// the run: it lets the preflight check the rest of the row. It is never sent.
const placeholderID = "000000000000000AAA"

// StepPreview is what one step will cost and what its preflight found.
type StepPreview struct {
	Step     *Step
	API      load.API
	Jobs     int64 // Bulk API 2.0 jobs or Bulk API 1.0 jobs
	Batches  int64 // counted against DailyBulkApiBatches
	Requests int64 // API requests, estimated
	Findings []load.Problem
	More     int // findings found but not listed
}

// Preview is the plan's preview: every step's cost and findings, and the org's limits.
type Preview struct {
	Steps          []*StepPreview
	Requests       int64
	Batches        int64
	Limits         map[string]salesforce.Limit // nil if /limits could not be read
	LimitsErr      error
	FindingsCount  int
	SecondPassRows string // note on second passes, whose rows are known only after the first
}

// PreviewPlan checks every first-pass step with a dry run (header and every row against
// describe: fields, types, lengths, required fields, restricted picklist values), counts
// what each step will cost and reads the org's /limits. Nothing is written to the org.
func PreviewPlan(ctx context.Context, c *salesforce.Client, p *Plan) (*Preview, error) {
	pv := &Preview{}
	for _, st := range p.Steps {
		sp := &StepPreview{Step: st}
		rows := st.Rows
		if st.Pass == 2 {
			rows = st.First.Rows // at most: rows with a deferred lookup
		}
		r := &runner{plan: p}
		lo, err := r.loadOptions(st)
		if err != nil {
			return nil, err
		}
		sp.API = lo.API
		if sp.API == load.Auto {
			sp.API = load.Bulk2
			if rows <= load.DefaultCollectionsThreshold {
				sp.API = load.Collections
			}
		}
		if st.Files() {
			sp.API = load.Collections // REST: one multipart request per file
		}
		switch {
		case st.Files():
			sp.Requests = rows
		case sp.API == load.Collections:
			per := int64(load.MaxCollectionRecords)
			if lo.BatchSize > 0 {
				per = int64(min(lo.BatchSize, load.MaxCollectionRecords))
			}
			sp.Requests = ceil(rows, per)
		case sp.API == load.Bulk2:
			// Each job's data counts as batches of 10,000 records, the last one partial.
			sp.Jobs, sp.Batches = load.Bulk2Jobs(rows, lo.BatchSize)
			sp.Requests = sp.Jobs * requestsPerBulk2Job
		case sp.API == load.Bulk1:
			per := int64(load.MaxBulk1BatchRecords)
			if lo.BatchSize > 0 {
				per = int64(lo.BatchSize)
			}
			sp.Jobs = 1
			sp.Batches = ceil(rows, per)
			sp.Requests = 3 + sp.Batches*requestsPerBulk1Batch
		}
		pv.Requests += sp.Requests
		pv.Batches += sp.Batches
		if st.Pass == 1 {
			if err := previewRows(ctx, c, p, st, lo, sp); err != nil {
				return nil, err
			}
			pv.FindingsCount += len(sp.Findings) + sp.More
		}
		pv.Steps = append(pv.Steps, sp)
	}
	pv.Limits, pv.LimitsErr = c.Limits(ctx)
	return pv, nil
}

// previewRows runs the step's preflight as a dry run: lookups to rows the plan will create
// are replaced by a placeholder id (checked by the run itself), deferred ones left out.
func previewRows(ctx context.Context, c *salesforce.Client, p *Plan, st *Step, lo load.Options, sp *StepPreview) error {
	src, closeSrc, err := p.File.openMapped(st.obj)
	if err != nil {
		return err
	}
	defer closeSrc()
	if src, err = p.File.converted(st.obj, src, st.describe); err != nil {
		return err
	}
	var drop []string
	for _, d := range st.Deferred {
		drop = append(drop, d.Column)
	}
	if st.dropKey {
		drop = append(drop, st.obj.key())
	}
	rs := newRefSource(ctx, src, nil, nil, drop)
	for i, h := range src.Header() {
		for _, ref := range st.Refs {
			if ref.ByKey && ref.Column == h {
				rs.trans[i] = ""
			}
		}
	}
	rs.placeholder = true
	lo.DryRun, lo.Preflight = true, load.PreflightRequired
	var checked load.Source = rs
	if st.Files() {
		checked = newFileCheckSource(rs, st.Object, st.blob, p.File)
	}
	fs := &findingSource{Source: checked}
	_, err = load.Load(ctx, c, fs, nil, lo)
	sp.Findings, sp.More = fs.found, fs.more
	var pe *load.PreflightError
	switch {
	case errors.As(err, &pe):
		sp.Findings, sp.More = append(sp.Findings, pe.Problems...), sp.More+pe.Truncated
	case err != nil:
		var ie *load.InputError
		if errors.As(err, &ie) {
			sp.Findings = append(sp.Findings, load.Problem{Row: ie.Row, Column: ie.Column, Code: load.StatusInvalidRow, Message: ie.Error()})
			return nil
		}
		return fmt.Errorf("previewing %s: %w", st.Dir(), err)
	}
	return nil
}

// maxFindings bounds the rejected rows a preview lists per step.
const maxFindings = 1000

// findingSource notes the rows its source rejects (values that cannot be converted,
// unknown references) as findings.
type findingSource struct {
	load.Source
	found []load.Problem
	more  int
}

func (s *findingSource) Next() (load.Row, error) {
	row, err := s.Source.Next()
	var ie *load.InputError
	if errors.As(err, &ie) && ie.Row > 0 && !ie.Structural {
		if len(s.found) < maxFindings {
			s.found = append(s.found, load.Problem{Row: ie.Row, Column: ie.Column, Code: load.StatusInvalidRow, Message: ie.Err.Error()})
		} else {
			s.more++
		}
	}
	return row, err
}

func ceil(n, per int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + per - 1) / per
}
