package rest

import (
	"encoding/json"
	"html"
	"reflect"
	"strings"
	"testing"
)

// awkward holds every character Connect encodes, an entity-looking text and
// a JSON escape.
const awkward = `O'Brien & "Sons" <b> \ &quot; &amp; tab	é`

// TestCompositeBatchEntityEncodesStrings: strings in Composite Batch results
// are HTML-entity encoded (record values, keys untouched in effect, error
// messages), while the plain REST resource and /composite send them as they
// are.
func TestCompositeBatchEntityEncodesStrings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.insertContacts(1, awkward)[0]
	r := e.do("POST", "/services/data/v62.0/composite/batch", `{"batchRequests":[
	 {"method":"GET","url":"v62.0/sobjects/Contact/`+id+`?fields=LastName"},
	 {"method":"GET","url":"v62.0/query?q=SELECT+LastName+FROM+Contact+WHERE+Id='`+id+`'"},
	 {"method":"POST","url":"v62.0/sobjects/Contact","richInput":{"NoSuchField__c":"x"}}]}`)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	const encoded = `O&#39;Brien &amp; &quot;Sons&quot; &lt;b&gt; &#92; &amp;quot; &amp;amp; tab\té`
	if strings.Count(r.body, `"LastName":"`+encoded+`"`) != 2 {
		t.Errorf("LastName not entity encoded twice (get, query) in %s", r.body)
	}
	var out struct {
		Results []struct {
			StatusCode int             `json:"statusCode"`
			Result     json.RawMessage `json:"result"`
		} `json:"results"`
	}
	e.json(r, &out)
	var rec map[string]any
	if err := json.Unmarshal(out.Results[0].Result, &rec); err != nil || html.UnescapeString(rec["LastName"].(string)) != awkward {
		t.Errorf("decoded LastName %q (%v), want %q after unescaping", rec["LastName"], err, awkward)
	}
	var errs []map[string]any
	if err := json.Unmarshal(out.Results[2].Result, &errs); err != nil || out.Results[2].StatusCode != 400 || len(errs) != 1 {
		t.Fatalf("failed create: %d %s", out.Results[2].StatusCode, out.Results[2].Result)
	}
	if msg, _ := errs[0]["message"].(string); !strings.Contains(msg, "NoSuchField__c") || strings.ContainsAny(msg, `'"<>`) {
		t.Errorf("error message not entity encoded: %q", msg)
	}

	// The plain resource and /composite do not encode.
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact/"+id+"?fields=LastName", "")
	e.json(r, &rec)
	if rec["LastName"] != awkward {
		t.Errorf("REST GET LastName %q, want %q", rec["LastName"], awkward)
	}
	r = e.do("POST", "/services/data/v62.0/composite", `{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/sobjects/Contact/`+id+`?fields=LastName","referenceId":"c"}]}`)
	var comp compositeOut
	e.json(r, &comp)
	if len(comp.CompositeResponse) != 1 || json.Unmarshal(comp.CompositeResponse[0].Body, &rec) != nil || rec["LastName"] != awkward {
		t.Errorf("/composite body %s, want LastName %q as is", r.body, awkward)
	}
}

func TestEntityEncodeJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`null`:                          `null`,
		`{"a":"x&y","n":1.50,"b":true}`: `{"a":"x&amp;y","n":1.50,"b":true}`,
		`["\"q\"","\\","\u003c"]`:       `["&quot;q&quot;","&#92;","&lt;"]`,
		`{ "k" : [ "'" ] }`:             `{ "k" : [ "&#39;" ] }`,
	} {
		if got := string(entityEncodeJSON([]byte(in))); got != want {
			t.Errorf("entityEncodeJSON(%s) = %s, want %s", in, got, want)
		}
	}
}

// unescapeAll undoes entity encoding in every string of a decoded JSON value.
func unescapeAll(v any) any {
	switch x := v.(type) {
	case string:
		return html.UnescapeString(x)
	case []any:
		for i := range x {
			x[i] = unescapeAll(x[i])
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[html.UnescapeString(k)] = unescapeAll(val)
		}
		return m
	}
	return v
}

// FuzzEntityEncodeJSON: the output of valid JSON is valid JSON whose strings
// unescape to the input's.
func FuzzEntityEncodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":"<&>"}`, `["\"","\\u0026"]`, `"é\n"`, `{"x":[1,{"y":"'"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want any
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		out := entityEncodeJSON([]byte(in))
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output of %q is not JSON: %q: %v", in, out, err)
		}
		if got = unescapeAll(got); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q -> %q: unescaped %#v, want %#v", in, out, got, want)
		}
	})
}
