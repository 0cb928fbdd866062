package bulk

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// bulk1Format is the body format of a Bulk 1.0 response: XML or JSON.
type bulk1Format int

const (
	fmtXML bulk1Format = iota
	fmtJSON
)

// Response formats follow Salesforce's Content Type Header rule (Bulk API
// Developer Guide, "Content Type Header"): once a request names an existing
// job, the job's contentType decides (JSON for JSON jobs; XML for CSV and XML
// jobs, whatever the request's Content-Type); when the job's contentType is
// unavailable (job creation, an unknown job id, a bad version, session or
// URL) the request's Content-Type header decides, and without the header the
// response is XML.

// formatOf returns the response format for a job content type.
func formatOf(contentType string) bulk1Format {
	if contentType == "JSON" || contentType == "ZIP_JSON" {
		return fmtJSON
	}
	return fmtXML
}

// requestFormat returns the response format for a request without a job
// (job creation, an unknown job): JSON if its Content-Type is a JSON media
// type, else XML (also when the header is absent or is text/csv).
func requestFormat(r *http.Request) bulk1Format {
	if strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "json") {
		return fmtJSON
	}
	return fmtXML
}

func appendXMLElem(dst []byte, name, value string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendXMLEscaped(dst, value)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

func appendXMLEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&apos;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// writeBulk1Error writes Bulk 1.0's error body (protocol reference §3.10).
func writeBulk1Error(w http.ResponseWriter, f bulk1Format, status int, code, message string) {
	if f == fmtJSON {
		b, _ := json.Marshal(struct {
			ExceptionCode    string `json:"exceptionCode"`
			ExceptionMessage string `json:"exceptionMessage"`
		}{code, message})
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	b := []byte(xmlHeader + `<error xmlns="` + dataloadNamespace + `">`)
	b = appendXMLElem(b, "exceptionCode", code)
	b = appendXMLElem(b, "exceptionMessage", message)
	b = append(b, "</error>"...)
	w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// field is one named value of an ordered Bulk 1.0 response object.
type field struct {
	name  string
	value string
	kind  byte // 's' string, 'n' number, 'b' bool
}

// writeBulk1Object writes an ordered object as <root xmlns=...> or JSON.
func writeBulk1Object(w http.ResponseWriter, f bulk1Format, status int, root string, fields []field) {
	var b []byte
	if f == fmtJSON {
		b = appendJSONObject(nil, fields)
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
	} else {
		b = append(b, xmlHeader+`<`+root+` xmlns="`+dataloadNamespace+`">`...)
		b = appendXMLFields(b, fields)
		b = append(b, "</"+root+">"...)
		w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func appendXMLFields(b []byte, fields []field) []byte {
	for _, fl := range fields {
		b = appendXMLElem(b, fl.name, fl.value)
	}
	return b
}

func appendJSONObject(b []byte, fields []field) []byte {
	b = append(b, '{')
	for i, fl := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, fl.name) // names are ASCII identifiers
		b = append(b, ':')
		switch fl.kind {
		case 'n', 'b':
			b = append(b, fl.value...)
		default:
			v, _ := json.Marshal(fl.value)
			b = append(b, v...)
		}
	}
	return append(b, '}')
}

func str(name, v string) field { return field{name, v, 's'} }
func num(name string, v int64) field {
	return field{name, strconv.FormatInt(v, 10), 'n'}
}

// jobInfoFields renders a Bulk 1.0 jobInfo in the documented element order.
// Caller holds s.mu.
func jobInfoFields(j *job) []field {
	c := j.counts()
	fs := []field{
		str("id", j.id),
		str("operation", j.operation),
		str("object", j.object),
	}
	if j.extID != "" {
		fs = append(fs, str("externalIdFieldName", j.extID))
	}
	fs = append(fs,
		str("createdById", j.createdBy),
		str("createdDate", wire.FormatBulk1DateTime(j.created)),
		str("systemModstamp", wire.FormatBulk1DateTime(j.modstamp)),
		str("state", j.state),
		str("concurrencyMode", j.concurrency),
		str("contentType", j.contentType),
		num("numberBatchesQueued", int64(c.queued)),
		num("numberBatchesInProgress", int64(c.inProgress)),
		num("numberBatchesCompleted", int64(c.completed)),
		num("numberBatchesFailed", int64(c.failed)),
		num("numberBatchesTotal", int64(c.total)),
		num("numberRecordsProcessed", c.processed),
		num("numberRetries", j.retries),
		field{"apiVersion", j.version.String(), 'n'},
	)
	if j.assignmentRuleID != "" {
		fs = append(fs, str("assignmentRuleId", j.assignmentRuleID))
	}
	fs = append(fs,
		num("numberRecordsFailed", c.recFailed),
		num("totalProcessingTime", c.totalMS),
		num("apiActiveProcessingTime", c.apiMS),
		num("apexProcessingTime", 0),
	)
	return fs
}

// batchInfoFields renders a batchInfo. Caller holds s.mu.
func batchInfoFields(b *batch) []field {
	fs := []field{
		str("id", b.id),
		str("jobId", b.job.id),
		str("state", b.state),
	}
	if b.stateMessage != "" {
		fs = append(fs, str("stateMessage", b.stateMessage))
	}
	fs = append(fs,
		str("createdDate", wire.FormatBulk1DateTime(b.created)),
		str("systemModstamp", wire.FormatBulk1DateTime(b.modstamp)),
		num("numberRecordsProcessed", b.processed),
		num("numberRecordsFailed", b.failed),
		num("totalProcessingTime", b.totalMS),
		num("apiActiveProcessingTime", b.apiMS),
		num("apexProcessingTime", 0),
	)
	return fs
}

// jobRequest is a Bulk 1.0 jobInfo request body.
type jobRequest struct {
	Operation           string `xml:"operation"`
	Object              string `xml:"object"`
	ExternalIDFieldName string `xml:"externalIdFieldName"`
	ContentType         string `xml:"contentType"`
	ConcurrencyMode     string `xml:"concurrencyMode"`
	AssignmentRuleID    string `xml:"assignmentRuleId"`
	State               string `xml:"state"`
}

// parseJobRequest parses a jobInfo request in XML or JSON. JSON may spell
// concurrencyMode as the ordinal 0 (Parallel) or 1 (Serial).
func parseJobRequest(body []byte, f bulk1Format) (jobRequest, error) {
	var jr jobRequest
	if f == fmtJSON {
		var raw struct {
			Operation           string          `json:"operation"`
			Object              string          `json:"object"`
			ExternalIDFieldName string          `json:"externalIdFieldName"`
			ContentType         string          `json:"contentType"`
			ConcurrencyMode     json.RawMessage `json:"concurrencyMode"`
			AssignmentRuleID    string          `json:"assignmentRuleId"`
			State               string          `json:"state"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			return jr, err
		}
		jr = jobRequest{raw.Operation, raw.Object, raw.ExternalIDFieldName, raw.ContentType, "", raw.AssignmentRuleID, raw.State}
		switch cm := strings.TrimSpace(string(raw.ConcurrencyMode)); cm {
		case "", "null":
		case "0":
			jr.ConcurrencyMode = "Parallel"
		case "1":
			jr.ConcurrencyMode = "Serial"
		default:
			if err := json.Unmarshal(raw.ConcurrencyMode, &jr.ConcurrencyMode); err != nil {
				return jr, err
			}
		}
		return jr, nil
	}
	err := xml.Unmarshal(body, &jr)
	for _, p := range []*string{&jr.Operation, &jr.Object, &jr.ExternalIDFieldName, &jr.ContentType, &jr.ConcurrencyMode, &jr.AssignmentRuleID, &jr.State} {
		*p = strings.TrimSpace(*p)
	}
	return jr, err
}
