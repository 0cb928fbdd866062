package org

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// MasterRecordTypeID is the id of every object's master record type, which
// Salesforce reports in describe and accepts on the UI API's picklist-values
// resource; it offers every value of every picklist. It is not a RecordType
// record.
const MasterRecordTypeID = "012000000000000AAA"

// RecordType is one record type of an object, declared in a schema file. A
// RecordType is immutable once its Schema is in use.
type RecordType struct {
	ID            string
	DeveloperName string
	Name          string
	Description   string
	// Default marks the record type records get when an insert sets no
	// RecordTypeId (the user's default record type mapping).
	Default bool
	Active  bool
	// PicklistValues lists, per picklist field name (as spelled in the
	// schema), the values available in this record type, in the field's
	// order. A field absent from the map offers all its values.
	PicklistValues map[string][]string
}

// Values returns the values of picklist f available in record type rt: all
// of f's values for a nil rt (the master record type) or a field the record
// type does not restrict.
func (rt *RecordType) Values(f *Field) []string {
	if rt == nil {
		return f.PicklistValues
	}
	if v, ok := rt.PicklistValues[f.Name]; ok {
		return v
	}
	return f.PicklistValues
}

// RecordType returns the object's record type with id (15 or 18 characters).
// The master record type is not one of them.
func (ob *Object) RecordType(id string) (*RecordType, bool) {
	nid, ok := NormalizeID(id)
	if !ok {
		return nil, false
	}
	for _, rt := range ob.RecordTypes {
		if rt.ID == nid {
			return rt, true
		}
	}
	return nil, false
}

// DefaultRecordType returns the record type an insert without RecordTypeId
// gets, or nil when the object has no active default record type.
func (ob *Object) DefaultRecordType() *RecordType {
	for _, rt := range ob.RecordTypes {
		if rt.Default && rt.Active {
			return rt
		}
	}
	return nil
}

// ControllerValues returns the values of a controlling field in index
// order: its picklist values, or "false" and "true" for a checkbox.
func ControllerValues(ctrl *Field) []string {
	if ctrl.Type == TypeBoolean {
		return []string{"false", "true"}
	}
	return ctrl.PicklistValues
}

// ValidForIndexes returns the indexes (into ControllerValues(ctrl)) of the
// controlling values for which value of the dependent picklist f is valid.
func (f *Field) ValidForIndexes(ctrl *Field, value string) []int {
	out := []int{}
	for i, cv := range ControllerValues(ctrl) {
		if slices.Contains(f.ValidFor[value], cv) {
			out = append(out, i)
		}
	}
	return out
}

// EncodeValidFor encodes controlling-value indexes as describe's validFor:
// the base64 of a bitset in which bit i, counted from the most significant
// bit of the first byte, is set when the value is valid for controlling
// value i. The bitset is as long as the controller's values need (whole
// bytes), at least one byte.
func EncodeValidFor(indexes []int, controllerValues int) string {
	b := make([]byte, max(1, (controllerValues+7)/8))
	for _, i := range indexes {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// RecordTypeSpec is one record type of an ObjectSpec.
type RecordTypeSpec struct {
	// ID is the record type's id (prefix 012); without it an id is derived
	// from the object and developer names, the same on every start.
	ID            string `json:"id,omitempty"`
	DeveloperName string `json:"developerName"`
	Name          string `json:"name,omitempty"`
	Description   string `json:"description,omitempty"`
	Default       bool   `json:"default,omitempty"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
	// PicklistValues lists the values available per picklist field.
	PicklistValues map[string][]string `json:"picklistValues,omitempty"`
}

// recordTypeObject is the RecordType sObject: read-only records, one per
// record type a schema file declares.
func recordTypeObject() *Object {
	name := readOnly(required(str("Name", "Record Type Name", 80)))
	name.NameField = true
	dev := readOnly(required(str("DeveloperName", "Record Type Name", 80)))
	dev.IDLookup = true
	ob := object("RecordType", "Record Type", "Record Types", "012",
		name, dev,
		readOnly(str("NamespacePrefix", "Namespace Prefix", 15)),
		readOnly(typed("Description", "Description", TypeString, 255)),
		readOnly(str("BusinessProcessId", "Business Process ID", 18)),
		readOnly(required(str("SobjectType", "SObject Type Name", 40))),
		readOnly(typed("IsActive", "Active", TypeBoolean, 0)),
	)
	for _, f := range ob.Fields {
		f.Createable, f.Updateable = false, false
	}
	return ob
}

// derivedRecordTypeID is the id of a record type a schema file gives no id.
func derivedRecordTypeID(object, developerName string) string {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(object) + "." + developerName))
	return To18("012" + base62(h.Sum64()%(1<<62), 12)[:12])
}

// buildRecordTypes turns specs into ob's record types and gives ob a
// RecordTypeId lookup if it has none.
func buildRecordTypes(ob *Object, specs []RecordTypeSpec) error {
	if len(specs) == 0 {
		return nil
	}
	ob.RecordTypes = nil
	defaults := 0
	for _, s := range specs {
		if s.DeveloperName == "" {
			return fmt.Errorf("object %s: record type without a developerName", ob.Name)
		}
		rt := &RecordType{DeveloperName: s.DeveloperName, Name: cmpOr(s.Name, s.DeveloperName), Description: s.Description,
			Default: s.Default, Active: s.Active == nil || *s.Active, PicklistValues: map[string][]string{}}
		if s.ID != "" {
			id, ok := NormalizeID(s.ID)
			if !ok || !strings.HasPrefix(id, "012") || id == MasterRecordTypeID {
				return fmt.Errorf("object %s: record type %s: id %q is not a record type id (012...)", ob.Name, s.DeveloperName, s.ID)
			}
			rt.ID = id
		} else {
			rt.ID = derivedRecordTypeID(ob.Name, s.DeveloperName)
		}
		if rt.Default {
			defaults++
		}
		for name, vals := range s.PicklistValues {
			f, ok := scanField(ob, name)
			if !ok || f.Type != TypePicklist && f.Type != TypeMultiPicklist {
				return fmt.Errorf("object %s: record type %s: %s is not a picklist field", ob.Name, s.DeveloperName, name)
			}
			var canon []string
			for _, v := range f.PicklistValues { // the field's order
				if slices.ContainsFunc(vals, func(s string) bool { return strings.EqualFold(s, v) }) {
					canon = append(canon, v)
				}
			}
			for _, v := range vals {
				if _, ok := pickValue(f, v); !ok {
					return fmt.Errorf("object %s: record type %s: %q is not a value of %s", ob.Name, s.DeveloperName, v, f.Name)
				}
			}
			rt.PicklistValues[f.Name] = canon
		}
		if slices.ContainsFunc(ob.RecordTypes, func(o *RecordType) bool {
			return o.ID == rt.ID || strings.EqualFold(o.DeveloperName, rt.DeveloperName)
		}) {
			return fmt.Errorf("object %s: record type %s declared twice", ob.Name, s.DeveloperName)
		}
		ob.RecordTypes = append(ob.RecordTypes, rt)
	}
	if defaults > 1 {
		return fmt.Errorf("object %s: more than one default record type", ob.Name)
	}
	if _, ok := scanField(ob, "RecordTypeId"); !ok {
		ob.Fields = append(ob.Fields, ref("RecordTypeId", "Record Type ID", "RecordType", "RecordType"))
	}
	return nil
}

// checkDependents checks the dependent picklists of a built object.
func checkDependents(ob *Object) error {
	for _, f := range ob.Fields {
		if f.ControllerName == "" {
			continue
		}
		if f.Type != TypePicklist && f.Type != TypeMultiPicklist {
			return fmt.Errorf("object %s: field %s has a controllerName but is not a picklist", ob.Name, f.Name)
		}
		ctrl, ok := ob.Field(f.ControllerName)
		if !ok || ctrl.Type != TypePicklist && ctrl.Type != TypeBoolean || ctrl == f {
			return fmt.Errorf("object %s: field %s: controller %s is not a picklist or checkbox of the object", ob.Name, f.Name, f.ControllerName)
		}
		f.ControllerName = ctrl.Name
		cv := ControllerValues(ctrl)
		for v, ctrls := range f.ValidFor {
			if _, ok := pickValue(f, v); !ok {
				return fmt.Errorf("object %s: field %s: validFor names %q, not one of its values", ob.Name, f.Name, v)
			}
			for _, c := range ctrls {
				if !slices.Contains(cv, c) {
					return fmt.Errorf("object %s: field %s: validFor %q names controlling value %q, not one of %s's", ob.Name, f.Name, v, c, ctrl.Name)
				}
			}
		}
	}
	return nil
}

// ensureRecordTypes creates the RecordType records of the schema's record
// types that the org lacks, outside the API (no API call creates them).
func (o *Org) ensureRecordTypes() error {
	rto, ok := o.schema.Object("RecordType")
	if !ok {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tables[rto]
	now := o.now()
	var dirty []dirtyRec
	for _, ob := range o.schema.objects {
		for _, rt := range ob.RecordTypes {
			if t.get(rt.ID) != nil {
				continue
			}
			vals := make([]any, len(rto.Fields))
			set := map[string]any{"Name": rt.Name, "DeveloperName": rt.DeveloperName, "SobjectType": ob.Name, "IsActive": rt.Active}
			if rt.Description != "" {
				set["Description"] = rt.Description
			}
			for i, f := range rto.Fields {
				if v, ok := set[f.Name]; ok {
					vals[i] = v
				} else if f.Type == TypeBoolean {
					vals[i] = false
				}
			}
			vals[posID], vals[posIsDeleted] = rt.ID, false
			vals[posCreatedDate], vals[posLastModifiedDate], vals[posSystemModstamp] = now, now, now
			vals[posCreatedByID], vals[posLastModifiedByID] = o.defaultUser, o.defaultUser
			r := newRecord(vals)
			t.add(r)
			dirty = append(dirty, dirtyRec{t: t, r: r})
		}
	}
	if o.store != nil && len(dirty) > 0 {
		if err := o.store.save(o, dirty, "", nil); err != nil {
			for _, d := range dirty {
				t.drop(d.r)
			}
			return fmt.Errorf("org: save RecordType: %w", err)
		}
	}
	return nil
}

// checkPicklists applies the record type and the dependent picklists to a
// record about to be written: vals are its values after the write, and only
// the fields this request sets (w.setList) are checked, as Salesforce does.
// On insert, a record without RecordTypeId gets the default record type.
func (w *writer) checkPicklists(ob *Object, vals []any, insert bool) *Error {
	if !ob.picklistRules {
		return nil
	}
	var rt *RecordType
	if ob.rtPos >= 0 {
		id, _ := vals[ob.rtPos].(string)
		switch {
		case id == "" && insert:
			if rt = ob.DefaultRecordType(); rt != nil {
				vals[ob.rtPos] = rt.ID
			}
		case id != "":
			var ok bool
			rt, ok = ob.RecordType(id)
			if !ok || !rt.Active && w.set[ob.rtPos] {
				return newErr(CodeInvalidCrossReference, "Record Type ID: this ID value isn't valid for the user: "+id, "RecordTypeId")
			}
		}
	}
	for _, p := range w.setList {
		f := ob.Fields[p]
		s, _ := textValue(vals[p])
		if s == "" || !f.RestrictedPicklist || f.Type != TypePicklist && f.Type != TypeMultiPicklist {
			continue
		}
		allowed := rt.Values(f)
		for _, v := range strings.Split(s, ";") {
			if !slices.Contains(allowed, v) {
				return newErr(CodeRestrictedPicklist, fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, v), f.Name)
			}
		}
	}
	// Restricted dependent picklists: the value must be valid for the
	// controlling value. Salesforce does not enforce unrestricted ones.
	for _, f := range ob.Fields {
		if f.ControllerName == "" || !f.RestrictedPicklist {
			continue
		}
		ctrl, _ := ob.Field(f.ControllerName)
		if !w.set[f.pos] && !w.set[ctrl.pos] {
			continue
		}
		s, _ := textValue(vals[f.pos])
		if s == "" {
			continue
		}
		cv := ""
		switch c := vals[ctrl.pos].(type) {
		case bool:
			cv = fmt.Sprint(c)
		case string:
			cv = c
		case *string:
			cv = *c
		}
		for _, v := range strings.Split(s, ";") {
			if !slices.Contains(f.ValidFor[v], cv) {
				return newErr(CodeRestrictedPicklist, fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, v), f.Name)
			}
		}
	}
	return nil
}

// scanField finds a field by name before finish has indexed the fields.
func scanField(ob *Object, name string) (*Field, bool) {
	i := slices.IndexFunc(ob.Fields, func(f *Field) bool { return strings.EqualFold(f.Name, name) })
	if i < 0 {
		return nil, false
	}
	return ob.Fields[i], true
}
