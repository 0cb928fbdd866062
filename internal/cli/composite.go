package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/salesforce"
)

type compositeOptions struct {
	auth authOptions
	json bool
}

// compositeFile is either a composite batch or a composite request, in the
// JSON bodies Salesforce documents for /composite/batch and /composite.
type compositeFile struct {
	BatchRequests []struct {
		Method    string          `json:"method"`
		URL       string          `json:"url"`
		RichInput json.RawMessage `json:"richInput"`
	} `json:"batchRequests"`
	HaltOnError      bool                             `json:"haltOnError"`
	CompositeRequest []salesforce.CompositeSubrequest `json:"compositeRequest"`
	AllOrNone        bool                             `json:"allOrNone"`
	Collate          bool                             `json:"collateSubrequests"`
}

// subOutcome is one subrequest's result as printed.
type subOutcome struct {
	Index  int             `json:"index"`
	Ref    string          `json:"reference_id,omitempty"`
	Method string          `json:"method"`
	URL    string          `json:"url"`
	Status int             `json:"status"`
	OK     bool            `json:"success"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func newCompositeCmd(ios *IOStreams) *cobra.Command {
	o := &compositeOptions{}
	cmd := &cobra.Command{
		Use:   "composite FILE.json",
		Short: "Run a composite batch or composite request from a file",
		Long: `Run the subrequests in a JSON file and print each one's outcome.

A file with "batchRequests" (and optional "haltOnError") runs through
/composite/batch; more than 25 subrequests run as several calls in order, with
halt-on-error holding across them. A file with "compositeRequest" (and
optional "allOrNone", "collateSubrequests") runs through /composite, where
later subrequests may use @{referenceId.field} references.`,
		Example: `  # batch.json: {"haltOnError": true, "batchRequests": [
  #   {"method": "GET", "url": "v62.0/query?q=SELECT+Id+FROM+Account+LIMIT+1"},
  #   {"method": "POST", "url": "v62.0/sobjects/Contact", "richInput": {"LastName": "Doe"}}]}
  sfbatch composite batch.json

  # graph.json: {"allOrNone": true, "compositeRequest": [
  #   {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct", "body": {"Name": "Acme"}},
  #   {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "ct",
  #    "body": {"LastName": "Doe", "AccountId": "@{acct.id}"}}]}
  sfbatch composite graph.json --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return usageError{err}
			}
			var f compositeFile
			if err := json.Unmarshal(b, &f); err != nil {
				return usageError{fmt.Errorf("%s: %w", args[0], err)}
			}
			if (len(f.BatchRequests) == 0) == (len(f.CompositeRequest) == 0) {
				return usageError{fmt.Errorf("%s: want either \"batchRequests\" or \"compositeRequest\"", args[0])}
			}
			c, err := o.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			var outs []subOutcome
			if len(f.BatchRequests) > 0 {
				outs, err = runCompositeBatch(cmd, c, &f)
			} else {
				outs, err = runCompositeGraph(cmd, c, &f)
			}
			if err != nil {
				return err
			}
			if o.json {
				if err := writeJSON(ios, outs); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "#\tREF\tMETHOD\tURL\tSTATUS\tRESULT")
				for _, s := range outs {
					res := string(s.Body)
					if s.Error != "" {
						res = s.Error
					}
					if len(res) > 120 {
						res = res[:117] + "..."
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", s.Index+1, s.Ref, s.Method, s.URL, s.Status, res)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			failed := 0
			for _, s := range outs {
				if !s.OK {
					failed++
				}
			}
			if failed > 0 {
				return withExit(ExitRowsFailed, fmt.Errorf("%d of %d subrequests failed", failed, len(outs)))
			}
			return nil
		},
	}
	o.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print each subrequest's outcome as JSON")
	return cmd
}

func runCompositeBatch(cmd *cobra.Command, c *salesforce.Client, f *compositeFile) ([]subOutcome, error) {
	b := c.Composite.NewBatch(salesforce.BatchOptions{HaltOnError: f.HaltOnError})
	subs := make([]*salesforce.Subrequest, len(f.BatchRequests))
	for i, r := range f.BatchRequests {
		var body any
		if len(r.RichInput) > 0 {
			body = r.RichInput
		}
		subs[i] = b.Raw(r.Method, r.URL, body)
	}
	if err := b.Execute(cmd.Context()); err != nil {
		return nil, err
	}
	outs := make([]subOutcome, len(subs))
	for i, s := range subs {
		outs[i] = subOutcome{Index: i, Method: s.Method(), URL: s.URL(), Status: s.StatusCode(), OK: s.Success(), Body: s.Result()}
		if err := s.Err(); err != nil {
			outs[i].Error = err.Error()
			if errors.Is(err, salesforce.ErrNotExecuted) {
				outs[i].Error = "not executed"
			}
		}
	}
	return outs, nil
}

func runCompositeGraph(cmd *cobra.Command, c *salesforce.Client, f *compositeFile) ([]subOutcome, error) {
	res, err := c.Composite.Execute(cmd.Context(), salesforce.CompositeRequest{
		AllOrNone: f.AllOrNone, CollateSubrequests: f.Collate, Subrequests: f.CompositeRequest,
	})
	if err != nil {
		return nil, err
	}
	outs := make([]subOutcome, len(res.Subresponses))
	for i, s := range res.Subresponses {
		outs[i] = subOutcome{Index: i, Ref: s.ReferenceID, Status: s.HTTPStatusCode, OK: s.Success(), Body: s.Body}
		if i < len(f.CompositeRequest) {
			outs[i].Method, outs[i].URL = f.CompositeRequest[i].Method, f.CompositeRequest[i].URL
		}
		if err := s.Err(); err != nil {
			outs[i].Error = err.Error()
		}
	}
	return outs, nil
}
