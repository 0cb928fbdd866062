package rest

import (
	"encoding/json"
	"strings"
)

// Composite Batch (/composite/batch) is served by the same batch framework as
// the Connect REST API (its richInput, binaryPartName and <batch> root come
// from there), and its responses carry that API's response body encoding:
// every string is HTML-entity encoded (Connect REST API Developer Guide,
// "Response Body Encoding"). Clients written against real orgs undo it
// (aiosalesforce HTML-unescapes every Composite Batch response); the other
// REST resources, /composite included, send strings as they are.

// entityEncoder replaces the six characters Connect encodes in response
// strings, with the entities it uses.
var entityEncoder = strings.NewReplacer(
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	`"`, "&quot;",
	"'", "&#39;",
	`\`, "&#92;",
)

// entityEncodeJSON returns raw with every JSON string (values and keys)
// entity encoded, keeping everything else (order, numbers, spacing) as it is.
// raw must be valid JSON; if a string in it does not decode, raw is returned
// unchanged.
func entityEncodeJSON(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+len(raw)/8)
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			if raw[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(raw) {
			return raw
		}
		var s string
		if err := json.Unmarshal(raw[i:end+1], &s); err != nil {
			return raw
		}
		out = appendString(out, entityEncoder.Replace(s))
		i = end + 1
	}
	return out
}
