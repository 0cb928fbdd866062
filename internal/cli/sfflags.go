package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/salesforce"
)

// The Salesforce CLI's habits in sfbatch: sf's flag names are accepted where
// sfbatch means the same thing (--file, --output-file, --result-format,
// --hard-delete, --query-file, -q for --query, --target-org), and an
// unknown flag that sf would know gets a hint naming sfbatch's equivalent.

// sfFlagHints maps flags of the sf CLI (and of the older sfdx commands) that
// sfbatch does not take to what to use instead.
var sfFlagHints = map[string]string{
	"target-dev-hub":   "sfbatch works with one org: --target-org",
	"targetusername":   "--target-org (sfdx's -u/--targetusername)",
	"u":                "--target-org (sfdx's -u/--targetusername)",
	"o":                "--target-org (sf's -o; sfbatch has no short form for it)",
	"csvfile":          "the FILE argument or --file",
	"sobjecttype":      "--sobject/-s",
	"externalid":       "--external-id/-i",
	"soqlquery":        "--query/-q",
	"resultformat":     "--result-format (sfbatch export: --format csv|jsonl|parquet)",
	"bulk":             "sfbatch export, which picks the Bulk API itself (--api bulk2|bulk1)",
	"use-tooling-api":  "nothing: sfbatch does not reach the Tooling API",
	"values":           "a CSV file with sfbatch insert or update (one row per record)",
	"record-id":        "a CSV file with an Id column (sfbatch update or delete)",
	"where":            "sfbatch export --sobject OBJECT --where COND",
	"plan":             "sfbatch upsert per object, parents first (relationship columns such as Account.External_Id__c link children)",
	"files":            "the FILE argument or --file",
	"output-dir":       "sfbatch export --output FILE (sfbatch load commands: --output-dir)",
	"verbose":          "--json for machine-readable details",
	"loglevel":         "nothing: sfbatch prints errors on standard error",
	"flags-dir":        "a saved profile (sfbatch login) or --target-org",
	"line-ending-type": "--line-ending LF|CRLF",
}

// sfFlagHint appends to an "unknown flag" error the sfbatch equivalent of
// an sf CLI flag, if there is one.
func sfFlagHint(c *cobra.Command, err error) error {
	msg := err.Error()
	var name string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// unknown shorthand flag: 'u' in -u
		if i := strings.IndexByte(msg, '\''); i >= 0 && i+2 < len(msg) {
			name = msg[i+1 : i+2]
		}
	}
	name, _, _ = strings.Cut(name, "=")
	hint := sfFlagHints[name]
	if hint == "" {
		if f := c.Flags().Lookup(strings.ReplaceAll(name, "_", "-")); f != nil {
			hint = "--" + f.Name
		}
	}
	if hint != "" {
		return usageError{fmt.Errorf("%w (an sf CLI flag: %s takes %s)", err, c.CommandPath(), hint)}
	}
	return usageError{err}
}

// writeQueryRows prints query results as a table, CSV or JSON, to standard
// output or to file.
func writeQueryRows(ios *IOStreams, rows []salesforce.Record, format, file string) error {
	if format == "table" {
		return writeRecordTable(ios, rows)
	}
	if format == "json" && file == "" {
		// Under --json the rows are the result of the command's one JSON object.
		return writeJSON(ios, rows)
	}
	var w io.Writer = ios.Out
	var f *os.File
	if file != "" {
		var err error
		if f, err = os.Create(file); err != nil {
			return usageError{fmt.Errorf("--output-file: %w", err)}
		}
		defer f.Close()
		w = f
	}
	var err error
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rows)
	case "csv":
		cols, flat := flattenRecords(rows)
		cw := csv.NewWriter(w)
		_ = cw.Write(cols)
		for _, m := range flat {
			vals := make([]string, len(cols))
			for j, c := range cols {
				vals[j] = m[c]
			}
			_ = cw.Write(vals)
		}
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(ios.ErrOut, "%d rows written to %s\n", len(rows), file)
	}
	return nil
}
