package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// PlanFile is a plan run folder's plan.json: its steps in order, each with its object, pass
// and the plan objects its lookups point at.
const PlanFile = "plan.json"

// maxStepCodes is how many error codes a plan's page lists per step.
const maxStepCodes = 5

// Plan is a plan run: its object graph and its steps.
type Plan struct {
	Nodes []PlanNode `json:"nodes"` // one per object, in the order of its first step
	Edges []PlanEdge `json:"edges"` // lookups between the plan's objects
	Steps []Step     `json:"steps"`
}

// PlanNode is one object of a plan with its rows by outcome: those of its first-pass steps
// (the records), and the rows of its second-pass steps (lookups filled in later) that did
// not succeed.
type PlanNode struct {
	Object   string  `json:"object"`
	Rows     int64   `json:"rows"`
	Outcomes []Count `json:"outcomes"`
	// LookupsNotSet counts the rows of its second-pass steps that did not succeed: records
	// that exist but lack a lookup the plan deferred.
	LookupsNotSet int64 `json:"lookups_not_set"`
}

// PlanEdge is a lookup from the records of one object to another's.
type PlanEdge struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Deferred bool   `json:"deferred"` // set in a second pass (a cycle or a self-lookup)
}

// Step is one step of a plan, from plan.json and its folder.
type Step struct {
	N         int     `json:"step"`
	Dir       string  `json:"dir"`
	Object    string  `json:"object"`
	Pass      int     `json:"pass"`
	Operation string  `json:"operation"`
	Source    string  `json:"source"`
	Ran       bool    `json:"ran"` // its folder has results.csv
	Rows      int64   `json:"rows"`
	Created   int64   `json:"created"`
	Outcomes  []Count `json:"outcomes"`
	ByCode    []Group `json:"by_code"` // up to maxStepCodes
	Files     []File  `json:"files"`
}

// planDoc is the part of plan.json a report reads.
type planDoc struct {
	RunID string `json:"run_id"`
	Steps []struct {
		N         int      `json:"step"`
		Dir       string   `json:"dir"`
		Object    string   `json:"object"`
		Pass      int      `json:"pass"`
		Operation string   `json:"operation"`
		Source    string   `json:"source"`
		After     []string `json:"after"`
	} `json:"steps"`
}

func readPlanDoc(dir string) (*planDoc, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		return nil, err
	}
	var doc planDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("report: reading %s: %w", filepath.Join(dir, PlanFile), err)
	}
	return &doc, nil
}

// stepOf reports whether dir is a step folder of a plan run, and returns the plan's folder.
func stepOf(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	parent := filepath.Dir(abs)
	doc, err := readPlanDoc(parent)
	if err != nil {
		return "", false
	}
	base := filepath.Base(abs)
	for _, s := range doc.Steps {
		if s.Dir == base {
			return parent, true
		}
	}
	return "", false
}

// buildPlan aggregates a plan's run folder: the plan's own events and journal for the
// timeline, each step's results.csv for its counts, plan.json for the object graph.
// Counts by outcome add up every step's rows; examples (Options.Values) are left to the
// steps' own reports.
func buildPlan(ctx context.Context, dir string, opts Options) (*Data, error) {
	doc, err := readPlanDoc(dir)
	if err != nil {
		return nil, err
	}
	d, err := build(ctx, dir, sources{events: filepath.Join(dir, EventsFile), journal: filepath.Join(dir, JournalFile),
		plan: true, kind: KindPlan}, Options{})
	if err != nil {
		return nil, err
	}
	d.Kind = KindPlan
	d.Run.ID = first(d.Run.ID, doc.RunID)
	p := &Plan{}
	all := newTally()
	nodes := map[string]*PlanNode{}
	nodeTally := map[string]*tally{}
	edges := map[PlanEdge]bool{}
	for _, sd := range doc.Steps {
		st := Step{N: sd.N, Dir: sd.Dir, Object: sd.Object, Pass: sd.Pass, Operation: sd.Operation, Source: sd.Source}
		t := newTally()
		stepDir := filepath.Join(dir, sd.Dir)
		if err := t.read(filepath.Join(stepDir, ResultsFile), Options{}); err == nil {
			st.Ran = true
		} else if !os.IsNotExist(err) {
			return nil, err
		}
		st.Rows, st.Created, st.Outcomes = t.rows, t.created, t.outcomeList()
		st.ByCode = groups(t.codes)
		if len(st.ByCode) > maxStepCodes {
			st.ByCode = st.ByCode[:maxStepCodes]
		}
		for _, f := range listFiles(stepDir) {
			f.Name = sd.Dir + "/" + f.Name
			st.Files = append(st.Files, f)
		}
		all.merge(t)
		n := nodes[sd.Object]
		if n == nil {
			n = &PlanNode{Object: sd.Object}
			nodes[sd.Object] = n
			nodeTally[sd.Object] = newTally()
			p.Nodes = append(p.Nodes, PlanNode{Object: sd.Object})
		}
		if sd.Pass <= 1 {
			nodeTally[sd.Object].merge(t)
		} else {
			n.LookupsNotSet += t.rows - t.outcomes["succeeded"]
		}
		for _, to := range sd.After {
			e := PlanEdge{From: sd.Object, To: to, Deferred: sd.Pass > 1}
			if !edges[e] {
				edges[e] = true
				p.Edges = append(p.Edges, e)
			}
		}
		p.Steps = append(p.Steps, st)
	}
	for i := range p.Nodes {
		n := nodes[p.Nodes[i].Object]
		t := nodeTally[n.Object]
		n.Rows, n.Outcomes = t.rows, t.outcomeList()
		p.Nodes[i] = *n
	}
	// A deferred lookup is also listed by its first pass when the plan names it there:
	// keep one edge per pair, deferred if either pass says so.
	p.Edges = slices.DeleteFunc(p.Edges, func(e PlanEdge) bool {
		return !e.Deferred && edges[PlanEdge{From: e.From, To: e.To, Deferred: true}]
	})
	all.into(d)
	d.Plan = p
	return d, nil
}
