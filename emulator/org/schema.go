package org

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Field types, as describe reports them.
const (
	TypeID            = "id"
	TypeString        = "string"
	TypeTextArea      = "textarea"
	TypeEmail         = "email"
	TypePhone         = "phone"
	TypeURL           = "url"
	TypeBoolean       = "boolean"
	TypeInt           = "int"
	TypeDouble        = "double"
	TypeCurrency      = "currency"
	TypePercent       = "percent"
	TypeDate          = "date"
	TypeDateTime      = "datetime"
	TypePicklist      = "picklist"
	TypeMultiPicklist = "multipicklist"
	TypeReference     = "reference"
	// TypeAddress and TypeLocation are compound fields: read-only, made of the component
	// fields whose CompoundFieldName names them (BillingAddress: BillingStreet ...
	// BillingGeocodeAccuracy; a geolocation Loc__c: Loc__Latitude__s, Loc__Longitude__s).
	// SOAP and REST queries may select them; Bulk API queries may not.
	TypeAddress  = "address"
	TypeLocation = "location"
)

// Positions of the system fields, which every object has first and in this
// order.
const (
	posID = iota
	posIsDeleted
	posCreatedDate
	posCreatedByID
	posLastModifiedDate
	posLastModifiedByID
	posSystemModstamp
	numSystemFields
)

// Schema is the set of objects an org knows. Build one with DefaultSchema or
// LoadSchemaFile; a Schema must not be modified after it is passed to New.
type Schema struct {
	objects []*Object
	byName  map[string]*Object // lower-case name
	byExact map[string]*Object // name as spelled in the schema
	byPref  map[string]*Object // key prefix
}

// Objects returns the objects in name order.
func (s *Schema) Objects() []*Object { return s.objects }

// Object returns the object named name (case-insensitive).
func (s *Schema) Object(name string) (*Object, bool) {
	if ob, ok := s.byExact[name]; ok {
		return ob, true
	}
	ob, ok := s.byName[strings.ToLower(name)]
	return ob, ok
}

// ObjectByKeyPrefix returns the object whose ids start with prefix.
func (s *Schema) ObjectByKeyPrefix(prefix string) (*Object, bool) {
	ob, ok := s.byPref[prefix]
	return ob, ok
}

// ChildRelationship is a lookup from another object to this one, as the
// childRelationships section of describe lists it.
type ChildRelationship struct {
	ChildSObject     string
	Field            string
	RelationshipName string // "" when the lookup has no child relationship name
}

// Object is one sObject type: its metadata and fields. An Object is
// immutable once its Schema is in use and safe for concurrent use.
type Object struct {
	Name        string
	Label       string
	LabelPlural string
	KeyPrefix   string
	Custom      bool
	// Fields lists the fields in describe order; the system fields (Id,
	// IsDeleted, CreatedDate, CreatedById, LastModifiedDate,
	// LastModifiedById, SystemModstamp) come first.
	Fields []*Field
	// ChildRelationships lists lookups from other objects to this one.
	ChildRelationships []ChildRelationship
	// RecordTypes lists the record types a schema file declares, in its
	// order; the master record type (MasterRecordTypeID) is not among them.
	RecordTypes []*RecordType

	byName  map[string]int // lower-case field name -> position
	byRel   map[string]int // lower-case relationship name -> position of the reference field
	indexed []int          // positions of unique or external id fields
	nameFn  func(vals []any) any
	// nameJoin, when set, stands for nameFn's value in an insert's values:
	// Name is then packed as a reference to FirstName and LastName. It is
	// set when nothing checks Name before packing (it is neither indexed
	// nor required).
	nameJoin *nameJoin

	// For inserts, computed by finish: the value of every field the
	// request does not set (its Default, false for a boolean, else nil)
	// and the positions where it is not nil, OwnerId's position when it
	// defaults to the writing user (-1 otherwise), and the required
	// fields' positions.
	insertDefaults   []any
	insertDefaultPos []int
	ownerPos         int
	requiredPos      []int

	// rtPos is RecordTypeId's position (-1 without record types);
	// picklistRules is set when writes must pass checkPicklists.
	rtPos         int
	picklistRules bool
}

// Field returns the field named name (case-insensitive).
func (ob *Object) Field(name string) (*Field, bool) {
	i, ok := ob.byName[name]
	if !ok {
		if i, ok = ob.byName[strings.ToLower(name)]; !ok {
			return nil, false
		}
	}
	return ob.Fields[i], true
}

// Relationship returns the reference field whose relationship name is rel
// (case-insensitive), such as AccountId for "Account".
func (ob *Object) Relationship(rel string) (*Field, bool) {
	i, ok := ob.byRel[strings.ToLower(rel)]
	if !ok {
		return nil, false
	}
	return ob.Fields[i], true
}

// Field is one field of an object. Required on insert means Createable,
// not Nillable and not DefaultedOnCreate (see Required).
type Field struct {
	Name  string
	Label string
	// Type is one of the Type* constants.
	Type                 string
	Length               int // maximum characters for text types; 0 otherwise
	Precision, Scale     int
	Nillable             bool
	Createable           bool
	Updateable           bool
	Unique               bool
	ExternalID           bool
	IDLookup             bool
	CaseSensitive        bool
	Custom               bool
	Calculated           bool
	NameField            bool
	RestrictedPicklist   bool
	DefaultedOnCreate    bool
	PicklistValues       []string
	DefaultPicklistValue string // the picklist value marked as default, if any
	ReferenceTo          []string
	RelationshipName     string
	// ControllerName names the controlling picklist or checkbox of a
	// dependent picklist ("" for an independent one); ValidFor lists, per
	// value of the dependent picklist, the controlling values it is valid
	// for ("false" and "true" for a checkbox).
	ControllerName string
	ValidFor       map[string][]string
	// CompoundFieldName names the compound field (TypeAddress, TypeLocation) this field is
	// a component of, "" for none.
	CompoundFieldName string
	// Default is the value an insert gets when the field is not set (typed
	// like stored values: string, float64, bool). nil means none.
	Default any

	pos int
}

// Required reports whether an insert must set the field.
func (f *Field) Required() bool { return f.Createable && !f.Nillable && !f.DefaultedOnCreate }

// SoapType returns the describe soapType of the field, such as "xsd:string".
func (f *Field) SoapType() string {
	switch f.Type {
	case TypeID, TypeReference:
		return "tns:ID"
	case TypeBoolean:
		return "xsd:boolean"
	case TypeInt:
		return "xsd:int"
	case TypeDouble, TypeCurrency, TypePercent:
		return "xsd:double"
	case TypeDate:
		return "xsd:date"
	case TypeDateTime:
		return "xsd:dateTime"
	case TypeAddress:
		return "urn:address"
	case TypeLocation:
		return "urn:location"
	}
	return "xsd:string"
}

// Compound reports whether the field is a compound field (TypeAddress or TypeLocation).
func (f *Field) Compound() bool { return f.Type == TypeAddress || f.Type == TypeLocation }

func (f *Field) isText() bool {
	switch f.Type {
	case TypeString, TypeTextArea, TypeEmail, TypePhone, TypeURL, TypePicklist, TypeMultiPicklist:
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// Schema files

// SchemaFile is the JSON format of a schema file (see LoadSchemaFile). Each
// object is merged over the default org: an object of the same name gains
// (or replaces) the listed fields; a new object is created, as a custom
// object when its name ends in "__c". The format, with an example and every
// field key, is documented in package emulator (section "Schema files"):
// go doc github.com/sfbatch/sfbatch/emulator.
type SchemaFile struct {
	Objects []ObjectSpec `json:"objects"`
}

// ObjectSpec is one object of a SchemaFile.
type ObjectSpec struct {
	Name        string      `json:"name"`
	Label       string      `json:"label,omitempty"`
	LabelPlural string      `json:"labelPlural,omitempty"`
	KeyPrefix   string      `json:"keyPrefix,omitempty"`
	Fields      []FieldSpec `json:"fields"`
	// RecordTypes declares the object's record types; the object then
	// gains a RecordTypeId lookup.
	RecordTypes []RecordTypeSpec `json:"recordTypes,omitempty"`
}

// FieldSpec is one field of an ObjectSpec.
type FieldSpec struct {
	Name             string   `json:"name"`
	Label            string   `json:"label,omitempty"`
	Type             string   `json:"type"`
	Length           int      `json:"length,omitempty"`
	Precision        int      `json:"precision,omitempty"`
	Scale            int      `json:"scale,omitempty"`
	Required         bool     `json:"required,omitempty"`
	Unique           bool     `json:"unique,omitempty"`
	ExternalID       bool     `json:"externalId,omitempty"`
	CaseSensitive    bool     `json:"caseSensitive,omitempty"`
	Createable       *bool    `json:"createable,omitempty"`
	Updateable       *bool    `json:"updateable,omitempty"`
	Values           []string `json:"values,omitempty"`
	Restricted       bool     `json:"restricted,omitempty"`
	Default          any      `json:"default,omitempty"`
	ReferenceTo      string   `json:"referenceTo,omitempty"`
	RelationshipName string   `json:"relationshipName,omitempty"`
	// ControllerName makes the picklist dependent on this picklist or
	// checkbox field; ValidFor maps each dependent value to the controlling
	// values it is valid for.
	ControllerName string              `json:"controllerName,omitempty"`
	ValidFor       map[string][]string `json:"validFor,omitempty"`
}

// LoadSchemaFile reads a JSON schema file (format: SchemaFile) and returns
// the default schema with its objects and fields merged in.
func LoadSchemaFile(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("org: read schema: %w", err)
	}
	return parseSchema(b, path)
}

// parseSchema decodes a schema file's bytes; name appears in errors.
func parseSchema(b []byte, name string) (*Schema, error) {
	var sf SchemaFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return nil, fmt.Errorf("org: schema %s: %w", name, err)
	}
	// A second JSON value would otherwise be ignored, and the objects in it lost.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("org: schema %s: unexpected content after the schema object", name)
	}
	s, err := buildSchema(defaultSpecs(), sf.Objects)
	if err != nil {
		return nil, fmt.Errorf("org: schema %s: %w", name, err)
	}
	return s, nil
}

// DefaultSchema returns the standard objects of the default org: Account,
// Contact, Lead, Opportunity, Case, User and Profile, with External_Id__c
// (unique, case-sensitive text external id) on Account and Contact.
func DefaultSchema() *Schema {
	s, err := buildSchema(defaultSpecs(), nil)
	if err != nil {
		panic("org: default schema: " + err.Error()) // a bug in defaultSpecs, covered by tests
	}
	return s
}

// validTypes lists the field types a schema file may use.
func validTypes() []string {
	return []string{TypeID, TypeString, TypeTextArea, TypeEmail, TypePhone, TypeURL, TypeBoolean, TypeInt,
		TypeDouble, TypeCurrency, TypePercent, TypeDate, TypeDateTime, TypePicklist, TypeMultiPicklist, TypeReference, TypeLocation}
}

func buildSchema(base []*Object, extra []ObjectSpec) (*Schema, error) {
	s := &Schema{byName: map[string]*Object{}, byPref: map[string]*Object{}}
	for _, ob := range base {
		s.byName[strings.ToLower(ob.Name)] = ob
		s.objects = append(s.objects, ob)
	}
	for _, spec := range extra {
		if spec.Name == "" {
			return nil, fmt.Errorf("object without a name")
		}
		ob, ok := s.byName[strings.ToLower(spec.Name)]
		if !ok {
			ob = &Object{Name: spec.Name, Custom: strings.HasSuffix(spec.Name, "__c"), KeyPrefix: spec.KeyPrefix}
			ob.Label = cmpOr(spec.Label, strings.ReplaceAll(strings.TrimSuffix(spec.Name, "__c"), "_", " "))
			ob.LabelPlural = cmpOr(spec.LabelPlural, ob.Label+"s")
			ob.Fields = systemFields()
			s.byName[strings.ToLower(ob.Name)] = ob
			s.objects = append(s.objects, ob)
		} else {
			if spec.Label != "" {
				ob.Label = spec.Label
			}
			if spec.LabelPlural != "" {
				ob.LabelPlural = spec.LabelPlural
			}
			if spec.KeyPrefix != "" {
				ob.KeyPrefix = spec.KeyPrefix
			}
		}
		for _, fs := range spec.Fields {
			f, err := fieldFromSpec(fs)
			if err != nil {
				return nil, fmt.Errorf("object %s: %w", spec.Name, err)
			}
			fields := []*Field{f}
			if f.Type == TypeLocation {
				fields = geolocation(f)
			}
			for _, f := range fields {
				if i := slices.IndexFunc(ob.Fields, func(g *Field) bool { return strings.EqualFold(g.Name, f.Name) }); i >= 0 {
					if i < numSystemFields {
						return nil, fmt.Errorf("object %s: field %s is a system field", spec.Name, f.Name)
					}
					ob.Fields[i] = f
				} else {
					ob.Fields = append(ob.Fields, f)
				}
			}
		}
		if err := buildRecordTypes(ob, spec.RecordTypes); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(s.objects, func(a, b *Object) int { return strings.Compare(a.Name, b.Name) })
	// Key prefixes: keep given ones, assign a00, a01... to the rest.
	next := 0
	for _, ob := range s.objects {
		if ob.KeyPrefix == "" {
			continue
		}
		if len(ob.KeyPrefix) != 3 || !isAlnum(ob.KeyPrefix) {
			return nil, fmt.Errorf("object %s: key prefix %q is not 3 letters or digits", ob.Name, ob.KeyPrefix)
		}
		if o2, dup := s.byPref[ob.KeyPrefix]; dup {
			return nil, fmt.Errorf("objects %s and %s share key prefix %s", o2.Name, ob.Name, ob.KeyPrefix)
		}
		s.byPref[ob.KeyPrefix] = ob
	}
	for _, ob := range s.objects {
		if ob.KeyPrefix != "" {
			continue
		}
		for {
			p := "a" + base62(uint64(next), 2)
			next++
			if _, used := s.byPref[p]; !used {
				ob.KeyPrefix = p
				s.byPref[p] = ob
				break
			}
		}
	}
	s.byExact = make(map[string]*Object, len(s.objects))
	for _, ob := range s.objects {
		s.byExact[ob.Name] = ob
		if err := ob.finish(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (ob *Object) finish(s *Schema) error {
	ob.byName = make(map[string]int, len(ob.Fields))
	ob.byRel = map[string]int{}
	ob.indexed = nil
	ob.ChildRelationships = nil
	for i, f := range ob.Fields {
		f.pos = i
		key := strings.ToLower(f.Name)
		if j, dup := ob.byName[key]; dup && j != i {
			return fmt.Errorf("object %s: duplicate field %s", ob.Name, f.Name)
		}
		ob.byName[key] = i
		if f.Name != key {
			ob.byName[f.Name] = i // exact spelling: lookups without lower-casing
		}
		if f.Type == TypeReference {
			if len(f.ReferenceTo) == 0 {
				return fmt.Errorf("object %s: reference field %s has no referenceTo", ob.Name, f.Name)
			}
			for _, to := range f.ReferenceTo {
				if _, ok := s.byName[strings.ToLower(to)]; !ok {
					return fmt.Errorf("object %s: field %s refers to unknown object %s", ob.Name, f.Name, to)
				}
			}
			if f.RelationshipName != "" {
				ob.byRel[strings.ToLower(f.RelationshipName)] = i
			}
		}
		if (f.Unique || f.ExternalID) && i != posID {
			ob.indexed = append(ob.indexed, i)
		}
	}
	// Child relationships are filled from the children's side.
	for _, child := range s.objects {
		for i, f := range child.Fields {
			if f.Type != TypeReference || !slices.ContainsFunc(f.ReferenceTo, func(t string) bool { return strings.EqualFold(t, ob.Name) }) {
				continue
			}
			rel := ""
			if f.RelationshipName != "" && i >= numSystemFields {
				rel = childRelName(child)
				if child == ob { // self lookup: ParentId -> ChildAccounts
					rel = "Child" + rel
				}
				if slices.ContainsFunc(ob.ChildRelationships, func(c ChildRelationship) bool { return c.RelationshipName == rel }) {
					rel = ""
				}
			}
			ob.ChildRelationships = append(ob.ChildRelationships, ChildRelationship{ChildSObject: child.Name, Field: f.Name, RelationshipName: rel})
		}
	}
	if err := checkDependents(ob); err != nil {
		return err
	}
	ob.rtPos, ob.picklistRules = -1, len(ob.RecordTypes) > 0
	if len(ob.RecordTypes) > 0 {
		ob.rtPos = ob.byName["recordtypeid"]
	}
	for _, f := range ob.Fields {
		if f.ControllerName != "" && f.RestrictedPicklist {
			ob.picklistRules = true
		}
	}
	first, last := -1, -1
	for i, f := range ob.Fields {
		switch f.Name {
		case "FirstName":
			first = i
		case "LastName":
			last = i
		}
	}
	if _, hasName := ob.byName["name"]; hasName && first >= 0 && last >= 0 {
		ob.nameFn = func(vals []any) any { return fullName(vals[first], vals[last]) }
	}
	ob.insertDefaults = make([]any, len(ob.Fields))
	ob.insertDefaultPos = nil
	ob.ownerPos, ob.requiredPos = -1, nil
	for i, f := range ob.Fields {
		switch {
		case f.Default != nil:
			ob.insertDefaults[i] = f.Default
		case f.Name == "OwnerId":
			ob.ownerPos = i
		case f.Type == TypeBoolean:
			ob.insertDefaults[i] = false
		}
		if ob.insertDefaults[i] != nil {
			ob.insertDefaultPos = append(ob.insertDefaultPos, i)
		}
		if f.Required() {
			ob.requiredPos = append(ob.requiredPos, i)
		}
	}
	ob.nameJoin = nil
	if np, ok := ob.byName["name"]; ok && ob.nameFn != nil && !slices.Contains(ob.indexed, np) && !slices.Contains(ob.requiredPos, np) {
		ob.nameJoin = &nameJoin{first: first, last: last}
	}
	return nil
}

func childRelName(child *Object) string {
	name := strings.ReplaceAll(child.LabelPlural, " ", "")
	if child.Custom {
		return name + "__r"
	}
	return name
}

func fieldFromSpec(fs FieldSpec) (*Field, error) {
	if fs.Name == "" {
		return nil, fmt.Errorf("field without a name")
	}
	if !slices.Contains(validTypes(), fs.Type) {
		return nil, fmt.Errorf("field %s: unknown type %q (want one of %s)", fs.Name, fs.Type, strings.Join(validTypes(), ", "))
	}
	f := &Field{
		Name: fs.Name, Label: fs.Label, Type: fs.Type, Length: fs.Length, Precision: fs.Precision, Scale: fs.Scale,
		Nillable: !fs.Required, Createable: true, Updateable: true, Unique: fs.Unique, ExternalID: fs.ExternalID,
		IDLookup: fs.ExternalID || fs.Type == TypeID, CaseSensitive: fs.CaseSensitive, Custom: strings.HasSuffix(fs.Name, "__c"),
		PicklistValues: fs.Values, RestrictedPicklist: fs.Restricted, RelationshipName: fs.RelationshipName,
		ControllerName: fs.ControllerName, ValidFor: fs.ValidFor,
	}
	if f.Label == "" {
		f.Label = strings.ReplaceAll(strings.TrimSuffix(fs.Name, "__c"), "_", " ")
	}
	if fs.Createable != nil {
		f.Createable = *fs.Createable
	}
	if fs.Updateable != nil {
		f.Updateable = *fs.Updateable
	}
	switch f.Type {
	case TypeString, TypeEmail, TypePhone, TypeURL, TypePicklist:
		if f.Length == 0 {
			f.Length = 255
		}
	case TypeTextArea:
		if f.Length == 0 {
			f.Length = 32768
		}
	case TypeMultiPicklist:
		if f.Length == 0 {
			f.Length = 4099
		}
	case TypeBoolean:
		f.Nillable, f.DefaultedOnCreate = false, true
		if fs.Default == nil {
			f.Default = false
		}
	case TypeInt:
		if f.Precision == 0 {
			f.Precision = 18
		}
	case TypeDouble, TypeCurrency, TypePercent:
		if f.Precision == 0 {
			f.Precision, f.Scale = 18, 2
		}
	case TypeReference:
		if fs.ReferenceTo == "" {
			return nil, fmt.Errorf("field %s: reference without referenceTo", fs.Name)
		}
		f.ReferenceTo = []string{fs.ReferenceTo}
		if f.RelationshipName == "" {
			switch {
			case strings.HasSuffix(fs.Name, "__c"):
				f.RelationshipName = strings.TrimSuffix(fs.Name, "__c") + "__r"
			case strings.HasSuffix(fs.Name, "Id"):
				f.RelationshipName = strings.TrimSuffix(fs.Name, "Id")
			}
		}
		f.Length = 18
	case TypeID:
		f.Length = 18
	case TypeLocation:
		if !f.Custom {
			return nil, fmt.Errorf("field %s: a location field is custom: its name ends in __c", fs.Name)
		}
		if fs.Default != nil || fs.Required || fs.Unique || fs.ExternalID {
			return nil, fmt.Errorf("field %s: a location field takes no default, required, unique or externalId", fs.Name)
		}
		if f.Scale == 0 {
			f.Scale = 6
		}
	}
	if fs.Default != nil {
		v, err := specDefault(f, fs.Default)
		if err != nil {
			return nil, err
		}
		f.Default = v
		f.DefaultedOnCreate = true
		if f.Type == TypePicklist {
			f.DefaultPicklistValue, _ = v.(string)
		}
	}
	return f, nil
}

func specDefault(f *Field, d any) (any, error) {
	switch v := d.(type) {
	case string:
		conv, e := convertValue(f, v)
		if e != nil {
			return nil, fmt.Errorf("field %s: default %q: %s", f.Name, v, e.Message)
		}
		return conv, nil
	case float64:
		switch f.Type {
		case TypeInt, TypeDouble, TypeCurrency, TypePercent:
			return v, nil
		}
	case bool:
		if f.Type == TypeBoolean {
			return v, nil
		}
	}
	return nil, fmt.Errorf("field %s: default %v does not suit type %s", f.Name, d, f.Type)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// fullName is a Contact-style Name from its FirstName and LastName values: the two joined by
// a space, either alone, or nil when both are empty.
func fullName(first, last any) any {
	fn, _ := textValue(first)
	ln, _ := textValue(last)
	switch {
	case fn == "" && ln == "":
		return nil
	case fn == "":
		return ln
	case ln == "":
		return fn
	}
	return fn + " " + ln
}
