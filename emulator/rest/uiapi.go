package rest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// uiAPI serves the part of the User Interface API a loader needs: the
// picklist values of a record type,
//
//	GET ui-api/object-info/{object}/picklist-values/{recordTypeId}
//	GET ui-api/object-info/{object}/picklist-values/{recordTypeId}/{field}
//
// in Salesforce's Picklist Values Collection and Picklist Values shapes. The
// record type is one the object declares or the master record type
// (org.MasterRecordTypeID), which offers every value.
func (h *Handler) uiAPI(w http.ResponseWriter, q *request) {
	p := q.parts
	if len(p) < 5 || len(p) > 6 || p[1] != "object-info" || p[3] != "picklist-values" {
		notFound(w)
		return
	}
	if !allow(w, q.r.Method, http.MethodGet) {
		return
	}
	ob, ok := h.org.Object(p[2])
	if !ok {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	var rt *org.RecordType
	if id, ok := org.NormalizeID(p[4]); !ok || id != org.MasterRecordTypeID {
		if rt, ok = ob.RecordType(p[4]); !ok {
			wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
	}
	rtID := org.MasterRecordTypeID
	if rt != nil {
		rtID = rt.ID
	}
	base := "/services/data/v" + q.ver + "/ui-api/object-info/" + ob.Name + "/picklist-values/" + rtID
	if len(p) == 6 {
		f, ok := ob.Field(p[5])
		if !ok || f.Type != org.TypePicklist && f.Type != org.TypeMultiPicklist {
			wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		wire.WriteJSON(w, http.StatusOK, picklistValues(ob, f, rt, base+"/"+f.Name))
		return
	}
	all := map[string]any{}
	for _, f := range ob.Fields {
		if f.Type == org.TypePicklist || f.Type == org.TypeMultiPicklist {
			all[f.Name] = picklistValues(ob, f, rt, base+"/"+f.Name)
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"eTag": eTag(all), "picklistFieldValues": all})
}

// picklistValues is the Picklist Values response of field f in record type
// rt (nil: master): the values available there, each with the indexes of
// the controlling values it is valid for, and controllerValues mapping each
// controlling value to its index ("false": 0, "true": 1 for a checkbox).
func picklistValues(ob *org.Object, f *org.Field, rt *org.RecordType, url string) map[string]any {
	var ctrl *org.Field
	controllerValues := map[string]int{}
	if f.ControllerName != "" {
		ctrl, _ = ob.Field(f.ControllerName)
		for i, v := range org.ControllerValues(ctrl) {
			controllerValues[v] = i
		}
	}
	value := func(v string) map[string]any {
		validFor := []int{}
		if ctrl != nil {
			validFor = f.ValidForIndexes(ctrl, v)
		}
		return map[string]any{"attributes": nil, "label": v, "validFor": validFor, "value": v}
	}
	vals := rt.Values(f)
	values := make([]map[string]any, 0, len(vals))
	var def any
	for _, v := range vals {
		values = append(values, value(v))
		if v == f.DefaultPicklistValue {
			def = value(v)
		}
	}
	out := map[string]any{"controllerValues": controllerValues, "defaultValue": def, "url": url, "values": values}
	out["eTag"] = eTag(out)
	return out
}

// eTag is a content hash of a UI API response, as its eTag property: equal
// for equal content.
func eTag(v any) string {
	b, _ := json.Marshal(v) // maps of strings, ints and slices: cannot fail
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
