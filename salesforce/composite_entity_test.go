package salesforce

import (
	"encoding/json"
	"errors"
	"html"
	"reflect"
	"strings"
	"testing"
)

// awkwardValue holds every character Salesforce entity encodes in composite batch results,
// text that already looks like entities, and a JSON escape.
const awkwardValue = `O'Brien & "Sons" <b> \ &quot; &amp; tab	é`

// TestEmulatorCompositeBatchStrings: values with &, <, >, quotes, backslashes and literal
// entities go in as they are and come back through composite batch subrequests (create, get,
// query, upsert, error messages) exactly as stored.
func TestEmulatorCompositeBatchStrings(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	b := c.Composite.NewBatch(BatchOptions{})
	created := b.SObjects.Create("Contact", map[string]any{"LastName": awkwardValue})
	up := b.SObjects.Upsert("Contact", "External_Id__c", map[string]any{"External_Id__c": "ext&1", "LastName": awkwardValue + "2"})
	bad := b.SObjects.Create("Contact", map[string]any{"LastName": "x", "No'Such__c": "y"})
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if created.ID() == "" || up.ID() == "" {
		t.Fatalf("create %v, upsert %v", created.Err(), up.Err())
	}
	stored, err := srv.Get(ctx, "Contact", created.ID(), "LastName")
	if err != nil || stored["LastName"] != awkwardValue {
		t.Fatalf("stored LastName %q (%v), want %q", stored["LastName"], err, awkwardValue)
	}
	var apiErr *APIError
	if err := bad.Err(); !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "No'Such__c") {
		t.Errorf("error of a bad field: %v, want the field name unencoded", err)
	}

	b = c.Composite.NewBatch(BatchOptions{})
	get := b.SObjects.Get("Contact", created.ID(), "LastName")
	q := b.Query("SELECT LastName, External_Id__c FROM Contact WHERE External_Id__c = 'ext&1'")
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get.Record()["LastName"]; got != awkwardValue {
		t.Errorf("get LastName %q, want %q", got, awkwardValue)
	}
	if recs := q.Records(); len(recs) != 1 || recs[0]["LastName"] != awkwardValue+"2" || recs[0]["External_Id__c"] != "ext&1" {
		t.Errorf("query records %v", recs)
	}
}

func TestEntityDecodeJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`null`:                                 `null`,
		`{"a":"x&amp;y","n":1.50}`:             `{"a":"x\u0026y","n":1.50}`,
		`["&quot;q&quot;","&#92;","&lt;&gt;"]`: `["\"q\"","\\","\u003c\u003e"]`,
		`{ "k" : [ "&#39;", "plain" ] }`:       `{ "k" : [ "'", "plain" ] }`,
		`{"d":"&amp;quot; stays &quot; once"}`: `{"d":"\u0026quot; stays \" once"}`,
		`{"no":"entities here \" \\ \u00e9"}`:  `{"no":"entities here \" \\ \u00e9"}`,
	} {
		if got := string(entityDecodeJSON(json.RawMessage(in))); got != want {
			t.Errorf("entityDecodeJSON(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzEntityDecodeJSON: decoding valid JSON gives valid JSON whose strings are the input's,
// HTML-unescaped.
func FuzzEntityDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":"&lt;&amp;&gt;"}`, `["&quot;","\\u0026amp;"]`, `"&#92;\n"`, `{"x":[1,{"y":"&#39;"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want any
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		out := entityDecodeJSON(json.RawMessage(in))
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output of %q is not JSON: %q: %v", in, out, err)
		}
		want, ok := unescapeStrings(want)
		if !ok {
			return // two keys of one object are the same once unescaped
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q: %#v, want %#v", in, out, got, want)
		}
	})
}

// unescapeStrings HTML-unescapes every string of a decoded JSON value (keys too). It reports
// false when two keys of one object unescape to the same key.
func unescapeStrings(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return html.UnescapeString(x), true
	case []any:
		for i := range x {
			var ok bool
			if x[i], ok = unescapeStrings(x[i]); !ok {
				return nil, false
			}
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			k = html.UnescapeString(k)
			if _, dup := m[k]; dup {
				return nil, false
			}
			u, ok := unescapeStrings(val)
			if !ok {
				return nil, false
			}
			m[k] = u
		}
		return m, true
	}
	return v, true
}
