package rest

import (
	"encoding/json"
	"testing"
)

// FuzzResolveReferences checks @{ref.path} substitution never panics and
// never leaves a resolvable reference unresolved.
func FuzzResolveReferences(f *testing.F) {
	f.Add("/services/data/v62.0/sobjects/Contact/@{a.id}", `{"AccountId":"@{a.records[0].Id}","x":"pre-@{a.id}-post"}`)
	f.Add("@{a.records[9].Id}", `[1,"@{b.id}"]`)
	f.Add("@{a", `{`)
	values := map[string]any{"a": map[string]any{"id": "001000000000001AAA", "records": []any{map[string]any{"Id": "003000000000001AAA"}}}}
	f.Fuzz(func(t *testing.T, u, body string) {
		target, out, missing := resolveReferences(compositeSubrequest{URL: u, Body: json.RawMessage(body)}, values)
		if missing == "" && referencePattern.MatchString(target) {
			t.Fatalf("unresolved reference left in %q", target)
		}
		if json.Valid([]byte(body)) && out != nil && !json.Valid(out) {
			t.Fatalf("body became invalid JSON: %s", out)
		}
	})
}

func TestWalkPath(t *testing.T) {
	t.Parallel()
	v := map[string]any{"records": []any{map[string]any{"Id": "x", "Account": map[string]any{"Name": "A"}}}}
	for path, want := range map[string]any{".records[0].Id": "x", ".records[0].id": "x", ".records[0].Account.Name": "A", ".records[1].Id": nil, ".nope": nil} {
		got, ok := walkPath(v, path)
		if (want == nil) == ok || (ok && got != want) {
			t.Errorf("walkPath(%q) = %v, %v; want %v", path, got, ok, want)
		}
	}
}
