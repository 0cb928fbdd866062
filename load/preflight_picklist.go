package load

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// picklistAPI is the part of *salesforce.Client that serves a record type's picklist values
// (the User Interface API). Describe lists only the master values.
type picklistAPI interface {
	PicklistValuesByRecordType(ctx context.Context, object, recordTypeID string) (*salesforce.UIPicklistValuesCollection, error)
}

// Columns that name a row's record type.
const (
	recordTypeIDColumn  = "RecordTypeId"
	recordTypeDevColumn = "RecordType.DeveloperName"
)

// picklistChecker checks a row's picklist values against its record type and the dependent
// picklists' controlling values, as Salesforce enforces them: restricted picklists only.
// A row's record type is its RecordTypeId or RecordType.DeveloperName column; without one,
// an insert gets the default record type and other operations are checked against the
// master values. Values per record type come from the UI API, fetched once per record type.
type picklistChecker struct {
	object string
	rtCol  int // RecordTypeId column, -1 if none
	devCol int // RecordType.DeveloperName column, -1 if none
	// record types of the object, by 15-character id and by lower-case developer name
	byID      map[string]salesforce.RecordTypeInfo
	byDev     map[string]salesforce.RecordTypeInfo
	defaultRT string // record type of an insert without one ("" = master)
	cols      []pickColumn
	fetch     func(rtID string) (*salesforce.UIPicklistValuesCollection, error)
	log       *slog.Logger
	values    map[string]map[string][]string // record type id -> field -> values; nil map: fetch failed
}

// pickColumn is one restricted picklist column of the input.
type pickColumn struct {
	col     int
	field   *salesforce.Field
	ctrlCol int               // controlling field's column, -1 if not in the input
	ctrl    *salesforce.Field // controlling field of a dependent picklist
}

// newPicklistChecker returns the checker of a described header, or nil when the header has
// nothing it checks.
func (r *run) newPicklistChecker(ctx context.Context, d *salesforce.SObjectDescribe) *picklistChecker {
	pc := &picklistChecker{object: r.cfg.Object, rtCol: -1, devCol: -1, log: r.cfg.Logger,
		byID: map[string]salesforce.RecordTypeInfo{}, byDev: map[string]salesforce.RecordTypeInfo{}, values: map[string]map[string][]string{}}
	cols := map[string]int{}
	for i, h := range r.header {
		cols[strings.ToLower(h)] = i
	}
	if i, ok := cols[strings.ToLower(recordTypeIDColumn)]; ok {
		pc.rtCol = i
	}
	if i, ok := cols[strings.ToLower(recordTypeDevColumn)]; ok {
		pc.devCol = i
	}
	for _, rt := range d.RecordTypeInfos {
		if rt.Master {
			continue
		}
		pc.byID[id15(rt.RecordTypeID)] = rt
		pc.byDev[strings.ToLower(rt.DeveloperName)] = rt
		if rt.DefaultRecordTypeMapping && r.cfg.Operation == Insert {
			pc.defaultRT = rt.RecordTypeID
		}
	}
	for i, h := range r.header {
		f, ok := d.Field(h)
		if !ok || !f.RestrictedPicklist || f.Type != "picklist" && f.Type != "multipicklist" {
			continue
		}
		pcol := pickColumn{col: i, field: f, ctrlCol: -1}
		if f.DependentPicklist && f.ControllerName != "" {
			if ctrl, ok := d.Field(f.ControllerName); ok {
				pcol.ctrl = ctrl
				if j, ok := cols[strings.ToLower(ctrl.Name)]; ok {
					pcol.ctrlCol = j
				}
			}
		}
		pc.cols = append(pc.cols, pcol)
	}
	if len(pc.byID) > 0 {
		if api, ok := r.l.desc.(picklistAPI); ok {
			pc.fetch = func(rtID string) (*salesforce.UIPicklistValuesCollection, error) {
				return api.PicklistValuesByRecordType(ctx, r.cfg.Object, rtID)
			}
		}
	}
	if len(pc.cols) == 0 && pc.rtCol < 0 && pc.devCol < 0 {
		return nil
	}
	return pc
}

// id15 returns the case-sensitive 15-character form of an id.
func id15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

// check yields the row's record type and picklist problems; it stops when yield returns false.
func (pc *picklistChecker) check(num int64, header, vals []string, yield func(Problem) bool) bool {
	rtID := pc.defaultRT
	if pc.rtCol >= 0 {
		if v := vals[pc.rtCol]; v != "" && v != sfcsv.NullValue {
			rt, ok := pc.byID[id15(v)]
			if !ok || !rt.Active || !rt.Available {
				return yield(Problem{Row: num, Column: header[pc.rtCol], Code: "INVALID_CROSS_REFERENCE_KEY",
					Message: "Record Type ID: this ID value isn't valid for the user: " + v})
			}
			rtID = rt.RecordTypeID
		}
	}
	if pc.devCol >= 0 {
		if v := vals[pc.devCol]; v != "" && v != sfcsv.NullValue {
			rt, ok := pc.byDev[strings.ToLower(v)]
			if !ok || !rt.Active || !rt.Available {
				return yield(Problem{Row: num, Column: header[pc.devCol], Code: "INVALID_FIELD",
					Message: fmt.Sprintf("Foreign key external ID: %s not found for field DeveloperName in entity RecordType (no active record type of %s has that name)", v, pc.object)})
			}
			rtID = rt.RecordTypeID
		}
	}
	for _, c := range pc.cols {
		v := vals[c.col]
		if v == "" || v == sfcsv.NullValue {
			continue
		}
		allowed := pc.allowed(rtID, c.field)
		for _, part := range pickParts(c.field, v) {
			if !slices.Contains(allowed, part) {
				if !masterValue(c.field, part) {
					break // checkValue reported it already
				}
				if !yield(Problem{Row: num, Column: header[c.col], Code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
					Message: fmt.Sprintf("%s: bad value for restricted picklist field: %s (not available in record type %s)", c.field.Name, part, pc.rtName(rtID))}) {
					return false
				}
				break
			}
			if c.ctrl != nil && c.ctrlCol >= 0 {
				if ok, ctrlValue := validForController(c.field, part, c.ctrl, vals[c.ctrlCol]); !ok {
					if !yield(Problem{Row: num, Column: header[c.col], Code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
						Message: fmt.Sprintf("%s: bad value for restricted picklist field: %s (not valid when %s is %q)", c.field.Name, part, c.ctrl.Name, ctrlValue)}) {
						return false
					}
					break
				}
			}
		}
	}
	return true
}

func (pc *picklistChecker) rtName(rtID string) string {
	if rt, ok := pc.byID[id15(rtID)]; ok && rtID != "" {
		return rt.DeveloperName
	}
	return "Master"
}

// allowed returns the values of f available in record type rtID ("" = master).
func (pc *picklistChecker) allowed(rtID string, f *salesforce.Field) []string {
	master := func() []string {
		out := make([]string, 0, len(f.PicklistValues))
		for _, p := range f.PicklistValues {
			out = append(out, p.Value)
		}
		return out
	}
	if rtID == "" || rtID == salesforce.MasterRecordTypeID || pc.fetch == nil {
		return master()
	}
	byField, seen := pc.values[rtID]
	if !seen {
		res, err := pc.fetch(rtID)
		if err != nil {
			pc.log.Warn("load: preflight: picklist values of a record type unavailable; checking against describe's values",
				"object", pc.object, "recordTypeId", rtID, "err", err)
		} else {
			byField = map[string][]string{}
			for name, pv := range res.PicklistFieldValues {
				vs := make([]string, 0, len(pv.Values))
				for _, v := range pv.Values {
					vs = append(vs, v.Value)
				}
				byField[strings.ToLower(name)] = vs
			}
		}
		pc.values[rtID] = byField
	}
	if vs, ok := byField[strings.ToLower(f.Name)]; ok {
		return vs
	}
	return master()
}

// pickParts splits a multipicklist value into its values; a picklist value is one value.
// Values are given their canonical spelling when describe has one that differs only in case.
func pickParts(f *salesforce.Field, v string) []string {
	parts := []string{v}
	if f.Type == "multipicklist" {
		parts = parts[:0]
		for _, p := range strings.Split(v, ";") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
	}
	for i, p := range parts {
		for _, pv := range f.PicklistValues {
			if strings.EqualFold(pv.Value, p) {
				parts[i] = pv.Value
				break
			}
		}
	}
	return parts
}

func masterValue(f *salesforce.Field, v string) bool {
	return slices.ContainsFunc(f.PicklistValues, func(p salesforce.PicklistValue) bool { return strings.EqualFold(p.Value, v) })
}

// validForController reports whether value of the dependent picklist f is valid for the
// controlling field's value ctrlRaw, from describe's validFor bitset. It also returns the
// controlling value as checked. A controlling value that is not one of its field's values is
// reported on that field, not here.
func validForController(f *salesforce.Field, value string, ctrl *salesforce.Field, ctrlRaw string) (bool, string) {
	idx := -1
	cv := ctrlRaw
	if ctrlRaw == sfcsv.NullValue {
		cv = ""
	}
	if ctrl.Type == "boolean" {
		switch strings.ToLower(cv) {
		case "true", "1", "yes", "y":
			idx, cv = 1, "true"
		case "false", "0", "no", "n", "":
			idx, cv = 0, "false"
		default:
			return true, cv
		}
	} else if cv != "" {
		for i, p := range ctrl.PicklistValues {
			if strings.EqualFold(p.Value, cv) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return true, cv
		}
	}
	for _, p := range f.PicklistValues {
		if strings.EqualFold(p.Value, value) {
			return idx >= 0 && p.ValidForIndex(idx), cv
		}
	}
	return true, cv
}
