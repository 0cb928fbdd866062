package rest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// journal records how to undo the writes of one composite request, so an
// allOrNone composite can roll back subrequests that already succeeded.
// Undo is compensating (hard-delete what was created, restore the previous
// values of updated fields, undelete what was deleted): system timestamps
// of restored records move forward, as they would after any update.
type journal struct {
	mu    sync.Mutex
	steps []org.WriteRequest
}

type journalKey struct{}

func withJournal(ctx context.Context, j *journal) context.Context {
	return context.WithValue(ctx, journalKey{}, j)
}

func journalFrom(ctx context.Context) *journal {
	j, _ := ctx.Value(journalKey{}).(*journal)
	return j
}

// write is the one path every REST and composite write takes: org.Write,
// plus undo bookkeeping when the request runs inside a journaled composite.
func (h *Handler) write(ctx context.Context, userID string, reqs []org.WriteRequest, allOrNone bool) []org.WriteResult {
	j := journalFrom(ctx)
	var pre []map[string]any
	if j != nil {
		pre = make([]map[string]any, len(reqs))
		for i := range reqs {
			pre[i] = h.preImage(ctx, &reqs[i])
		}
	}
	res := h.org.Write(ctx, userID, reqs, allOrNone)
	if j != nil {
		j.mu.Lock()
		for i, r := range res {
			if !r.Success {
				continue
			}
			req := reqs[i]
			id := r.ID
			if id == "" {
				id = req.ID
			}
			switch {
			case req.Op == org.OpInsert || (req.Op == org.OpUpsert && r.Created):
				j.steps = append(j.steps, org.WriteRequest{Op: org.OpHardDelete, Object: req.Object, ID: id})
			case req.Op == org.OpUpdate || req.Op == org.OpUpsert:
				if pre[i] != nil {
					j.steps = append(j.steps, org.WriteRequest{Op: org.OpUpdate, Object: req.Object, ID: id, Fields: pre[i]})
				}
			case req.Op == org.OpDelete:
				j.steps = append(j.steps, org.WriteRequest{Op: org.OpUndelete, Object: req.Object, ID: id})
			}
		}
		j.mu.Unlock()
	}
	return res
}

// preImage returns the current values of the fields an update or upsert
// is about to change (nil if the record does not exist yet).
func (h *Handler) preImage(ctx context.Context, req *org.WriteRequest) map[string]any {
	if req.Op != org.OpUpdate && req.Op != org.OpUpsert {
		return nil
	}
	ob, ok := h.org.Object(req.Object)
	if !ok {
		return nil
	}
	id := req.ID
	if id == "" {
		for k, v := range req.Fields {
			if strings.EqualFold(k, "Id") {
				id, _ = v.(string)
			}
		}
	}
	if req.Op == org.OpUpsert && req.ExternalIDField != "" && !strings.EqualFold(req.ExternalIDField, "Id") {
		f, ok := ob.Field(req.ExternalIDField)
		if !ok {
			return nil
		}
		var val any
		for k, v := range req.Fields {
			if strings.EqualFold(k, f.Name) {
				val = v
			}
		}
		if val == nil {
			return nil
		}
		soql := fmt.Sprintf("SELECT Id FROM %s WHERE %s = %s", ob.Name, f.Name, soqlLiteral(f, fmt.Sprint(val)))
		res, err := h.org.Query(ctx, soql, false)
		if err != nil || res.Len() != 1 {
			return nil
		}
		id, _ = res.Values(0)[0].(string)
	}
	if id == "" {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for k := range req.Fields {
		name := k
		if rel, _, ok := strings.Cut(k, "."); ok {
			f, ok := ob.Relationship(rel)
			if !ok {
				continue
			}
			name = f.Name
		} else if f, ok := ob.Field(k); ok {
			name = f.Name
		} else {
			continue
		}
		if f, ok := ob.Field(name); !ok || !f.Updateable || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return map[string]any{}
	}
	rec, err := h.org.Get(ctx, ob.Name, id, names)
	if err != nil {
		return nil
	}
	delete(rec, "attributes")
	return rec
}

// rollback undoes the journal's steps in reverse order.
func (h *Handler) rollback(ctx context.Context, userID string, j *journal) {
	j.mu.Lock()
	steps := j.steps
	j.steps = nil
	j.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	for i := len(steps) - 1; i >= 0; i-- {
		h.org.Write(ctx, userID, []org.WriteRequest{steps[i]}, false)
	}
}
