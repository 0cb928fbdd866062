package conformance

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// testContentVersionMultipart: a ContentVersion created with its body streamed in a multipart
// request (CreateWithBlob) holds that body and its fields; the file is deleted afterwards.
func testContentVersionMultipart(t *testing.T, e *Env) {
	ctx := t.Context()
	body := []byte(strings.Repeat("sfbatch conformance file\n", 4000))
	title := e.Name(1)
	id, err := e.Client.SObject("ContentVersion").CreateWithBlob(ctx, map[string]any{"Title": title, "PathOnClient": title + ".txt"},
		"VersionData", title+".txt", func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil })
	if err != nil {
		t.Fatalf("CreateWithBlob: %v", err)
	}
	rec, err := e.Client.SObject("ContentVersion").Get(ctx, id, "Title", "ContentSize", "ContentDocumentId")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	doc, _ := rec.String("ContentDocumentId")
	t.Cleanup(func() {
		if doc != "" {
			_ = e.Client.SObject("ContentDocument").Delete(t.Context(), doc)
		}
	})
	if v, _ := rec.String("Title"); v != title {
		t.Errorf("Title %q", v)
	}
	if v, _ := rec.Get("ContentSize"); v == nil || v.(interface{ String() string }).String() != "100000" {
		t.Errorf("ContentSize %v, want %d", v, len(body))
	}
	if e.Emulator != nil {
		if got, ok := e.Emulator.Org().VersionData(id); !ok || !bytes.Equal(got, body) {
			t.Errorf("stored body: %d bytes", len(got))
		}
	}
}

// testAttachmentMultipart: an Attachment created with its Body streamed in a multipart
// request, on an Account of the scenario, holds the body's length; deleting the Account
// deletes it.
func testAttachmentMultipart(t *testing.T, e *Env) {
	ctx := t.Context()
	acc, err := e.Client.SObject("Account").Create(ctx, map[string]any{"Name": e.Name(1)})
	if err != nil {
		t.Fatalf("create Account: %v", err)
	}
	t.Cleanup(func() { _ = e.Client.SObject("Account").Delete(t.Context(), acc) })
	body := []byte(strings.Repeat("attachment body\n", 1000))
	id, err := e.Client.SObject("Attachment").CreateWithBlob(ctx, map[string]any{"Name": "notes.txt", "ParentId": acc},
		"Body", "notes.txt", func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil })
	if err != nil {
		t.Fatalf("CreateWithBlob: %v", err)
	}
	rec, err := e.Client.SObject("Attachment").Get(ctx, id, "Name", "BodyLength", "ParentId")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if v, _ := rec.Get("BodyLength"); v == nil || v.(interface{ String() string }).String() != "16000" {
		t.Errorf("BodyLength %v, want %d", v, len(body))
	}
	if v, _ := rec.String("ParentId"); v != acc {
		t.Errorf("ParentId %q, want %q", v, acc)
	}
	if e.Emulator != nil {
		if got, ok := e.Emulator.Org().VersionData(id); !ok || !bytes.Equal(got, body) {
			t.Errorf("stored body: %d bytes", len(got))
		}
	}
}
