package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// describeAPI is the part of *salesforce.Client the preflight check uses.
type describeAPI interface {
	Describe(ctx context.Context, object string) (*salesforce.SObjectDescribe, error)
}

// maxProblems is how many preflight problems a PreflightError lists; the rest are counted.
const maxProblems = 1000

// checker holds what the preflight needs to check rows.
type checker struct {
	op       Operation
	fields   []*salesforce.Field // per header column; nil for relationship or unknown columns
	required []int               // header columns that must not be empty on insert
	picks    *picklistChecker    // record types and restricted picklists, nil if none in the header
	// textMax is, per header column of a text field that checkValue checks only for length,
	// the length up to which no value needs checking (in bytes, at most one byte per
	// character); -1 for the other columns. Set by prepare.
	textMax  []int
	problems []Problem
	more     int
}

func (k *checker) add(p Problem) {
	if len(k.problems) < maxProblems {
		k.problems = append(k.problems, p)
	} else {
		k.more++
	}
}

// preflight checks the header against the object's describe before any job is created:
// problems there abort the load with a *PreflightError. Row problems (missing required
// values, obvious type and length errors) are checked per row: by default each bad row fails
// on its own, unsent (see runPass); with AbortOnRowProblems, and in a dry run, every row is
// checked first (spooled to disk so memory stays bounded) and any problem aborts.
func (r *run) preflight(ctx context.Context, in passSource) (passSource, error) {
	cfg := r.cfg
	k := &checker{op: cfg.Operation, fields: make([]*salesforce.Field, len(r.header))}
	described := false
	switch {
	case cfg.Preflight == PreflightOff:
	case r.l.desc == nil:
		if cfg.Preflight == PreflightRequired {
			return nil, errors.New("preflight: no describe available")
		}
	default:
		d, err := r.l.desc.Describe(ctx, cfg.Object)
		if err != nil {
			var ae *salesforce.APIError
			if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.ErrorCode == "NOT_FOUND") {
				return nil, &PreflightError{Object: cfg.Object, Problems: []Problem{{Code: "INVALID_TYPE",
					Message: fmt.Sprintf("sObject type '%s' is not supported", cfg.Object)}}}
			}
			if cfg.Preflight == PreflightRequired || OrgUnusable(err) {
				// An org that cannot be reached or refuses the session stops the load here,
				// before any job exists: every row ends NotProcessed.
				return nil, fmt.Errorf("preflight: describe %s: %w", cfg.Object, err)
			}
			cfg.Logger.Warn("load: preflight skipped: describe failed", "object", cfg.Object, "err", err)
			break
		}
		described = true
		r.types = make(map[string]string, len(d.Fields))
		for i := range d.Fields {
			r.types[strings.ToLower(d.Fields[i].Name)] = d.Fields[i].Type
		}
		r.checkColumns(ctx, d, k)
		k.prepare()
		k.picks = r.newPicklistChecker(ctx, d)
		if len(k.problems) > 0 && !cfg.DryRun {
			return nil, &PreflightError{Object: cfg.Object, Problems: k.problems, Truncated: k.more}
		}
	}
	if described {
		r.check = k
	}
	if !cfg.DryRun && (!described || cfg.PreflightRows == FailRows) {
		return in, nil
	}
	// Check every row before anything is sent.
	var sp *spool
	if !cfg.DryRun {
		var err error
		if sp, err = newSpool(r.tempPath("preflight"), len(r.header)); err != nil {
			return nil, err
		}
	}
	var inErr error
	for {
		if err := ctx.Err(); err != nil {
			if sp != nil {
				sp.finish()
			}
			return nil, err
		}
		p, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			inErr = err
			break
		}
		var finding *Problem
		if described {
			finding = k.checkRow(p.num, r.header, p.vals)
		}
		if cfg.DryRun && r.sink != nil {
			r.emitDryRun(p, finding)
		}
		if sp != nil {
			if err := sp.addRow(p); err != nil {
				sp.finish()
				return nil, err
			}
		}
	}
	var pe error
	if len(k.problems) > 0 {
		pe = &PreflightError{Object: cfg.Object, Problems: k.problems, Truncated: k.more}
	}
	if cfg.DryRun {
		if pe == nil {
			pe = inErr
		}
		return &sliceSource{}, pe
	}
	if err := sp.finish(); err != nil {
		return nil, err
	}
	src, err := sp.source()
	if err != nil {
		return nil, err
	}
	if pe != nil {
		for { // drain to remove the spool file
			if _, err := src.next(); err != nil {
				break
			}
		}
		return nil, pe
	}
	return &sliceSource{rest: src, err: inErr}, nil
}

// checkColumns checks the header against the describe.
func (r *run) checkColumns(ctx context.Context, d *salesforce.SObjectDescribe, k *checker) {
	cfg := r.cfg
	present := map[string]bool{}
	for i, h := range r.header {
		if rel, field, ok := strings.Cut(h, "."); ok {
			typ := ""
			if t, name, ok := strings.Cut(rel, ":"); ok {
				typ, rel = t, name
			}
			var ref *salesforce.Field
			for j := range d.Fields {
				if strings.EqualFold(d.Fields[j].RelationshipName, rel) && d.Fields[j].Type == "reference" {
					ref = &d.Fields[j]
				}
			}
			if ref == nil {
				k.add(Problem{Column: h, Code: "INVALID_FIELD", Message: fmt.Sprintf("No such relationship '%s' on %s", rel, cfg.Object)})
				continue
			}
			present[strings.ToLower(ref.Name)] = true
			r.checkWritable(k, h, ref)
			parent := typ
			if parent == "" && len(ref.ReferenceTo) == 1 {
				parent = ref.ReferenceTo[0]
			}
			if parent != "" {
				if pd, err := r.l.desc.Describe(ctx, parent); err == nil {
					pf, ok := pd.Field(field)
					switch {
					case !ok:
						k.add(Problem{Column: h, Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", field, parent)})
					case !pf.ExternalID && !pf.IDLookup && !strings.EqualFold(pf.Name, "Id"):
						k.add(Problem{Column: h, Code: "INVALID_FIELD", Message: fmt.Sprintf("%s.%s is not an external id or idLookup field", parent, pf.Name)})
					}
				}
			}
			continue
		}
		f, ok := d.Field(h)
		if !ok {
			k.add(Problem{Column: h, Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", h, cfg.Object)})
			continue
		}
		k.fields[i] = f
		present[strings.ToLower(f.Name)] = true
		if !strings.EqualFold(f.Name, "Id") || cfg.Operation == Insert {
			r.checkWritable(k, h, f)
		}
	}
	if cfg.Operation == Upsert {
		f, ok := d.Field(cfg.ExternalIDField)
		switch {
		case !ok:
			k.add(Problem{Code: "INVALID_FIELD", Message: fmt.Sprintf("Options.ExternalIDField: no such field '%s' on %s", cfg.ExternalIDField, cfg.Object)})
		case !f.ExternalID && !f.IDLookup && !strings.EqualFold(f.Name, "Id"):
			k.add(Problem{Code: "INVALID_FIELD", Message: fmt.Sprintf("Options.ExternalIDField: %s.%s is not an external id field", cfg.Object, f.Name)})
		case !present[strings.ToLower(f.Name)] && !present["id"]:
			k.add(Problem{Column: f.Name, Code: "MISSING_EXTERNAL_ID", Message: fmt.Sprintf("upsert needs a %s column", f.Name)})
		}
	}
	if cfg.Operation == Insert {
		for j := range d.Fields {
			f := &d.Fields[j]
			if f.Required() && f.Type != "boolean" && !present[strings.ToLower(f.Name)] {
				k.add(Problem{Column: f.Name, Code: "REQUIRED_FIELD_MISSING", Message: fmt.Sprintf("Required fields are missing: [%s]", f.Name)})
			}
		}
		for i, f := range k.fields {
			if f != nil && f.Required() && f.Type != "boolean" {
				k.required = append(k.required, i)
			}
		}
	}
}

func (r *run) checkWritable(k *checker, col string, f *salesforce.Field) {
	switch r.cfg.Operation {
	case Insert:
		if !f.Createable {
			k.add(Problem{Column: col, Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: fmt.Sprintf("Unable to create/update fields: %s. The field is not createable.", f.Name)})
		}
	case Update:
		if !f.Updateable {
			k.add(Problem{Column: col, Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: fmt.Sprintf("Unable to create/update fields: %s. The field is not updateable.", f.Name)})
		}
	case Upsert:
		if !f.Createable && !f.Updateable && !strings.EqualFold(f.Name, r.cfg.ExternalIDField) {
			k.add(Problem{Column: col, Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: fmt.Sprintf("Unable to create/update fields: %s. The field is neither createable nor updateable.", f.Name)})
		}
	}
}

// checkRow records the obvious type and length errors of one row and returns the first.
func (k *checker) checkRow(num int64, header, vals []string) *Problem {
	var first *Problem
	k.eachProblem(num, header, vals, func(p Problem) bool {
		if first == nil {
			first = &p
		}
		k.add(p)
		return true
	})
	return first
}

// emitDryRun delivers a dry run's outcome for one row: failed with its first finding (as the
// load would have failed it, unsent), otherwise not processed; nothing is sent either way.
func (r *run) emitDryRun(p prow, finding *Problem) {
	res := &RowResult{Row: p.num, Values: p.vals, Batch: -1, Outcome: NotProcessed,
		Error: &RowError{StatusCode: StatusDryRun, Message: "dry run: checked, not sent"}}
	if finding != nil {
		res.Outcome = Failed
		res.Error = &RowError{StatusCode: finding.Code, Message: finding.Message + " (dry run: not sent)", Fields: []string{finding.Column}}
	}
	r.emit(res)
}

// rowError returns the first problem of a row as the row's error, or nil.
func (k *checker) rowError(num int64, header, vals []string) *RowError {
	var e *RowError
	k.eachProblem(num, header, vals, func(p Problem) bool {
		e = &RowError{StatusCode: p.Code, Message: p.Message + " (preflight: row not sent)", Fields: []string{p.Column}}
		return false
	})
	return e
}

// prepare sets textMax from fields.
func (k *checker) prepare() {
	k.textMax = make([]int, len(k.fields))
	for i, f := range k.fields {
		k.textMax[i] = -1
		if f == nil || (f.Type == "picklist" && f.RestrictedPicklist && len(f.PicklistValues) > 0) {
			continue
		}
		switch f.Type {
		case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
			k.textMax[i] = math.MaxInt
			if f.Length > 0 {
				k.textMax[i] = f.Length
			}
		}
	}
}

func (k *checker) eachProblem(num int64, header, vals []string, yield func(Problem) bool) {
	for _, i := range k.required {
		if v := vals[i]; v == "" || v == sfcsv.NullValue {
			if !yield(Problem{Row: num, Column: header[i], Code: "REQUIRED_FIELD_MISSING", Message: fmt.Sprintf("Required fields are missing: [%s]", header[i])}) {
				return
			}
		}
	}
	for i, f := range k.fields {
		v := vals[i]
		if f == nil || v == "" || (i < len(k.textMax) && len(v) <= k.textMax[i]) || v == sfcsv.NullValue {
			continue // no value, or text no longer than its field's length allows
		}
		if msg, code := checkValue(f, v); msg != "" {
			if !yield(Problem{Row: num, Column: header[i], Code: code, Message: msg}) {
				return
			}
		}
	}
	if k.picks != nil {
		k.picks.check(num, header, vals, yield)
	}
}

// isDate reports whether v is a date YYYY-MM-DD that time.Parse("2006-01-02", v) accepts:
// the common case of a date column, checked without the general parser. A false answer
// says nothing; the caller then asks time.Parse.
func isDate(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if i == 4 || i == 7 {
			continue
		}
		c := v[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	y, m, d := n/10000, n/100%100, n%100
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	last := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		last = 29
	}
	return d <= last
}

// checkValue returns a message and status code when v cannot be a value of f.
func checkValue(f *salesforce.Field, v string) (string, string) {
	switch f.Type {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
		// A value has no more characters than bytes: only a longer one is counted.
		if f.Length > 0 && len(v) > f.Length && utf8.RuneCountInString(v) > f.Length {
			return fmt.Sprintf("%s: data value too large: %.20s... (max length=%d)", f.Name, v, f.Length), "STRING_TOO_LONG"
		}
		if f.Type == "picklist" && f.RestrictedPicklist && len(f.PicklistValues) > 0 {
			// Salesforce matches picklist values without regard to case and stores the
			// value as the picklist spells it.
			for _, p := range f.PicklistValues {
				if strings.EqualFold(p.Value, v) {
					return "", ""
				}
			}
			return fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Name, v), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
		}
	case "boolean":
		if v == "true" || v == "false" {
			break
		}
		switch strings.ToLower(v) {
		case "true", "false", "1", "0", "yes", "no":
		default:
			return fmt.Sprintf("%s: value not of required type: %s", f.Name, v), "INVALID_TYPE_ON_FIELD_IN_RECORD"
		}
	case "int", "double", "currency", "percent", "long":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Sprintf("%s: value not of required type: %s", f.Name, v), "INVALID_TYPE_ON_FIELD_IN_RECORD"
		}
	case "date":
		if isDate(v) {
			break
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			if _, err2 := time.Parse(time.RFC3339, v); err2 != nil {
				return fmt.Sprintf("%s: value not of required type: %s", f.Name, v), "INVALID_TYPE_ON_FIELD_IN_RECORD"
			}
		}
	case "datetime":
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			if _, err2 := time.Parse("2006-01-02T15:04:05.000Z0700", v); err2 != nil {
				if _, err3 := time.Parse("2006-01-02", v); err3 != nil {
					return fmt.Sprintf("%s: value not of required type: %s", f.Name, v), "INVALID_TYPE_ON_FIELD_IN_RECORD"
				}
			}
		}
	case "id", "reference":
		if n := len(v); n != 15 && n != 18 {
			return fmt.Sprintf("%s: id value of incorrect type: %s", f.Name, v), "MALFORMED_ID"
		}
	}
	return "", ""
}
