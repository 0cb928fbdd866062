package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// CreateWithBlob creates a record with a file body in one multipart request, as Salesforce's
// "Insert or Update Blob Data" describes: fields go as the JSON part, the file as the binary
// part named blobField (VersionData for ContentVersion, Body for Attachment and Document).
// open is called for each attempt and its file is streamed into the request as it is sent,
// never held in memory; the request is retried only as the client's policy allows for a
// create. Salesforce takes up to 2 GB for a ContentVersion and 500 MB for other objects.
func (s SObject) CreateWithBlob(ctx context.Context, fields map[string]any, blobField, fileName string, open func() (io.ReadCloser, error)) (string, error) {
	meta, err := json.Marshal(fieldsOrEmpty(fields))
	if err != nil {
		return "", fmt.Errorf("salesforce: encoding %s fields: %w", s.name, err)
	}
	jsonPart := "entity_document"
	if strings.EqualFold(s.name, "ContentVersion") {
		jsonPart = "entity_content"
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	body := func() (io.ReadCloser, error) {
		f, err := open()
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		if err := mw.SetBoundary(boundary); err != nil {
			f.Close()
			return nil, err
		}
		go func() {
			defer f.Close()
			pw.CloseWithError(writeBlobParts(mw, jsonPart, meta, blobField, fileName, f))
		}()
		return pr, nil
	}
	var res saveResponse
	r := &request{method: http.MethodPost, path: s.c.dataPath("sobjects", s.name), body: body,
		contentType: "multipart/form-data; boundary=" + boundary}
	if err := s.c.doJSON(ctx, r, nil, &res); err != nil {
		return "", err
	}
	if res.ID == "" {
		return "", fmt.Errorf("salesforce: create %s: response has no id", s.name)
	}
	return res.ID, nil
}

// writeBlobParts writes the JSON part and the file part, then the closing boundary.
func writeBlobParts(mw *multipart.Writer, jsonPart string, meta []byte, blobField, fileName string, file io.Reader) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, jsonPart))
	h.Set("Content-Type", "application/json")
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(meta); err != nil {
		return err
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, blobField, fileName))
	h.Set("Content-Type", "application/octet-stream")
	if w, err = mw.CreatePart(h); err != nil {
		return err
	}
	if _, err := io.Copy(w, file); err != nil {
		return err
	}
	return mw.Close()
}
