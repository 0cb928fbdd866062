package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
)

// Ref is a column of one plan object that points at another (or the same) plan object.
type Ref struct {
	Column string // as in the mapped header: "AccountId" or "Account.External_Id__c"
	Field  string // the lookup field, "AccountId"
	Target string // the plan object it points at
	// ByKey reports that the column holds the target's source ids (its Key column), which
	// the run translates to the ids it created. Otherwise the column goes as it is (an
	// external id through a relationship column, or an id already in the org).
	ByKey bool
	// Required reports a lookup that cannot be left blank on insert (not nillable, or
	// master-detail): it can never wait for a second pass.
	Required bool
}

// findRefs lists the header's columns that point at objects of the plan.
func findRefs(hdr []string, d *salesforce.SObjectDescribe, inPlan func(string) (string, bool), hasKey func(string) bool) []Ref {
	var refs []Ref
	for _, col := range hdr {
		var f *salesforce.Field
		byID := false
		if rel, _, ok := strings.Cut(col, "."); ok {
			for i := range d.Fields {
				if d.Fields[i].Type == "reference" && strings.EqualFold(d.Fields[i].RelationshipName, rel) {
					f = &d.Fields[i]
				}
			}
		} else if ff, ok := d.Field(col); ok && ff.Type == "reference" {
			f, byID = ff, true
		}
		if f == nil {
			continue
		}
		for _, to := range f.ReferenceTo {
			target, ok := inPlan(to)
			if !ok {
				continue
			}
			refs = append(refs, Ref{Column: col, Field: f.Name, Target: target, ByKey: byID && hasKey(target),
				Required: !f.Nillable && f.Createable})
			break
		}
	}
	return refs
}

// order returns the objects (by index) parents first, and for each object the reference
// columns that wait for a second pass: self-references, and in a cycle the optional
// lookups that break it. A cycle of required lookups is an *Error.
func order(names []string, refs [][]Ref) ([]int, [][]Ref, error) {
	n := len(names)
	idx := map[string]int{}
	for i, nm := range names {
		idx[strings.ToLower(nm)] = i
	}
	deferred := make([][]Ref, n)
	var probs []string
	// live[i] are the refs of i that still constrain the order.
	live := make([][]Ref, n)
	for i, rs := range refs {
		for _, r := range rs {
			if strings.EqualFold(r.Target, names[i]) {
				if r.Required {
					probs = append(probs, fmt.Sprintf("%s.%s is a required lookup to its own object: no record can be inserted first", names[i], r.Field))
					continue
				}
				deferred[i] = append(deferred[i], r)
				continue
			}
			live[i] = append(live[i], r)
		}
	}
	if len(probs) > 0 {
		return nil, nil, &Error{Problems: probs}
	}
	done := make([]bool, n)
	var out []int
	waitsFor := func(i int) []Ref { // live refs of i to objects not yet placed
		var w []Ref
		for _, r := range live[i] {
			if !done[idx[strings.ToLower(r.Target)]] {
				w = append(w, r)
			}
		}
		return w
	}
	for len(out) < n {
		progressed := false
		for i := range n { // file order among the ready ones
			if !done[i] && len(waitsFor(i)) == 0 {
				done[i], progressed = true, true
				out = append(out, i)
			}
		}
		if progressed {
			continue
		}
		// A cycle: place the first object (in file order) whose pending lookups are all
		// optional, and defer those lookups to the second pass.
		placed := false
		for i := range n {
			if done[i] {
				continue
			}
			w := waitsFor(i)
			if slices.ContainsFunc(w, func(r Ref) bool { return r.Required }) {
				continue
			}
			deferred[i] = append(deferred[i], w...)
			live[i] = slices.DeleteFunc(live[i], func(r Ref) bool { return slices.ContainsFunc(w, func(x Ref) bool { return x.Column == r.Column }) })
			done[i], placed = true, true
			out = append(out, i)
			break
		}
		if !placed {
			var cyc []string
			for i := range n {
				if !done[i] {
					for _, r := range waitsFor(i) {
						cyc = append(cyc, fmt.Sprintf("%s.%s -> %s", names[i], r.Field, r.Target))
					}
				}
			}
			return nil, nil, &Error{Problems: []string{"a cycle of required lookups cannot be loaded in two passes: " + strings.Join(cyc, ", ")}}
		}
	}
	return out, deferred, nil
}
