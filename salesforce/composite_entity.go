package salesforce

import (
	"encoding/json"
	"html"
	"strings"
)

// entityDecodeJSON undoes the HTML entity encoding Salesforce applies to every string in a
// composite batch result (/composite/batch is served by the Connect API's batch framework,
// whose responses encode &, <, >, ", ' and \ as entities). It rewrites only the JSON string
// tokens of raw, keeping key order, numbers and everything else as they are. raw must be
// valid JSON; if a string in it does not decode, raw is returned unchanged.
func entityDecodeJSON(raw json.RawMessage) json.RawMessage {
	if !strings.ContainsRune(string(raw), '&') && !strings.Contains(string(raw), `\u0026`) {
		return raw
	}
	out := make([]byte, 0, len(raw))
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
		tok := raw[i : end+1]
		var s string
		if err := json.Unmarshal(tok, &s); err != nil {
			return raw
		}
		if strings.ContainsRune(s, '&') {
			b, err := json.Marshal(html.UnescapeString(s))
			if err != nil {
				return raw
			}
			tok = b
		}
		out = append(out, tok...)
		i = end + 1
	}
	return out
}
