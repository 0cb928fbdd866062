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

func (h *Handler) sobjects(w http.ResponseWriter, q *request) {
	p := q.parts[1:]
	m := q.r.Method
	if len(p) == 0 {
		if allow(w, m, http.MethodGet) {
			h.describeGlobal(w, q)
		}
		return
	}
	ob, ok := h.org.Object(p[0])
	if !ok {
		notFound(w)
		return
	}
	switch len(p) {
	case 1:
		switch m {
		case http.MethodGet, http.MethodHead:
			wire.WriteJSON(w, http.StatusOK, map[string]any{"objectDescribe": globalEntry(ob, q.ver), "recentItems": []any{}})
		case http.MethodPost:
			h.createOne(w, q, ob)
		default:
			allow(w, m, http.MethodGet, http.MethodPost)
		}
	case 2:
		switch {
		case p[1] == "describe":
			if allow(w, m, http.MethodGet) {
				wire.WriteJSON(w, http.StatusOK, describeObject(ob, q.ver))
			}
		case strings.EqualFold(p[1], "Id") && m == http.MethodPost:
			h.createOne(w, q, ob)
		default:
			if _, ok := org.NormalizeID(p[1]); !ok {
				// Salesforce reads a non-id segment as an external id field name.
				wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+p[1])
				return
			}
			switch m {
			case http.MethodGet, http.MethodHead:
				h.getOne(w, q, ob, p[1])
			case http.MethodPatch:
				h.updateOne(w, q, ob, p[1])
			case http.MethodDelete:
				h.deleteOne(w, q, ob, p[1])
			default:
				allow(w, m, http.MethodGet, http.MethodPatch, http.MethodDelete)
			}
		}
	case 3:
		f, ok := ob.Field(p[1])
		if !ok || !(f.ExternalID || f.IDLookup || f.Name == "Id") {
			wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+p[1])
			return
		}
		switch m {
		case http.MethodGet, http.MethodHead:
			h.getByExternalID(w, q, ob, f, p[2])
		case http.MethodPatch, http.MethodPost:
			h.upsertOne(w, q, ob, f, p[2])
		case http.MethodDelete:
			h.withExternalID(w, q, ob, f, p[2], func(id string) { h.deleteOne(w, q, ob, id) })
		default:
			allow(w, m, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	default:
		notFound(w)
	}
}

// decodeRecord reads a JSON object body into org field values: attributes
// dropped, nested relationship objects ({"Account":{"Ext__c":"x"}})
// flattened to "Account.Ext__c" keys, numbers kept exact.
func decodeRecord(body []byte) (map[string]any, *saveError) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		msg := "Unexpected end of input"
		if err != nil {
			msg = err.Error()
		}
		return nil, &saveError{ErrorCode: "JSON_PARSER_ERROR", Message: msg}
	}
	return flattenRecord(raw), nil
}

// flattenRecord applies decodeRecord's rules to an already-decoded object.
func flattenRecord(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if k == "attributes" {
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			for sk, sv := range sub {
				if sk != "attributes" {
					out[k+"."+sk] = sv
				}
			}
			continue
		}
		out[k] = v
	}
	return out
}

// popID removes every case variant of "Id" from fields and returns the
// value, if any. An empty or null Id counts as absent for the callers'
// "Id must not be specified" checks, as clients serialise empty structs so.
func popID(fields map[string]any) (string, bool) {
	var id string
	var found bool
	for k, v := range fields {
		if strings.EqualFold(k, "Id") {
			if s, ok := v.(string); ok {
				id = s
			}
			found = true
			delete(fields, k)
		}
	}
	return id, found
}

type createResult struct {
	ID      string     `json:"id"`
	Success bool       `json:"success"`
	Errors  []struct{} `json:"errors"`
}

type upsertResult struct {
	ID      string     `json:"id"`
	Success bool       `json:"success"`
	Errors  []struct{} `json:"errors"`
	Created bool       `json:"created"`
}

func (h *Handler) createOne(w http.ResponseWriter, q *request, ob *org.Object) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	fields, perr := decodeRecord(body)
	if perr != nil {
		wire.WriteError(w, http.StatusBadRequest, perr.ErrorCode, perr.Message)
		return
	}
	res := h.write(q.r.Context(), q.userID, []org.WriteRequest{{Op: org.OpInsert, Object: ob.Name, Fields: fields}}, true)
	if !res[0].Success {
		writeSaveErrors(w, res[0].Errors)
		return
	}
	w.Header().Set("Location", "/services/data/v"+q.ver+"/sobjects/"+ob.Name+"/"+res[0].ID)
	wire.WriteJSON(w, http.StatusCreated, createResult{ID: res[0].ID, Success: true, Errors: []struct{}{}})
}

func (h *Handler) getOne(w http.ResponseWriter, q *request, ob *org.Object, id string) {
	var fields []string
	if f := q.r.URL.Query().Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	rec, err := h.org.Get(q.r.Context(), ob.Name, id, fields)
	if oe, ok := err.(*org.Error); ok && oe.StatusCode == org.CodeEntityIsDeleted {
		notFound(w)
		return
	}
	if err != nil {
		writeOrgError(w, err)
		return
	}
	if d, _ := rec["IsDeleted"].(bool); d && fields == nil {
		notFound(w)
		return
	}
	order := describeOrder(ob)
	if fields != nil {
		order = fields
	}
	writeJSONBytes(w, http.StatusOK, newRecordEncoder(q.ver).appendRecord(nil, rec, order))
}

func (h *Handler) updateOne(w http.ResponseWriter, q *request, ob *org.Object, id string) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	fields, perr := decodeRecord(body)
	if perr != nil {
		wire.WriteError(w, http.StatusBadRequest, perr.ErrorCode, perr.Message)
		return
	}
	popID(fields)
	res := h.write(q.r.Context(), q.userID, []org.WriteRequest{{Op: org.OpUpdate, Object: ob.Name, ID: id, Fields: fields}}, true)
	if !res[0].Success {
		writeSaveErrors(w, res[0].Errors)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteOne(w http.ResponseWriter, q *request, ob *org.Object, id string) {
	res := h.write(q.r.Context(), q.userID, []org.WriteRequest{{Op: org.OpDelete, Object: ob.Name, ID: id}}, true)
	if !res[0].Success {
		writeSaveErrors(w, res[0].Errors)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// matchExternalID returns the ids of live records whose field f equals value.
func (h *Handler) matchExternalID(q *request, ob *org.Object, f *org.Field, value string) ([]string, error) {
	if f.Name == "Id" {
		if value == "" {
			return nil, nil
		}
		rec, err := h.org.Get(q.r.Context(), ob.Name, value, []string{"Id", "IsDeleted"})
		if err != nil {
			if oe, ok := err.(*org.Error); ok && (oe.StatusCode == org.CodeNotFound || oe.StatusCode == org.CodeEntityIsDeleted) {
				return nil, nil
			}
			return nil, err
		}
		if d, _ := rec["IsDeleted"].(bool); d {
			return nil, nil
		}
		id, _ := rec["Id"].(string)
		return []string{id}, nil
	}
	soql := fmt.Sprintf("SELECT Id FROM %s WHERE %s = %s", ob.Name, f.Name, soqlLiteral(f, value))
	res, err := h.org.Query(q.r.Context(), soql, false)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, res.Len())
	for i := range res.Len() {
		if id, ok := res.Values(i)[0].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// soqlLiteral renders value as a SOQL literal for field f.
func soqlLiteral(f *org.Field, value string) string {
	switch f.Type {
	case org.TypeInt, org.TypeDouble, org.TypeCurrency, org.TypePercent:
		if isNumber(value) {
			return value
		}
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	var f json.Number = json.Number(s)
	_, err := f.Float64()
	return err == nil
}

func (h *Handler) multipleChoices(w http.ResponseWriter, q *request, ob *org.Object, ids []string) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = "/services/data/v" + q.ver + "/sobjects/" + ob.Name + "/" + id
	}
	wire.WriteJSON(w, http.StatusMultipleChoices, urls)
}

func (h *Handler) getByExternalID(w http.ResponseWriter, q *request, ob *org.Object, f *org.Field, value string) {
	h.withExternalID(w, q, ob, f, value, func(id string) { h.getOne(w, q, ob, id) })
}

// withExternalID finds the record whose external id field f holds value and calls one with
// its id; no match is 404 NOT_FOUND, several are 300 with their URLs, as Salesforce answers.
func (h *Handler) withExternalID(w http.ResponseWriter, q *request, ob *org.Object, f *org.Field, value string, one func(id string)) {
	ids, err := h.matchExternalID(q, ob, f, value)
	if err != nil {
		writeOrgError(w, err)
		return
	}
	switch len(ids) {
	case 0:
		notFound(w)
	case 1:
		one(ids[0])
	default:
		h.multipleChoices(w, q, ob, ids)
	}
}

func (h *Handler) upsertOne(w http.ResponseWriter, q *request, ob *org.Object, f *org.Field, value string) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	fields, perr := decodeRecord(body)
	if perr != nil {
		wire.WriteError(w, http.StatusBadRequest, perr.ErrorCode, perr.Message)
		return
	}
	if f.Name != "Id" {
		if id, _ := popID(fields); id != "" {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
			return
		}
	}
	ids, err := h.matchExternalID(q, ob, f, value)
	if err != nil {
		writeOrgError(w, err)
		return
	}
	if len(ids) > 1 {
		h.multipleChoices(w, q, ob, ids)
		return
	}
	if len(ids) == 0 && q.r.URL.Query().Get("updateOnly") == "true" {
		notFound(w)
		return
	}
	var wr org.WriteRequest
	if f.Name == "Id" {
		popID(fields)
		if len(ids) == 1 {
			wr = org.WriteRequest{Op: org.OpUpdate, Object: ob.Name, ID: ids[0], Fields: fields}
		} else {
			wr = org.WriteRequest{Op: org.OpInsert, Object: ob.Name, Fields: fields}
		}
	} else {
		for k := range fields {
			if strings.EqualFold(k, f.Name) {
				delete(fields, k)
			}
		}
		fields[f.Name] = value
		wr = org.WriteRequest{Op: org.OpUpsert, Object: ob.Name, ExternalIDField: f.Name, Fields: fields}
	}
	res := h.write(q.r.Context(), q.userID, []org.WriteRequest{wr}, true)
	r := res[0]
	if !r.Success {
		writeSaveErrors(w, r.Errors)
		return
	}
	created := r.Created || wr.Op == org.OpInsert
	if wr.Op == org.OpUpdate {
		created = false
	}
	switch {
	case created && !q.version.AtLeast(46):
		wire.WriteJSON(w, http.StatusCreated, createResult{ID: r.ID, Success: true, Errors: []struct{}{}})
	case created:
		wire.WriteJSON(w, http.StatusCreated, upsertResult{ID: r.ID, Success: true, Errors: []struct{}{}, Created: true})
	case q.version.AtLeast(46):
		wire.WriteJSON(w, http.StatusOK, upsertResult{ID: r.ID, Success: true, Errors: []struct{}{}, Created: false})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
