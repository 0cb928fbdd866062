package rest

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// MaxFileUploadBytes bounds one ContentVersion upload the emulator accepts
// (Salesforce takes up to 2 GB multipart and 37.5 MB as base64 JSON; the
// emulator keeps file bodies in memory, so it draws the line lower).
const MaxFileUploadBytes = 100 << 20

// isContentVersion reports whether p (segments after sobjects/) names an
// object with a file body: ContentVersion (VersionData) or Attachment (Body).
func isContentVersion(p []string) bool {
	return len(p) > 0 && blobFieldOf(p[0]) != ""
}

// blobFieldOf is the body field of an object with one, "" otherwise.
func blobFieldOf(object string) string {
	switch {
	case strings.EqualFold(object, "ContentVersion"):
		return "VersionData"
	case strings.EqualFold(object, "Attachment"):
		return "Body"
	}
	return ""
}

// contentVersion serves what the Files API adds to sObject CRUD:
// POST sobjects/ContentVersion (JSON with VersionData in base64, or
// multipart/form-data with an entity_content JSON part and a VersionData
// binary part) and GET sobjects/ContentVersion/{id}/VersionData. It
// returns false for every other request, which the generic handler serves.
//
// Attachment gets the same: POST sobjects/Attachment (base64 Body in JSON, or
// multipart with a JSON part and a Body part) and GET .../{id}/Body.
func (h *Handler) contentVersion(w http.ResponseWriter, q *request) bool {
	p := q.parts[1:]
	blob := blobFieldOf(p[0])
	switch {
	case len(p) == 1 && q.r.Method == http.MethodPost:
		h.createContentVersion(w, q, blob)
		return true
	case len(p) == 3 && strings.EqualFold(p[2], blob):
		if allow(w, q.r.Method, http.MethodGet) {
			h.versionData(w, p[1])
		}
		return true
	}
	return false
}

func (h *Handler) createContentVersion(w http.ResponseWriter, q *request, blob string) {
	var fields map[string]any
	var data []byte
	mt, params, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		var msg string
		fields, data, msg = readMultipartVersion(q.r, params["boundary"], blob)
		if msg != "" {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_MULTIPART_REQUEST", msg)
			return
		}
	} else {
		body, err := readBody(q.r)
		if err != nil {
			wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
			return
		}
		var perr *saveError
		if fields, perr = decodeRecord(body); perr != nil {
			wire.WriteError(w, http.StatusBadRequest, perr.ErrorCode, perr.Message)
			return
		}
		for k, v := range fields {
			if !strings.EqualFold(k, blob) {
				continue
			}
			delete(fields, k)
			s, _ := v.(string)
			if data, err = base64.StdEncoding.DecodeString(s); err != nil {
				writeSaveErrors(w, []org.Error{{StatusCode: "INVALID_FIELD", Message: blob + ": value not of required type: base64", Fields: []string{blob}}})
				return
			}
		}
	}
	if data == nil {
		writeSaveErrors(w, []org.Error{{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [" + blob + "]", Fields: []string{blob}}})
		return
	}
	object, create := "ContentVersion", h.org.CreateContentVersion
	if blob == "Body" {
		object, create = "Attachment", h.org.CreateAttachment
	}
	res := create(q.r.Context(), q.userID, q.ver, fields, data)
	if !res.Success {
		writeSaveErrors(w, res.Errors)
		return
	}
	w.Header().Set("Location", "/services/data/v"+q.ver+"/sobjects/"+object+"/"+res.ID)
	wire.WriteJSON(w, http.StatusCreated, createResult{ID: res.ID, Success: true, Errors: []struct{}{}})
}

// readMultipartVersion reads the entity_content (JSON fields) and blob (the
// file: VersionData, Body) parts; msg says what is wrong with the body.
func readMultipartVersion(r *http.Request, boundary, blob string) (map[string]any, []byte, string) {
	if boundary == "" {
		return nil, nil, "multipart request has no boundary"
	}
	mr := multipart.NewReader(r.Body, boundary)
	var fields map[string]any
	var data []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, "malformed multipart body: " + err.Error()
		}
		b, err := io.ReadAll(io.LimitReader(part, MaxFileUploadBytes+1))
		if err != nil {
			return nil, nil, "malformed multipart body: " + err.Error()
		}
		if len(b) > MaxFileUploadBytes {
			return nil, nil, "file larger than " + strconv.Itoa(MaxFileUploadBytes) + " bytes"
		}
		switch name := part.FormName(); {
		case name == "entity_content" || name == "entity_document" || name == "entity_attachment" || name == "json":
			f, perr := decodeRecord(b)
			if perr != nil {
				return nil, nil, name + ": " + perr.Message
			}
			fields = f
		case strings.EqualFold(name, blob):
			data = b
		}
	}
	if fields == nil {
		return nil, nil, "multipart request has no entity_content part"
	}
	return fields, data, ""
}

// versionData serves a ContentVersion's body.
func (h *Handler) versionData(w http.ResponseWriter, id string) {
	b, ok := h.org.VersionData(id)
	if !ok {
		notFound(w)
		return
	}
	w.Header().Set("Content-Type", "application/octetstream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
