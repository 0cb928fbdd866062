package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

type limitsOptions struct {
	auth authOptions
	json bool
}

func newLimitsCmd(ios *IOStreams) *cobra.Command {
	opts := &limitsOptions{}
	cmd := &cobra.Command{
		Use:   "limits",
		Short: "Show the org's API limits (daily API requests, Bulk API batches, ...)",
		Example: `  sfbatch limits
  sfbatch limits --json | jq .DailyBulkApiBatches`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opts.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			limits, err := c.Limits(cmd.Context())
			if err != nil {
				return err
			}
			if opts.json {
				return writeJSON(ios, limits)
			}
			names := make([]string, 0, len(limits))
			for n := range limits {
				names = append(names, n)
			}
			sort.Strings(names)
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "NAME\tUSED\tREMAINING\tMAX\t")
			for _, n := range names {
				l := limits[n]
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", n, l.Used(), l.Remaining, l.Max)
			}
			return tw.Flush()
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	return cmd
}

type describeOptions struct {
	auth authOptions
	json bool
}

func newDescribeCmd(ios *IOStreams) *cobra.Command {
	opts := &describeOptions{}
	cmd := &cobra.Command{
		Use:   "describe [OBJECT]",
		Short: "Describe an object's fields, or list the org's objects",
		Example: `  sfbatch describe            # every object
  sfbatch describe Contact    # fields: type, length, required, createable, external id
  sfbatch describe Contact --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opts.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) == 0 {
				g, err := c.DescribeGlobal(cmd.Context())
				if err != nil {
					return err
				}
				if opts.json {
					return writeJSON(ios, g)
				}
				tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tLABEL\tPREFIX\tCUSTOM")
				for _, o := range g.SObjects {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", o.Name, o.Label, o.KeyPrefix, o.Custom)
				}
				return tw.Flush()
			}
			d, err := c.Describe(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if opts.json {
				return writeJSON(ios, d)
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FIELD\tTYPE\tLENGTH\tREQUIRED\tCREATE\tUPDATE\tEXTERNAL ID\tREFERENCE")
			for _, f := range d.Fields {
				required := !f.Nillable && f.Createable && !f.DefaultedOnCreate && f.Type != "boolean"
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Type, f.Length,
					yes(required), yes(f.Createable), yes(f.Updateable), yes(f.ExternalID),
					strings.Join(f.ReferenceTo, ","))
			}
			return tw.Flush()
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the full describe as JSON")
	return cmd
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

type queryOptions struct {
	auth    authOptions
	all     bool
	json    bool
	maxRows int
	// The sf CLI's flags (sf data query).
	query        string // --query/-q
	queryFile    string // --query-file, --file/-f
	resultFormat string // --result-format/-r: human, csv or json
	outputFile   string // --output-file
}

// soql returns the query from the argument, --query or --query-file.
func (o *queryOptions) soql(args []string) (string, error) {
	n := 0
	q := ""
	if len(args) == 1 {
		n, q = n+1, args[0]
	}
	if o.query != "" {
		n, q = n+1, o.query
	}
	if o.queryFile != "" {
		b, err := os.ReadFile(o.queryFile)
		if err != nil {
			return "", usageError{fmt.Errorf("--query-file: %w", err)}
		}
		n, q = n+1, strings.TrimSpace(string(b))
	}
	switch {
	case n > 1:
		return "", usageError{errors.New("give the query once: as the SOQL argument, --query or --query-file")}
	case strings.TrimSpace(q) == "":
		return "", usageError{errors.New("no query: give it as the SOQL argument, --query/-q or --query-file/-f")}
	}
	return q, nil
}

// format returns how to print rows: table, csv or json.
func (o *queryOptions) format() (string, error) {
	switch f := strings.ToLower(o.resultFormat); f {
	case "", "human":
		if o.json {
			return "json", nil
		}
		if o.outputFile != "" {
			return "", usageError{errors.New("--output-file needs --result-format csv or json")}
		}
		return "table", nil
	case "csv", "json":
		if o.json && f == "csv" {
			return "", usageError{errors.New("--json and --result-format csv disagree")}
		}
		return f, nil
	default:
		return "", usageError{fmt.Errorf("--result-format: %q is not human, csv or json", o.resultFormat)}
	}
}

func newQueryCmd(ios *IOStreams) *cobra.Command {
	opts := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query SOQL|--query SOQL|--query-file FILE",
		Short: "Run a small SOQL query through REST and print a table or JSON",
		Long: `Run a SOQL query through the REST API, following every result page, and print
the rows as a table (parent fields flattened to Account.Name columns) or as JSON.
For large extracts use sfbatch export, which streams through the Bulk APIs.`,
		Example: `  sfbatch query "SELECT Id, Name, Account.Name FROM Contact LIMIT 10"
  sfbatch query --all-rows "SELECT Id FROM Contact WHERE IsDeleted = true" --json
  # The sf CLI's flags work too
  sfbatch query -q "SELECT Id, Name FROM Account" --result-format csv --output-file accounts.csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			query, err := opts.soql(args)
			if err != nil {
				return err
			}
			format, err := opts.format()
			if err != nil {
				return err
			}
			c, err := opts.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			if q, err := soql.Parse(query); err == nil && q.IsCount() {
				return runCountQuery(cmd.Context(), ios, c, query, opts)
			}
			seq := c.Query(cmd.Context(), query)
			if opts.all {
				seq = c.QueryAll(cmd.Context(), query)
			}
			var rows []salesforce.Record
			for rec, err := range seq {
				if err != nil {
					return err
				}
				rows = append(rows, rec)
				if opts.maxRows > 0 && len(rows) >= opts.maxRows {
					break
				}
			}
			return writeQueryRows(ios, rows, format, opts.outputFile)
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&opts.all, "all-rows", false, "include deleted and archived records (queryAll)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	cmd.Flags().IntVar(&opts.maxRows, "max-rows", 10000, "stop after this many rows (0 = no limit)")
	cmd.Flags().StringVarP(&opts.query, "query", "q", "", "SOQL query, instead of the SOQL argument")
	cmd.Flags().StringVar(&opts.queryFile, "query-file", "", "file holding the SOQL query")
	cmd.Flags().StringVarP(&opts.queryFile, "file", "f", "", "same as --query-file (the sf CLI's name)")
	cmd.Flags().StringVarP(&opts.resultFormat, "result-format", "r", "", "human (a table, the default), csv or json")
	cmd.Flags().StringVar(&opts.outputFile, "output-file", "", "write the rows to this file (with --result-format csv or json)")
	return cmd
}

// runCountQuery prints the totalSize of a SELECT COUNT() query, which
// returns no records.
func runCountQuery(ctx context.Context, ios *IOStreams, c *salesforce.Client, query string, opts *queryOptions) error {
	resource := "query"
	if opts.all {
		resource = "queryAll"
	}
	var res salesforce.QueryResult
	if err := c.Call(ctx, http.MethodGet, resource+"?q="+url.QueryEscape(query), nil, &res); err != nil {
		return err
	}
	if opts.json {
		return writeJSON(ios, map[string]int{"totalSize": res.TotalSize})
	}
	fmt.Fprintln(ios.Out, res.TotalSize)
	return nil
}

// writeRecordTable prints records as a table whose columns are the union of
// their (flattened) fields in first-seen order.
func writeRecordTable(ios *IOStreams, rows []salesforce.Record) error {
	cols, flat := flattenRecords(rows)
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, m := range flat {
		vals := make([]string, len(cols))
		for j, c := range cols {
			vals[j] = m[c]
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(ios.ErrOut, "%d rows\n", len(rows))
	return nil
}

// flattenRecords flattens records to Account.Name-style columns, the union
// of their fields in first-seen order.
func flattenRecords(rows []salesforce.Record) ([]string, []map[string]string) {
	var cols []string
	seen := map[string]bool{}
	flat := make([]map[string]string, len(rows))
	for i, r := range rows {
		m := map[string]string{}
		flattenRecord("", r, m, func(col string) {
			if !seen[col] {
				seen[col] = true
				cols = append(cols, col)
			}
		})
		flat[i] = m
	}
	return cols, flat
}

func flattenRecord(prefix string, r salesforce.Record, out map[string]string, addCol func(string)) {
	for _, f := range r.Fields() {
		v, _ := r.Get(f)
		name := prefix + f
		switch x := v.(type) {
		case salesforce.Record:
			flattenRecord(name+".", x, out, addCol)
		case nil:
			addCol(name)
		default:
			addCol(name)
			out[name] = fmt.Sprint(x)
		}
	}
}

// writeJSON prints v as indented JSON; under --json (see jsonOutput) it
// becomes the result of the one object Run prints instead.
func writeJSON(ios *IOStreams, v any) error {
	if ios.json != nil {
		ios.json.add(v)
		return nil
	}
	enc := json.NewEncoder(ios.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
