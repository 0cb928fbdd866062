package plan

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of a plan file, for editors that validate
// YAML and JSON (schema.json in this package's folder).
//
//go:embed schema.json
var Schema []byte
