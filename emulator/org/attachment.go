package org

import "context"

// attachmentObject is Attachment: a file (Body) attached to a parent record through
// ParentId. Body and BodyLength are filled by CreateAttachment.
func attachmentObject() *Object {
	name := required(str("Name", "File Name", 255))
	name.NameField = true
	parent := required(multiRef("ParentId", "Parent ID", "Parent"))
	parent.Updateable = false
	return object("Attachment", "Attachment", "Attachments", "00P",
		name,
		parent,
		readOnly(str("Body", "Body", 255)),
		readOnly(typed("BodyLength", "Body Length", TypeInt, 0)),
		str("ContentType", "Content Type", 120),
		typed("Description", "Description", TypeTextArea, 500),
		typed("IsPrivate", "Private", TypeBoolean, 0),
		owner(),
	)
}

// MaxAttachmentBytes is the largest Attachment body one REST insert takes (500 MB with a
// multipart body; the emulator's own request limit is lower).
const MaxAttachmentBytes = 500 << 20

// CreateAttachment inserts an Attachment with its body, as a REST insert (JSON with base64
// Body, or multipart) does: fields are validated like any insert (Name and ParentId are
// required), BodyLength and Body (the URL of the body under apiVersion) are filled in, and
// the body counts against FileStorageMB. VersionData(id) returns the body.
func (o *Org) CreateAttachment(ctx context.Context, userID, apiVersion string, fields map[string]any, data []byte) WriteResult {
	if len(data) > MaxAttachmentBytes {
		return fail(newErr("STRING_TOO_LONG", "Body: file too large", "Body"))
	}
	release, ok := o.reserveStorage(int64(len(data)))
	if !ok {
		return fail(newErr(CodeStorageLimitExceeded, "storage limit exceeded", "Body"))
	}
	res := o.Write(ctx, userID, []WriteRequest{{Op: OpInsert, Object: "Attachment", Fields: fields}}, true)
	if len(res) != 1 || !res[0].Success {
		release()
		return res[0]
	}
	id := res[0].ID
	r := o.writeAs(userID, []WriteRequest{{Op: OpUpdate, Object: "Attachment", ID: id, Fields: map[string]any{
		"BodyLength": float64(len(data)), "Body": "/services/data/v" + apiVersion + "/sobjects/Attachment/" + id + "/Body",
	}}}, true, true, "")
	if !r[0].Success {
		release()
		o.writeAs(userID, []WriteRequest{{Op: OpHardDelete, Object: "Attachment", ID: id}}, true, true, "")
		return r[0]
	}
	o.files.mu.Lock()
	if o.files.data == nil {
		o.files.data = map[string][]byte{}
	}
	o.files.data[id] = data
	o.files.mu.Unlock()
	return res[0]
}
