package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// row is one input record ready to be written.
type row struct {
	fields         map[string]any
	vals           []any      // a columnar csvSource's values, by header column (nil otherwise)
	raw            []string   // CSV cells as uploaded (nil for JSON and XML)
	plain          bool       // no cell of raw holds a double quote: the row was split from the text of csvSource
	from, to       int        // a plain row's text (cells and delimiters) in the csvSource's text
	rowErr         *org.Error // a problem found before the write
	lengthsChecked bool       // the source applied checkFieldLength to every value
}

// rowSource yields a batch's rows in input order. next returns io.EOF at the
// end; any other error fails the batch as a whole.
type rowSource interface {
	next() (row, error)
}

// csvSource reads CSV rows and turns cells into field values: an empty cell
// is left out (on insert the field is not set, on update it is left
// unchanged) and #N/A sets the field to null.
//
// A columnar source yields each row's values by header column (row.vals,
// org.Unset{} for an empty cell) instead of a field map, for writes that
// take org.WriteRequest's columnar form.
type csvSource struct {
	r        *sfcsv.Reader
	header   []string
	spare    []map[string]any // field maps given back by recycle, to reuse
	columnar bool
	vals     []any // backing store of the row.vals handed out since the last recycle

	// The simple rows (no quote, valid UTF-8, a cell per header column) of
	// a Bulk 2.0 segment or a Bulk 1.0 batch are split here, without the
	// CSV reader: text is the rest of the input, textRows the rows split so
	// far. The first other row hands the rest to the reader takeOver
	// returns, which has read the header and the textRows rows, so it reads
	// (and reports) that row and the next ones exactly as it would have
	// read the whole input.
	text     string
	off      int // where text starts in the text the source was given
	from, to int // the last row split: its text without terminator, in the text given
	textRows int
	delim    byte
	takeOver func(skip int) (*sfcsv.Reader, error)
	cells    []string // backing store of the split row.raw handed out since the last recycle
}

// recycle gives back field maps and values that next returned and nothing
// refers to any more; next reuses them instead of allocating.
func (c *csvSource) recycle(maps []map[string]any) {
	for _, m := range maps {
		if m != nil {
			clear(m)
			c.spare = append(c.spare, m)
		}
	}
	clear(c.vals)
	c.vals = c.vals[:0]
	clear(c.cells)
	c.cells = c.cells[:0]
}

func newCSVSource(data io.Reader, delim sfcsv.Delimiter) (*csvSource, error) {
	br := bufio.NewReader(data)
	bom, _ := br.Peek(len(sfcsv.BOM))
	hasBOM := string(bom) == sfcsv.BOM
	r := sfcsv.NewReader(br, sfcsv.ReaderOptions{Delimiter: delim})
	h, err := r.Header()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("InvalidBatch : Records not found")
		}
		return nil, fmt.Errorf("InvalidBatch : Failed to parse header: %v", err)
	}
	if hasBOM && len(h) > 0 {
		// Salesforce does not strip a byte order mark: it becomes part of the
		// first column name, which then fails the column check
		// ("Field name not found : \ufeffName").
		h[0] = sfcsv.BOM + h[0]
	}
	return &csvSource{r: r, header: h}, nil
}

// newTextCSVSource is newCSVSource of CSV text: its simple rows are split
// without the CSV reader (see split), their cells substrings of text.
func newTextCSVSource(text string, delim sfcsv.Delimiter) (*csvSource, error) {
	c, err := newCSVSource(strings.NewReader(text), delim)
	if err != nil || !delim.Valid() || delim == 0 {
		return c, err
	}
	c.off = int(c.r.InputOffset())
	c.text, c.delim = text[c.off:], byte(delim)
	c.takeOver = func(skip int) (*sfcsv.Reader, error) {
		return readerAfter(strings.NewReader(text), delim, skip)
	}
	return c, nil
}

// readerAfter returns a CSV reader of text (a header, then rows) that has read the header and
// skipped the first skip rows: where the CSV reader takes over from the quote-free splitter.
func readerAfter(text io.Reader, delim sfcsv.Delimiter, skip int) (*sfcsv.Reader, error) {
	r := sfcsv.NewReader(text, sfcsv.ReaderOptions{Delimiter: delim})
	if _, err := r.Header(); err != nil {
		return nil, err
	}
	for range skip {
		if err := r.Skip(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (c *csvSource) next() (row, error) {
	if c.takeOver != nil {
		rec, ok := c.split()
		if ok {
			if rec == nil {
				return row{}, io.EOF
			}
			r := c.fromRecord(rec)
			r.plain, r.from, r.to = true, c.from, c.to
			return r, nil
		}
		r, err := c.takeOver(c.textRows)
		c.takeOver, c.text = nil, ""
		if err != nil {
			return row{}, fmt.Errorf("InvalidBatch : Failed to parse CSV: %v", err)
		}
		c.r = r
	}
	rec, err := c.r.Read()
	if err != nil {
		// Only the reader's own end of input: an error that merely wraps io.EOF
		// (a cut stream) must fail the batch, not end it early.
		if err == io.EOF {
			return row{}, io.EOF
		}
		var pe *sfcsv.ParseError
		if errors.Is(err, sfcsv.ErrRecordTooLarge) {
			// The reader stops here: the rest of the data cannot be split
			// into rows, so the batch fails as a whole.
			return row{}, fmt.Errorf("InvalidBatch : Failed to parse CSV: %v", err)
		}
		if errors.As(err, &pe) {
			// The result files echo the row under the job's header: keep them
			// rectangular (cells beyond the header dropped, missing ones empty).
			raw := make([]string, len(c.header))
			copy(raw, rec)
			return row{raw: raw, rowErr: &org.Error{StatusCode: "INVALID_FIELD", Message: "Invalid CSV row: " + pe.Err.Error()}}, nil
		}
		return row{}, err
	}
	return c.fromRecord(rec), nil
}

// split returns the next row of c.text when it is simple, cut into cells
// (nil at the end of the text); false when the row needs the CSV reader.
func (c *csvSource) split() ([]string, bool) {
	for len(c.text) > 0 {
		line := c.text
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		if line == "\n" || line == "\r\n" { // blank lines are not rows
			c.text = c.text[len(line):]
			c.off += len(line)
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		if len(body) < len(line) {
			body = strings.TrimSuffix(body, "\r")
		}
		if len(line) > sfcsv.DefaultMaxRecordBytes || strings.IndexByte(body, '"') >= 0 || !utf8.ValidString(body) {
			return nil, false
		}
		start := len(c.cells)
		c.from, c.to = c.off, c.off+len(body)
		for {
			j := strings.IndexByte(body, c.delim)
			if j < 0 {
				c.cells = append(c.cells, body)
				break
			}
			c.cells = append(c.cells, body[:j])
			body = body[j+1:]
		}
		if len(c.cells)-start != len(c.header) {
			clear(c.cells[start:])
			c.cells = c.cells[:start]
			return nil, false
		}
		c.text = c.text[len(line):]
		c.off += len(line)
		c.textRows++
		return c.cells[start:len(c.cells):len(c.cells)], true
	}
	return nil, true
}

// fromRecord turns the cells of a well-formed record into a row.
func (c *csvSource) fromRecord(rec []string) row {
	if c.columnar {
		return c.columns(rec)
	}
	var fields map[string]any
	if n := len(c.spare); n > 0 {
		fields, c.spare = c.spare[n-1], c.spare[:n-1]
	} else {
		fields = make(map[string]any, len(rec))
	}
	for i, v := range rec {
		if v == "" || i >= len(c.header) {
			continue
		}
		if v == sfcsv.NullValue {
			fields[c.header[i]] = nil
			continue
		}
		if e := checkFieldLength(c.header[i], v); e != nil {
			clear(fields)
			c.spare = append(c.spare, fields)
			return row{raw: rec, rowErr: e}
		}
		fields[c.header[i]] = v
	}
	return row{fields: fields, raw: rec, lengthsChecked: true}
}

// columns turns a record into a columnar row.
func (c *csvSource) columns(rec []string) row {
	start := len(c.vals)
	for i := range c.header {
		var v any = org.Unset{}
		if i < len(rec) {
			switch s := rec[i]; s {
			case "":
			case sfcsv.NullValue:
				v = nil
			default:
				if e := checkFieldLength(c.header[i], s); e != nil {
					clear(c.vals[start:])
					c.vals = c.vals[:start]
					return row{raw: rec, rowErr: e}
				}
				v = &rec[i] // not boxed: rec lives until the chunk is written
			}
		}
		c.vals = append(c.vals, v)
	}
	return row{vals: c.vals[start:len(c.vals):len(c.vals)], raw: rec, lengthsChecked: true}
}

// sliceSource yields pre-parsed JSON or XML records.
type sliceSource struct {
	rows []map[string]any
	i    int
}

func (s *sliceSource) next() (row, error) {
	if s.i >= len(s.rows) {
		return row{}, io.EOF
	}
	s.i++
	return row{fields: s.rows[s.i-1]}, nil
}

// parseJSONRecords parses a Bulk 1.0 JSON batch: an array of flat objects,
// with relationships as nested objects ({"Account":{"Ext__c":"A-1"}}).
func parseJSONRecords(data []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw []map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("InvalidBatch : Failed to parse JSON: %v", err)
	}
	// Anything after the array (a second array, stray text) is not silently
	// ignored: its records would otherwise be lost without an outcome.
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("InvalidBatch : Failed to parse JSON: unexpected content after the array of records")
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		m := make(map[string]any, len(r))
		for k, v := range r {
			if k == "attributes" {
				continue
			}
			if nested, ok := v.(map[string]any); ok {
				for nk, nv := range nested {
					if nk == "attributes" {
						continue
					}
					m[k+"."+nk] = nv
				}
				continue
			}
			m[k] = v
		}
		out[i] = m
	}
	return out, nil
}

// parseXMLRecords parses a Bulk 1.0 XML batch:
// <sObjects><sObject><Field>v</Field><Rel><sObject><Ext>v</Ext></sObject></Rel></sObject></sObjects>.
// xsi:nil="true" sets a field to null.
func parseXMLRecords(data []byte) ([]map[string]any, error) {
	type elem struct {
		name     string
		text     strings.Builder
		isNil    bool
		hasChild bool
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	var cur map[string]any
	var stack []*elem // field elements below the record's <sObject>
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("InvalidBatch : Failed to parse XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Local != "sObjects" {
					return nil, fmt.Errorf("InvalidBatch : Failed to parse XML: root element must be sObjects, found %s", t.Name.Local)
				}
			case depth == 2:
				cur = map[string]any{}
				stack = stack[:0]
			case t.Name.Local == "sObject":
				// The wrapper of a relationship's fields.
			default:
				if len(stack) > 0 {
					stack[len(stack)-1].hasChild = true
				}
				e := &elem{name: t.Name.Local}
				for _, a := range t.Attr {
					if a.Name.Local == "nil" && a.Value == "true" {
						e.isNil = true
					}
				}
				stack = append(stack, e)
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			switch {
			case depth == 2:
				out = append(out, cur)
			case depth > 2 && t.Name.Local != "sObject" && len(stack) > 0:
				e := stack[len(stack)-1]
				if !e.hasChild && e.name != "type" {
					names := make([]string, len(stack))
					for i, s := range stack {
						names[i] = s.name
					}
					key := strings.Join(names, ".")
					if e.isNil {
						cur[key] = nil
					} else {
						cur[key] = e.text.String()
					}
				}
				stack = stack[:len(stack)-1]
			}
			depth--
		}
	}
	if depth != 0 || out == nil && len(data) == 0 {
		return nil, errors.New("InvalidBatch : Failed to parse XML: unexpected end of input")
	}
	return out, nil
}

// nextRecordEnd returns the index just past the record that starts at
// data[start:] (its terminator included), honouring quoted line breaks.
func nextRecordEnd(data string, start int) int {
	// Most records are one line without quotes.
	if nl := strings.IndexByte(data[start:], '\n'); nl >= 0 && strings.IndexByte(data[start:start+nl], '"') < 0 {
		return start + nl + 1
	}
	inQuote := false
	for i := start; i < len(data); i++ {
		switch data[i] {
		case '"':
			inQuote = !inQuote
		case '\n':
			if !inQuote {
				return i + 1
			}
		}
	}
	return len(data)
}

// headerEnd returns the index just past the header record, skipping blank
// lines before it as the CSV reader does.
func headerEnd(data string) int {
	pos := 0
	for pos < len(data) {
		end := nextRecordEnd(data, pos)
		if !isBlankLine(data[pos:end]) {
			return end
		}
		pos = end
	}
	return pos
}

// countRecords counts the non-blank records in data after the header.
func countRecords(data string) int {
	n := 0
	pos := headerEnd(data)
	for pos < len(data) {
		end := nextRecordEnd(data, pos)
		if !isBlankLine(data[pos:end]) {
			n++
		}
		pos = end
	}
	return n
}

// isBlankLine reports whether a physical line is empty ("", "\n" or
// "\r\n"), which the CSV reader skips.
func isBlankLine(s string) bool {
	return s == "" || s == "\n" || s == "\r\n"
}
