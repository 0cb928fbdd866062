package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// MaxTreeRecords is the most records (all levels) one composite tree
// request may create.
const MaxTreeRecords = 200

// treeNode is one record of a composite tree request.
type treeNode struct {
	object   *org.Object
	refID    string
	fields   map[string]any
	children []treeChild
}

type treeChild struct {
	field string // lookup field on the child pointing at the parent
	nodes []*treeNode
}

type treeError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

type treeResult struct {
	ReferenceID string      `json:"referenceId"`
	ID          string      `json:"id,omitempty"`
	Errors      []treeError `json:"errors,omitempty"`
}

// compositeTree serves POST /composite/tree/{Obj}: nested records created
// all-or-nothing, parents before children.
func (h *Handler) compositeTree(w http.ResponseWriter, q *request, objName string) {
	ob, ok := h.org.Object(objName)
	if !ok {
		notFound(w)
		return
	}
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	var in struct {
		Records []map[string]any `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	tp := &treeParser{org: h.org, seen: map[string]bool{}}
	roots, err := tp.parse(ob, in.Records)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_INPUT", err.Error())
		return
	}
	if tp.count == 0 || tp.count > MaxTreeRecords {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_INPUT",
			fmt.Sprintf("A composite tree request must contain between 1 and %d records; it contained %d.", MaxTreeRecords, tp.count))
		return
	}
	j := &journal{}
	ctx := withJournal(q.r.Context(), j)
	results, failed := h.insertTree(ctx, q.userID, roots)
	if failed {
		h.rollback(ctx, q.userID, j)
		var errs []treeResult
		for _, r := range results {
			if len(r.Errors) > 0 {
				errs = append(errs, r)
			}
		}
		wire.WriteJSON(w, http.StatusBadRequest, map[string]any{"hasErrors": true, "results": errs})
		return
	}
	wire.WriteJSON(w, http.StatusCreated, map[string]any{"hasErrors": false, "results": results})
}

// treeParser turns a tree request's records into nodes, counting them and
// checking that reference ids are unique.
type treeParser struct {
	org   *org.Org
	count int
	seen  map[string]bool
}

// parse reads recs, records of ob with their children nested under child
// relationship names.
func (tp *treeParser) parse(ob *org.Object, recs []map[string]any) ([]*treeNode, error) {
	var out []*treeNode
	for _, rec := range recs {
		tp.count++
		attrs, _ := rec["attributes"].(map[string]any)
		typ, _ := attrs["type"].(string)
		ref, _ := attrs["referenceId"].(string)
		if typ != "" && !strings.EqualFold(typ, ob.Name) {
			return nil, fmt.Errorf("record type %s does not match %s", typ, ob.Name)
		}
		if ref == "" || tp.seen[ref] {
			return nil, fmt.Errorf("every record needs a unique attributes.referenceId (got %q)", ref)
		}
		tp.seen[ref] = true
		n := &treeNode{object: ob, refID: ref, fields: map[string]any{}}
		for k, v := range rec {
			if k == "attributes" {
				continue
			}
			sub, isMap := v.(map[string]any)
			kids, hasRecords := sub["records"].([]any)
			if !isMap || !hasRecords {
				n.fields[k] = v
				continue
			}
			child, err := tp.children(ob, k, kids)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, child)
		}
		out = append(out, n)
	}
	return out, nil
}

// children parses the records nested under ob's child relationship rel.
func (tp *treeParser) children(ob *org.Object, rel string, kids []any) (treeChild, error) {
	var cr *org.ChildRelationship
	for i := range ob.ChildRelationships {
		if strings.EqualFold(ob.ChildRelationships[i].RelationshipName, rel) {
			cr = &ob.ChildRelationships[i]
		}
	}
	if cr == nil {
		return treeChild{}, fmt.Errorf("unknown child relationship %s on %s", rel, ob.Name)
	}
	child, _ := tp.org.Object(cr.ChildSObject)
	var childRecs []map[string]any
	for _, c := range kids {
		if m, ok := c.(map[string]any); ok {
			childRecs = append(childRecs, m)
		}
	}
	nodes, err := tp.parse(child, childRecs)
	if err != nil {
		return treeChild{}, err
	}
	return treeChild{field: cr.Field, nodes: nodes}, nil
}

// insertTree inserts the tree level by level, each child pointing at its
// new parent, and stops after the first level with a failure (the caller
// rolls back). It returns a result per record attempted.
func (h *Handler) insertTree(ctx context.Context, userID string, roots []*treeNode) (results []treeResult, failed bool) {
	level := roots
	for len(level) > 0 && !failed {
		reqs := make([]org.WriteRequest, len(level))
		for i, n := range level {
			reqs[i] = org.WriteRequest{Op: org.OpInsert, Object: n.object.Name, Fields: n.fields}
		}
		res := h.write(ctx, userID, reqs, false)
		var next []*treeNode
		for i, r := range res {
			n := level[i]
			if !r.Success {
				failed = true
				tr := treeResult{ReferenceID: n.refID}
				for _, e := range r.Errors {
					f := e.Fields
					if f == nil {
						f = []string{}
					}
					tr.Errors = append(tr.Errors, treeError{StatusCode: e.StatusCode, Message: e.Message, Fields: f})
				}
				results = append(results, tr)
				continue
			}
			results = append(results, treeResult{ReferenceID: n.refID, ID: r.ID})
			for _, c := range n.children {
				for _, cn := range c.nodes {
					cn.fields[c.field] = r.ID
					next = append(next, cn)
				}
			}
		}
		level = next
	}
	return results, failed
}
