package org

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPackRoundTrip checks that every kind of stored value comes back from
// a packed record as it went in (==, and of the same type), and that values
// that cannot be packed are kept as they are.
func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	day := Date{time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
	long := strings.Repeat("é", 70_000)
	cases := map[string][]any{
		"kinds":     {"001000000000001AAA", false, true, nil, 1.5, math.Inf(-1), -0.0, now, day, "", long, "last"},
		"pre-epoch": {time.Date(1601, 1, 1, 0, 0, 0, 123_000_000, time.UTC), Date{time.Date(1000, 12, 31, 0, 0, 0, 0, time.UTC)}},
		"empty":     {},
		// Audit fields repeat the time and the user id; ids repeat among
		// more distinct ids than packSame remembers.
		"repeats": {"003000000000001AAA", false, now, "005000000000001AAA", now, "005000000000001AAA", now,
			"001000000000001AAA", "001000000000002AAA", "001000000000003AAA", "001000000000004AAA", "001000000000005AAA",
			"005000000000001AAA", "001000000000005AAA", now.Add(time.Millisecond), now, day, day, "short", "short"},
	}
	var pk packer
	for name, vals := range cases {
		r := &record{}
		r.setData(pk.pack(vals))
		if r.x != nil {
			t.Errorf("%s: not packed", name)
		}
		for p, want := range vals {
			if got := r.get(p); got != want && !(reflect.TypeOf(want) == reflect.TypeOf(got) && reflect.DeepEqual(got, want)) {
				t.Errorf("%s: value %d = %#v, want %#v", name, p, got, want)
			}
			if r.isNil(p) != (want == nil) {
				t.Errorf("%s: value %d isNil = %v", name, p, r.isNil(p))
			}
			if s, ok := r.str(p); ok != isString(want) || ok && s != want {
				t.Errorf("%s: value %d str = %q, %v", name, p, s, ok)
			}
		}
		if got := r.values(); !reflect.DeepEqual(got, append([]any{}, vals...)) && len(vals) > 0 {
			t.Errorf("%s: values = %#v", name, got)
		}
	}
	// A record whose data passes 64 KiB takes 4-byte ends; a smaller one 2.
	small, wide := &record{}, &record{}
	small.setData(pk.pack([]any{"a", now, now}))
	wide.setData(pk.pack([]any{"a", now, long, now}))
	if _, w := packedNum(small.d); w {
		t.Error("small record packed wide")
	}
	if _, w := packedNum(wide.d); !w || wide.get(3) != now || wide.get(2) != long {
		t.Errorf("wide record: wide %v, values %.40v", w, wide.values())
	}

	// A repeated time or id is packed as a reference to the first.
	rep := &record{}
	rep.setData(pk.pack([]any{now, now, "005000000000001AAA", "005000000000001AAA"}))
	if got, want := len(rep.d), 2+3*4+packedTimeLen+2+packedIDLen+2; got != want {
		t.Errorf("repeats packed in %d bytes, want %d", got, want)
	}

	// -0.0 keeps its sign bit.
	r := &record{}
	r.setData(pk.pack([]any{math.Copysign(0, -1)}))
	if f := r.get(0).(float64); !math.Signbit(f) {
		t.Error("-0 lost its sign")
	}

	// Values the packing does not know, and times with a zone or a
	// monotonic reading, stay as they are.
	for _, v := range []any{map[string]any{"a": 1}, int64(3), now.In(time.FixedZone("X", 3600)), time.Now()} {
		r := &record{}
		r.setData(pk.pack([]any{"id", v}))
		if r.x == nil {
			t.Errorf("%T %v packed", v, v)
			continue
		}
		if got := r.get(1); !reflect.DeepEqual(got, v) {
			t.Errorf("unpacked %v = %v", v, got)
		}
	}
}

// TestUnpackedRecordsCopyStagedPointers checks that a record that cannot be
// packed keeps the strings a writer staged as pointers (cells of a caller's
// buffer, the writer's id buffer), not the pointers.
func TestUnpackedRecordsCopyStagedPointers(t *testing.T) {
	t.Parallel()
	cell := "cell"
	var id [packedIDLen]byte
	copy(id[:], "003000000000001AAA")
	var pk packer
	r := &record{}
	r.setData(pk.pack([]any{&id, &cell, time.Now()})) // a monotonic time: not packed
	cell, id = "changed", [packedIDLen]byte{}
	if r.x == nil || r.get(0) != "003000000000001AAA" || r.get(1) != "cell" || r.id() != "003000000000001AAA" {
		t.Errorf("values %#v", r.x)
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// TestPackedRecordsDoNotShareBuffers checks that a packed record keeps its
// values when the packer packs the next one.
func TestPackedRecordsDoNotShareBuffers(t *testing.T) {
	t.Parallel()
	var pk packer
	a, b := &record{}, &record{}
	a.setData(pk.pack([]any{"first", 1.0}))
	b.setData(pk.pack([]any{"second", 2.0}))
	if a.get(0) != "first" || a.get(1) != 1.0 || b.get(0) != "second" || b.get(1) != 2.0 {
		t.Errorf("a = %v, b = %v", a.values(), b.values())
	}
	// Records packed into a shared arena, past the size of one arena.
	var recs []*record
	big := strings.Repeat("x", arenaBytes/3)
	for i := range 10 {
		r := &record{}
		r.setData(pk.packShared([]any{fmt.Sprint(i), big}, 10-i))
		recs = append(recs, r)
	}
	for i, r := range recs {
		if r.get(0) != fmt.Sprint(i) || r.get(1) != big {
			t.Errorf("record %d = %.20v", i, r.values())
		}
	}
}

// TestPackNameJoin checks that a Name packed as a reference to FirstName
// and LastName reads back as Object.nameFn computes it, and that a record
// left unpacked keeps it computed.
func TestPackNameJoin(t *testing.T) {
	t.Parallel()
	ob, _ := DefaultSchema().Object("Contact")
	if ob.nameJoin == nil {
		t.Fatal("Contact inserts do not pack Name as a join")
	}
	first, last, name := ob.byName["firstname"], ob.byName["lastname"], ob.byName["name"]
	var pk packer
	for _, tc := range []struct{ fn, ln any }{{"Ada", "Lovelace"}, {nil, "Lovelace"}, {"Ada", nil}, {nil, nil}, {ptr("Grace"), ptr("Hopper")}, {"003000000000001AAA", "003000000000001AAA"}} {
		vals := make([]any, len(ob.Fields))
		vals[posID] = "003000000000001AAA"
		vals[first], vals[last] = tc.fn, tc.ln
		want := ob.nameFn(vals)
		vals[name] = ob.nameJoin
		r := &record{}
		r.setData(pk.pack(vals))
		if got := r.get(name); got != want {
			t.Errorf("%v %v: Name = %#v, want %#v", tc.fn, tc.ln, got, want)
		}
		vals[posCreatedDate] = time.Now() // not packable: kept unpacked
		u := &record{}
		u.setData(pk.pack(vals))
		if u.x == nil || u.get(name) != want {
			t.Errorf("%v %v: unpacked Name = %#v, want %#v", tc.fn, tc.ln, u.get(name), want)
		}
	}
}

func ptr(s string) *string { return &s }
