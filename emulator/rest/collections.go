package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// collectionError is a record error in the sObject Collections shape
// (statusCode, not errorCode).
type collectionError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// collectionResult is one entry of a collections write response.
type collectionResult struct {
	ID      *string           `json:"id"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
	Created *bool             `json:"created,omitempty"`
}

func toCollectionResult(r org.WriteResult, upsert bool) collectionResult {
	out := collectionResult{Success: r.Success, Errors: []collectionError{}}
	if r.ID != "" {
		id := r.ID
		out.ID = &id
	}
	for _, e := range r.Errors {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		out.Errors = append(out.Errors, collectionError{StatusCode: e.StatusCode, Message: e.Message, Fields: f})
	}
	if upsert {
		c := r.Created
		out.Created = &c
	}
	return out
}

// collections serves /composite/sobjects[/{Obj}[/{extIdField}]].
func (h *Handler) collections(w http.ResponseWriter, q *request, p []string) {
	m := q.r.Method
	switch len(p) {
	case 0:
		switch m {
		case http.MethodPost:
			h.collectionsWrite(w, q, org.OpInsert, nil, nil)
		case http.MethodPatch:
			h.collectionsWrite(w, q, org.OpUpdate, nil, nil)
		case http.MethodDelete:
			h.collectionsDelete(w, q)
		default:
			allow(w, m, http.MethodPost, http.MethodPatch, http.MethodDelete)
		}
	case 1:
		ob, ok := h.org.Object(p[0])
		if !ok {
			notFound(w)
			return
		}
		switch m {
		case http.MethodGet, http.MethodHead:
			qs := q.r.URL.Query()
			h.collectionsRetrieve(w, q, ob, splitList(qs.Get("ids")), splitList(qs.Get("fields")))
		case http.MethodPost:
			body, err := readBody(q.r)
			if err != nil {
				wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
				return
			}
			var in struct {
				IDs    []string `json:"ids"`
				Fields []string `json:"fields"`
			}
			if err := json.Unmarshal(body, &in); err != nil {
				wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
				return
			}
			h.collectionsRetrieve(w, q, ob, in.IDs, in.Fields)
		default:
			allow(w, m, http.MethodGet, http.MethodPost)
		}
	case 2:
		ob, ok := h.org.Object(p[0])
		if !ok {
			notFound(w)
			return
		}
		f, ok := ob.Field(p[1])
		if !ok || !(f.ExternalID || f.IDLookup || f.Name == "Id") {
			wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+p[1])
			return
		}
		if allow(w, m, http.MethodPatch) {
			h.collectionsWrite(w, q, org.OpUpsert, ob, f)
		}
	default:
		notFound(w)
	}
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// collectionsWrite serves create (POST), update (PATCH) and upsert (PATCH
// with object and external id field).
func (h *Handler) collectionsWrite(w http.ResponseWriter, q *request, op org.Op, upsertObj *org.Object, extField *org.Field) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	var in struct {
		AllOrNone bool              `json:"allOrNone"`
		Records   []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	if len(in.Records) == 0 {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_FIELD", "No records were provided; specify at least one record in the records array.")
		return
	}
	if len(in.Records) > MaxCollectionRecords {
		wire.WriteError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
			fmt.Sprintf("record limit reached. cannot submit more than %d records into this call", MaxCollectionRecords))
		return
	}
	reqs := make([]org.WriteRequest, len(in.Records))
	// pre holds records rejected before reaching the org (-1 = none).
	pre := make([]*org.Error, len(in.Records))
	for i, raw := range in.Records {
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil || rec == nil {
			wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("record %d is not a JSON object", i))
			return
		}
		typ := ""
		if a, ok := rec["attributes"].(map[string]any); ok {
			typ, _ = a["type"].(string)
		}
		objName := typ
		if upsertObj != nil {
			if typ != "" && !strings.EqualFold(typ, upsertObj.Name) {
				pre[i] = &org.Error{StatusCode: "INVALID_FIELD", Message: fmt.Sprintf("The sObject type %s does not match the upsert type %s", typ, upsertObj.Name), Fields: []string{}}
			}
			objName = upsertObj.Name
		} else if typ == "" {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_TYPE", "Must send a concrete entity type.")
			return
		}
		fields := flattenRecord(rec)
		wr := org.WriteRequest{Op: op, Object: objName, Fields: fields}
		switch op {
		case org.OpInsert:
			if id, _ := popID(fields); id != "" {
				pre[i] = &org.Error{StatusCode: "INVALID_FIELD", Message: "cannot specify Id in an insert call", Fields: []string{"Id"}}
			}
		case org.OpUpdate:
			id, _ := popID(fields)
			if id == "" {
				pre[i] = &org.Error{StatusCode: "MISSING_ARGUMENT", Message: "Id not specified in an update call", Fields: []string{}}
			}
			wr.ID = id
		case org.OpUpsert:
			wr.ExternalIDField = extField.Name
			if extField.Name != "Id" {
				if id, _ := popID(fields); id != "" {
					pre[i] = &org.Error{StatusCode: "INVALID_FIELD", Message: "The Id field should not be specified in the sobject data.", Fields: []string{}}
				}
			}
		}
		if _, ok := h.org.Object(objName); !ok && pre[i] == nil {
			pre[i] = &org.Error{StatusCode: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", objName), Fields: []string{}}
		}
		reqs[i] = wr
	}
	h.runCollection(w, q, reqs, pre, in.AllOrNone, op == org.OpUpsert)
}

// runCollection writes the requests that passed pre-checks and answers
// one result per input record, in order.
func (h *Handler) runCollection(w http.ResponseWriter, q *request, reqs []org.WriteRequest, pre []*org.Error, allOrNone, upsert bool) {
	results := make([]org.WriteResult, len(reqs))
	var idx []int
	var send []org.WriteRequest
	anyPre := false
	for i := range reqs {
		if pre[i] != nil {
			results[i] = org.WriteResult{Errors: []org.Error{*pre[i]}}
			anyPre = true
			continue
		}
		idx = append(idx, i)
		send = append(send, reqs[i])
	}
	rolledBack := org.WriteResult{Errors: []org.Error{{StatusCode: org.CodeAllOrNoneRolledBack, Message: org.MessageAllOrNoneRolledBack, Fields: []string{}}}}
	if allOrNone && anyPre {
		for _, i := range idx {
			results[i] = rolledBack
		}
	} else if len(send) > 0 {
		res := h.write(q.r.Context(), q.userID, send, allOrNone)
		for k, i := range idx {
			results[i] = res[k]
		}
	}
	out := make([]collectionResult, len(results))
	for i, r := range results {
		out[i] = toCollectionResult(r, upsert)
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// collectionsDelete serves DELETE /composite/sobjects?ids=...&allOrNone=.
func (h *Handler) collectionsDelete(w http.ResponseWriter, q *request) {
	qs := q.r.URL.Query()
	ids := splitList(qs.Get("ids"))
	if len(ids) == 0 {
		wire.WriteError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "ids parameter is required")
		return
	}
	if len(ids) > MaxCollectionRecords {
		wire.WriteError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
			fmt.Sprintf("record limit reached. cannot submit more than %d records into this call", MaxCollectionRecords))
		return
	}
	allOrNone := strings.EqualFold(qs.Get("allOrNone"), "true")
	reqs := make([]org.WriteRequest, len(ids))
	pre := make([]*org.Error, len(ids))
	for i, id := range ids {
		obName := ""
		if nid, ok := org.NormalizeID(id); ok {
			for _, ob := range h.org.Objects() {
				if ob.KeyPrefix != "" && strings.HasPrefix(nid, ob.KeyPrefix) {
					obName = ob.Name
					break
				}
			}
		}
		if obName == "" {
			pre[i] = &org.Error{StatusCode: org.CodeMalformedID, Message: "malformed id " + id, Fields: []string{}}
		}
		reqs[i] = org.WriteRequest{Op: org.OpDelete, Object: obName, ID: id}
	}
	h.runCollection(w, q, reqs, pre, allOrNone, false)
}

// collectionsRetrieve answers GET/POST /composite/sobjects/{Obj}: one record
// (or null) per id, in order.
func (h *Handler) collectionsRetrieve(w http.ResponseWriter, q *request, ob *org.Object, ids, fields []string) {
	if len(ids) == 0 {
		wire.WriteError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "ids parameter is required")
		return
	}
	if len(ids) > MaxCollectionRetrieveIDs {
		wire.WriteError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
			fmt.Sprintf("record limit reached. cannot submit more than %d records into this call", MaxCollectionRetrieveIDs))
		return
	}
	if len(fields) == 0 {
		wire.WriteError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "fields parameter is required")
		return
	}
	enc := newRecordEncoder(q.ver)
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		rec, err := h.org.Get(q.r.Context(), ob.Name, id, fields)
		if err != nil {
			if oe, ok := err.(*org.Error); ok && oe.StatusCode == org.CodeInvalidField {
				wire.WriteError(w, http.StatusBadRequest, oe.StatusCode, oe.Message)
				return
			}
			b = append(b, "null"...)
			continue
		}
		b = enc.appendRecord(b, rec, fields)
	}
	b = append(b, ']')
	writeJSONBytes(w, http.StatusOK, b)
}
