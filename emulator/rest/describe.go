package rest

import (
	"net/http"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

func (h *Handler) describeGlobal(w http.ResponseWriter, q *request) {
	objs := h.org.Objects()
	list := make([]map[string]any, 0, len(objs))
	for _, ob := range objs {
		list = append(list, globalEntry(ob, q.ver))
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{
		"encoding":     "UTF-8",
		"maxBatchSize": MaxCollectionRecords,
		"sobjects":     list,
	})
}

// globalEntry is an object's entry in the global describe.
func globalEntry(ob *org.Object, ver string) map[string]any {
	base := "/services/data/v" + ver + "/sobjects/" + ob.Name
	system := ob.Name == "User" || ob.Name == "Profile" || ob.Name == "Organization"
	return map[string]any{
		"activateable":        false,
		"createable":          !system || ob.Name == "User",
		"custom":              ob.Custom,
		"customSetting":       false,
		"deletable":           !system,
		"deprecatedAndHidden": false,
		"feedEnabled":         false,
		"hasSubtypes":         false,
		"isSubtype":           false,
		"keyPrefix":           ob.KeyPrefix,
		"label":               ob.Label,
		"labelPlural":         ob.LabelPlural,
		"layoutable":          true,
		"mergeable":           false,
		"mruEnabled":          false,
		"name":                ob.Name,
		"queryable":           true,
		"replicateable":       true,
		"retrieveable":        true,
		"searchable":          true,
		"triggerable":         true,
		"undeletable":         !system,
		"updateable":          true,
		"urls": map[string]string{
			"sobject":     base,
			"describe":    base + "/describe",
			"rowTemplate": base + "/{ID}",
		},
	}
}

// describeObject is the full describe of an object.
func describeObject(ob *org.Object, ver string) map[string]any {
	d := globalEntry(ob, ver)
	fields := make([]map[string]any, 0, len(ob.Fields))
	for _, f := range ob.Fields {
		fields = append(fields, describeField(ob, f))
	}
	d["fields"] = fields
	children := make([]map[string]any, 0, len(ob.ChildRelationships))
	for _, c := range ob.ChildRelationships {
		var rel any
		if c.RelationshipName != "" {
			rel = c.RelationshipName
		}
		children = append(children, map[string]any{
			"cascadeDelete":       false,
			"childSObject":        c.ChildSObject,
			"deprecatedAndHidden": false,
			"field":               c.Field,
			"relationshipName":    rel,
			"restrictedDelete":    false,
		})
	}
	d["childRelationships"] = children
	d["recordTypeInfos"] = recordTypeInfos(ob, ver)
	d["supportedScopes"] = []any{}
	d["networkScopeFieldName"] = nil
	d["sobjectDescribeOption"] = "FULL"
	return d
}

// describeField is one entry of a describe's fields array.
func describeField(ob *org.Object, f *org.Field) map[string]any {
	var ref []string = f.ReferenceTo
	if ref == nil {
		ref = []string{}
	}
	var rel any
	if f.RelationshipName != "" {
		rel = f.RelationshipName
	}
	var ctrl *org.Field
	var controller any
	if f.ControllerName != "" {
		ctrl, _ = ob.Field(f.ControllerName)
		controller = ctrl.Name
	}
	var compound any
	if f.CompoundFieldName != "" {
		compound = f.CompoundFieldName
	}
	picks := make([]map[string]any, 0, len(f.PicklistValues))
	for _, v := range f.PicklistValues {
		var validFor any
		if ctrl != nil {
			validFor = org.EncodeValidFor(f.ValidForIndexes(ctrl, v), len(org.ControllerValues(ctrl)))
		}
		picks = append(picks, map[string]any{
			"active": true, "defaultValue": v == f.DefaultPicklistValue, "label": v, "validFor": validFor, "value": v,
		})
	}
	length, byteLength, digits := 0, 0, 0
	switch f.Type {
	case org.TypeString, org.TypeTextArea, org.TypeEmail, org.TypePhone, org.TypeURL,
		org.TypePicklist, org.TypeMultiPicklist, org.TypeID, org.TypeReference:
		length = f.Length
		byteLength = f.Length * 3
	case org.TypeInt:
		digits = f.Precision
		if digits == 0 {
			digits = 9
		}
	}
	sortable := f.Type != org.TypeTextArea && f.Type != org.TypeMultiPicklist && !f.Compound()
	return map[string]any{
		"aggregatable":          sortable,
		"autoNumber":            false,
		"byteLength":            byteLength,
		"calculated":            f.Calculated,
		"caseSensitive":         f.CaseSensitive,
		"compoundFieldName":     compound,
		"controllerName":        controller,
		"createable":            f.Createable,
		"custom":                f.Custom,
		"defaultValue":          nil,
		"defaultedOnCreate":     f.DefaultedOnCreate,
		"dependentPicklist":     ctrl != nil,
		"deprecatedAndHidden":   false,
		"digits":                digits,
		"externalId":            f.ExternalID,
		"filterable":            f.Type != org.TypeTextArea && !f.Compound(),
		"groupable":             sortable && f.Type != org.TypeDouble && f.Type != org.TypeCurrency && f.Type != org.TypePercent && f.Type != org.TypeDateTime,
		"htmlFormatted":         false,
		"idLookup":              f.IDLookup,
		"label":                 f.Label,
		"length":                length,
		"name":                  f.Name,
		"nameField":             f.NameField,
		"namePointing":          false,
		"nillable":              f.Nillable,
		"permissionable":        f.Nillable && !f.Calculated,
		"picklistValues":        picks,
		"polymorphicForeignKey": len(f.ReferenceTo) > 1,
		"precision":             f.Precision,
		"referenceTo":           ref,
		"relationshipName":      rel,
		"restrictedPicklist":    f.RestrictedPicklist,
		"scale":                 f.Scale,
		"soapType":              f.SoapType(),
		"sortable":              sortable,
		"type":                  f.Type,
		"unique":                f.Unique,
		"updateable":            f.Updateable,
	}
}

// recordTypeInfos is describe's recordTypeInfos: the object's record types
// and, last, the master record type. As on Salesforce, an object that
// declares no record types still lists the master one, available and the
// default mapping.
func recordTypeInfos(ob *org.Object, ver string) []any {
	def := ob.DefaultRecordType()
	info := func(id, name, dev string, active, isDefault, master bool) map[string]any {
		return map[string]any{
			"active":                   active,
			"available":                active,
			"defaultRecordTypeMapping": isDefault,
			"developerName":            dev,
			"master":                   master,
			"name":                     name,
			"recordTypeId":             id,
			"urls": map[string]string{
				"layout": "/services/data/v" + ver + "/sobjects/" + ob.Name + "/describe/layouts/" + id,
			},
		}
	}
	out := make([]any, 0, len(ob.RecordTypes)+1)
	for _, rt := range ob.RecordTypes {
		out = append(out, info(rt.ID, rt.Name, rt.DeveloperName, rt.Active, rt == def, false))
	}
	return append(out, info(org.MasterRecordTypeID, "Master", "Master", true, def == nil, true))
}
