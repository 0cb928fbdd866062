package org

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Files (Salesforce Files: ContentVersion, ContentDocument,
// ContentDocumentLink).
const (
	// MaxContentVersionBytes is the largest file one REST ContentVersion
	// insert takes (2 GB with a multipart body).
	MaxContentVersionBytes = 2 << 30
	// CodeStorageLimitExceeded is the error when a file would pass the
	// org's FileStorageMB.
	CodeStorageLimitExceeded = "STORAGE_LIMIT_EXCEEDED"
)

// linkableObjects are the objects a file can be linked to
// (ContentDocumentLink.LinkedEntityId, ContentVersion.FirstPublishLocationId).
var linkableObjects = []string{"Account", "Contact", "Lead", "Opportunity", "Case", "User"}

// contentObjects are the Files objects. Their computed fields are read-only
// to API callers; CreateContentVersion fills them.
func contentObjects() []*Object {
	doc := object("ContentDocument", "Content Document", "Content Documents", "069",
		readOnly(str("Title", "Title", 255)),
		readOnly(str("FileType", "File Type", 20)),
		readOnly(str("FileExtension", "File Extension", 40)),
		readOnly(typed("ContentSize", "Size", TypeInt, 0)),
		readOnly(ref("LatestPublishedVersionId", "Latest Published Version ID", "ContentVersion", "LatestPublishedVersion")),
		owner(),
	)
	doc.Fields[len(systemFields())].NameField = true
	title := required(str("Title", "Title", 255))
	title.DefaultedOnCreate = true // from PathOnClient
	version := object("ContentVersion", "Content Version", "Content Versions", "068",
		title,
		required(str("PathOnClient", "Path On Client", 500)),
		typed("Description", "Description", TypeTextArea, 1000),
		str("ReasonForChange", "Reason For Change", 1000),
		pick("ContentLocation", "Content Location", []string{"S", "E", "L"}, true, "S"),
		ref("ContentDocumentId", "ContentDocument ID", "ContentDocument", "ContentDocument"),
		multiRef("FirstPublishLocationId", "First Publish Location ID", "FirstPublishLocation"),
		readOnly(str("VersionData", "Version Data", 255)),
		readOnly(typed("ContentSize", "Size", TypeInt, 0)),
		readOnly(str("FileExtension", "File Extension", 40)),
		readOnly(str("FileType", "File Type", 20)),
		readOnly(typed("IsLatest", "Is Latest", TypeBoolean, 0)),
		readOnly(str("VersionNumber", "Version Number", 20)),
		readOnly(str("Checksum", "Checksum", 50)),
		owner(),
	)
	version.Fields[len(systemFields())].NameField = true
	link := object("ContentDocumentLink", "Content Document Link", "Content Document Links", "06A",
		required(ref("ContentDocumentId", "ContentDocument ID", "ContentDocument", "ContentDocument")),
		required(multiRef("LinkedEntityId", "Linked Entity ID", "LinkedEntity")),
		required(pick("ShareType", "Share Type", []string{"V", "C", "I"}, true, "")),
		pick("Visibility", "Visibility", []string{"AllUsers", "InternalUsers", "SharedUsers"}, true, "AllUsers"),
	)
	for _, f := range link.Fields {
		if f.Name == "ContentDocumentId" || f.Name == "LinkedEntityId" {
			f.Updateable = false
		}
	}
	return []*Object{doc, version, link}
}

func multiRef(name, label, rel string) *Field {
	f := ref(name, label, linkableObjects[0], rel)
	f.ReferenceTo = append([]string(nil), linkableObjects...)
	return f
}

// fileStore holds the bodies of ContentVersions, in memory (a data file
// keeps the records, not the bodies). Safe for concurrent use.
type fileStore struct {
	mu    sync.Mutex
	data  map[string][]byte // ContentVersion id -> body
	bytes int64
}

// fileStorageAllowance is how many bytes of files the org's FileStorageMB
// limit allows in all (its maximum less what SetLimit marked used).
func (o *Org) fileStorageAllowance() int64 {
	l := &o.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.m[LimitFileStorageMB]
	if !ok {
		return int64(DefaultFileStorageMB) << 20
	}
	return int64(s.max-s.used) << 20
}

// reserveStorage takes n bytes of the org's file storage for a body being stored; release
// gives them back when the upload fails. ok is false when they do not fit.
func (o *Org) reserveStorage(n int64) (release func(), ok bool) {
	allowance := o.fileStorageAllowance()
	o.files.mu.Lock()
	defer o.files.mu.Unlock()
	if o.files.bytes+n > allowance {
		return nil, false
	}
	o.files.bytes += n
	return func() {
		o.files.mu.Lock()
		o.files.bytes -= n
		o.files.mu.Unlock()
	}, true
}

// FileStorageUsed returns the bytes of file bodies stored in the org.
func (o *Org) FileStorageUsed() int64 {
	o.files.mu.Lock()
	defer o.files.mu.Unlock()
	return o.files.bytes
}

// VersionData returns the body of a ContentVersion, ok false when the org
// has none for id.
func (o *Org) VersionData(id string) ([]byte, bool) {
	if n, ok := NormalizeID(id); ok {
		id = n
	}
	o.files.mu.Lock()
	defer o.files.mu.Unlock()
	b, ok := o.files.data[id]
	return b, ok
}

// CreateContentVersion inserts a ContentVersion with its body, as a REST
// insert (JSON with base64 VersionData, or multipart) does: fields are
// validated like any insert; without a ContentDocumentId a ContentDocument
// is created for it, else the document gets a new latest version;
// ContentSize, FileType, FileExtension, Checksum, VersionNumber, IsLatest and
// VersionData (the URL of the body under apiVersion) are filled in; a
// FirstPublishLocationId also links the document to that record. Bodies
// count against FileStorageMB (STORAGE_LIMIT_EXCEEDED past it).
func (o *Org) CreateContentVersion(ctx context.Context, userID, apiVersion string, fields map[string]any, data []byte) WriteResult {
	if len(data) > MaxContentVersionBytes {
		return fail(newErr("FILE_EXTENSION_NOT_ALLOWED", "file too large", "VersionData"))
	}
	release, ok := o.reserveStorage(int64(len(data)))
	if !ok {
		return fail(newErr(CodeStorageLimitExceeded, "storage limit exceeded", "VersionData"))
	}
	res := o.Write(ctx, userID, []WriteRequest{{Op: OpInsert, Object: "ContentVersion", Fields: fields}}, true)
	if len(res) != 1 || !res[0].Success {
		release()
		return res[0]
	}
	id := res[0].ID
	undo := func() { // the version must not outlive a failed upload
		release()
		o.writeAs(userID, []WriteRequest{{Op: OpHardDelete, Object: "ContentVersion", ID: id}}, true, true, "")
	}
	cv, err := o.Get(ctx, "ContentVersion", id, []string{"Title", "PathOnClient", "ContentDocumentId", "FirstPublishLocationId"})
	if err != nil {
		undo()
		return fail(newErr("UNKNOWN_EXCEPTION", err.Error()))
	}
	title, _ := cv["Title"].(string)
	base := path.Base(strings.ReplaceAll(fmt.Sprint(cv["PathOnClient"]), `\`, "/"))
	ext := strings.TrimPrefix(path.Ext(base), ".")
	if title == "" {
		title = strings.TrimSuffix(base, path.Ext(base))
	}
	sum := md5.Sum(data)
	docID, _ := cv["ContentDocumentId"].(string)
	version := 1
	var sys []WriteRequest
	if docID == "" {
		r := o.writeAs(userID, []WriteRequest{{Op: OpInsert, Object: "ContentDocument", Fields: map[string]any{}}}, true, true, "")
		if !r[0].Success {
			undo()
			return r[0]
		}
		docID = r[0].ID
	} else {
		prev, err := o.Query(ctx, "SELECT Id FROM ContentVersion WHERE ContentDocumentId = '"+docID+"' AND Id != '"+id+"'", false)
		if err == nil {
			version += prev.Len()
			for i := range prev.Len() {
				sys = append(sys, WriteRequest{Op: OpUpdate, Object: "ContentVersion", ID: prev.Values(i)[0].(string), Fields: map[string]any{"IsLatest": false}})
			}
		}
	}
	sys = append(sys,
		WriteRequest{Op: OpUpdate, Object: "ContentVersion", ID: id, Fields: map[string]any{
			"Title": title, "ContentDocumentId": docID, "ContentSize": float64(len(data)), "FileExtension": nilIfEmpty(ext),
			"FileType": fileType(ext), "IsLatest": true, "VersionNumber": strconv.Itoa(version),
			"Checksum": hex.EncodeToString(sum[:]), "VersionData": "/services/data/v" + apiVersion + "/sobjects/ContentVersion/" + id + "/VersionData",
		}},
		WriteRequest{Op: OpUpdate, Object: "ContentDocument", ID: docID, Fields: map[string]any{
			"Title": title, "FileExtension": nilIfEmpty(ext), "FileType": fileType(ext),
			"ContentSize": float64(len(data)), "LatestPublishedVersionId": id,
		}},
	)
	if loc, _ := cv["FirstPublishLocationId"].(string); loc != "" {
		sys = append(sys, WriteRequest{Op: OpInsert, Object: "ContentDocumentLink", Fields: map[string]any{
			"ContentDocumentId": docID, "LinkedEntityId": loc, "ShareType": "V",
		}})
	}
	for _, r := range o.writeAs(userID, sys, true, true, "") {
		if !r.Success {
			undo()
			return r
		}
	}
	o.files.mu.Lock()
	if o.files.data == nil {
		o.files.data = map[string][]byte{}
	}
	o.files.data[id] = data
	o.files.mu.Unlock()
	return res[0]
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fileType is ContentVersion.FileType for an extension, as Salesforce
// names the common ones.
func fileType(ext string) string {
	switch e := strings.ToLower(ext); e {
	case "txt":
		return "TEXT"
	case "csv":
		return "CSV"
	case "pdf":
		return "PDF"
	case "png", "jpg", "jpeg", "gif":
		return map[string]string{"png": "PNG", "jpg": "JPG", "jpeg": "JPG", "gif": "GIF"}[e]
	case "doc", "docx":
		return "WORD_X"
	case "xls", "xlsx":
		return "EXCEL_X"
	case "json":
		return "JSON"
	case "zip":
		return "ZIP"
	case "":
		return "UNKNOWN"
	default:
		return strings.ToUpper(e)
	}
}
