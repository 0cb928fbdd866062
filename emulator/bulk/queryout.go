package bulk

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// writeCSVRows streams rows [from, to) of res as quoted CSV, header first.
func writeCSVRows(w io.Writer, res *org.Result, from, to int, delim byte, eol string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 1024)
	buf = appendRow(buf, delim, eol, res.Columns...)
	cells := make([]string, len(res.Columns))
	for i := from; i < to; i++ {
		for c := range cells {
			cells[c] = res.Text(i, c)
		}
		buf = appendRow(buf, delim, eol, cells...)
		if len(buf) >= 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// bulk1QueryResult serves GET .../batch/{bid}/result/{rid}.
func (s *Service) bulk1QueryResult(w http.ResponseWriter, r *http.Request, b *batch, rid string) {
	j := b.job
	f := formatOf(j.contentType)
	s.mu.Lock()
	res, resultID := b.result, b.resultID
	s.mu.Unlock()
	if res == nil || !sameID(resultID, rid) {
		writeBulk1Error(w, f, http.StatusBadRequest, "InvalidBatch", "Invalid result id: "+rid)
		return
	}
	switch j.contentType {
	case "JSON":
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 64<<10)
		_ = bw.WriteByte('[')
		for i := range res.Len() {
			if i > 0 {
				_ = bw.WriteByte(',')
			}
			rec, _ := json.Marshal(res.Record(i))
			_, _ = bw.Write(rec)
		}
		_ = bw.WriteByte(']')
		_ = bw.Flush()
	case "XML":
		w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
		w.WriteHeader(http.StatusOK)
		_ = writeXMLRecords(w, res)
	default:
		w.Header().Set("Content-Type", wire.ContentTypeBulk1CSV)
		w.WriteHeader(http.StatusOK)
		if res.Len() == 0 {
			_, _ = io.WriteString(w, "Records not found for this query")
			return
		}
		_ = writeCSVRows(w, res, 0, res.Len(), ',', "\n")
	}
}

// writeXMLRecords writes a Bulk 1.0 XML query result.
func writeXMLRecords(w io.Writer, res *org.Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := []byte(xmlHeader + `<queryResult xmlns="` + dataloadNamespace + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	for i := range res.Len() {
		buf = append(buf, `<records xsi:type="sObject">`...)
		buf = appendXMLElem(buf, "type", res.Object)
		for c, col := range res.Columns {
			parts := strings.Split(col, ".")
			for _, p := range parts[:len(parts)-1] {
				buf = append(buf, `<`+p+` xsi:type="sObject">`...)
			}
			last := parts[len(parts)-1]
			if res.IsNull(i, c) {
				buf = append(buf, `<`+last+` xsi:nil="true"/>`...)
			} else {
				buf = appendXMLElem(buf, last, res.Text(i, c))
			}
			for k := len(parts) - 2; k >= 0; k-- {
				buf = append(buf, `</`+parts[k]+`>`...)
			}
		}
		buf = append(buf, `</records>`...)
		if len(buf) >= 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, `</queryResult>`...)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// queryErrorParts splits an org query error into code and message.
func queryErrorParts(err error) (code, msg string) {
	var qe *org.QueryError
	if errors.As(err, &qe) {
		return qe.Code, qe.Message
	}
	return "MALFORMED_QUERY", err.Error()
}
