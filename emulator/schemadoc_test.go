package emulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docSchemaExample returns the JSON example of the package documentation's
// "Schema files" section: the indented block after its heading.
func docSchemaExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "// # Schema files\n")
	if !ok {
		t.Fatal(`doc.go has no "# Schema files" section`)
	}
	var sb strings.Builder
	inBlock := false
	for line := range strings.SplitSeq(after, "\n") {
		code, isCode := strings.CutPrefix(line, "//\t")
		if isCode {
			inBlock = true
			sb.WriteString(code + "\n")
			continue
		}
		if inBlock {
			break
		}
	}
	if sb.Len() == 0 {
		t.Fatal(`the "Schema files" section has no example`)
	}
	return sb.String()
}

// TestSchemaFileDocExample loads the documented example as a schema file, so
// the documentation cannot drift from the format the emulator reads.
func TestSchemaFileDocExample(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(p, []byte(docSchemaExample(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, func(c *Config) { c.SchemaFile = p })
	sc := s.Org().Schema()
	inv, ok := sc.Object("Invoice__c")
	if !ok {
		t.Fatal("Invoice__c was not created")
	}
	if !inv.Custom || inv.KeyPrefix != "a01" {
		t.Errorf("Invoice__c: custom %v, key prefix %q; want true, a01", inv.Custom, inv.KeyPrefix)
	}
	for _, name := range []string{"Name", "Number__c", "Amount__c", "Status__c", "Account__c"} {
		if _, ok := inv.Field(name); !ok {
			t.Errorf("Invoice__c has no field %s", name)
		}
	}
	if f, ok := inv.Field("Number__c"); !ok || !f.ExternalID || !f.Unique {
		t.Errorf("Number__c = %+v, want an external id, unique", f)
	}
	if _, ok := inv.Relationship("Account__r"); !ok {
		t.Error("Invoice__c has no relationship Account__r")
	}
	contact, _ := sc.Object("Contact")
	if _, ok := contact.Field("Score__c"); !ok {
		t.Error("Contact did not gain Score__c")
	}
	if _, ok := contact.Field("LastName"); !ok {
		t.Error("Contact lost its standard field LastName")
	}
}
