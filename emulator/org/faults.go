package org

import (
	"strings"
	"sync"
)

// RowFault makes writes of matching rows fail with a chosen error, for
// testing how clients handle record-level failures.
type RowFault struct {
	// Object limits the fault to one object (case-insensitive); "" matches
	// every object.
	Object string
	// Field and Value, when Field is set, match rows whose input value for
	// Field (case-insensitive name) has the text Value.
	Field, Value string
	// Match, when set, must also return true for the row's input fields.
	// It runs while the org is locked for the write, so it must not call
	// the Org.
	Match func(fields map[string]any) bool
	// StatusCode and Message are the error reported; StatusCode defaults to
	// UNKNOWN_EXCEPTION. Fields are its field names.
	StatusCode, Message string
	Fields              []string
	// Count is how many rows fail before the fault is spent; zero or
	// negative fails every matching row.
	Count int
}

type activeFault struct {
	f    RowFault
	left int
}

type faults struct {
	mu   sync.Mutex
	list []*activeFault
}

// InjectRowFault adds a row fault. Faults are checked in the order added,
// before validation; the first that matches decides.
func (o *Org) InjectRowFault(f RowFault) {
	o.faults.mu.Lock()
	defer o.faults.mu.Unlock()
	o.faults.list = append(o.faults.list, &activeFault{f: f, left: f.Count})
}

// ClearRowFaults removes every row fault.
func (o *Org) ClearRowFaults() {
	o.faults.mu.Lock()
	defer o.faults.mu.Unlock()
	o.faults.list = nil
}

// active reports whether any row fault is set.
func (fs *faults) active() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.list) > 0
}

func (fs *faults) match(object string, fields map[string]any) *Error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.list) == 0 {
		return nil
	}
	for i, a := range fs.list {
		f := &a.f
		if f.Object != "" && !strings.EqualFold(f.Object, object) {
			continue
		}
		if f.Field != "" {
			hit := false
			for k, v := range fields {
				if strings.EqualFold(k, f.Field) {
					s, _ := toText(v)
					hit = s == f.Value
					break
				}
			}
			if !hit {
				continue
			}
		}
		if f.Match != nil && !f.Match(fields) {
			continue
		}
		if f.Count > 0 {
			a.left--
			if a.left <= 0 {
				fs.list = append(fs.list[:i:i], fs.list[i+1:]...)
			}
		}
		code := f.StatusCode
		if code == "" {
			code = "UNKNOWN_EXCEPTION"
		}
		return newErr(code, f.Message, f.Fields...)
	}
	return nil
}
