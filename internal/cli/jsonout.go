package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
)

// jsonOutput is the machine output of one invocation run with --json: one
// object on standard output in the sf CLI's shape, whatever the command and
// however it ends:
//
//	{"status": 0, "result": {...}, "warnings": [...]}
//	{"status": CODE, "name": "...", "message": "...", "data": {...}, "warnings": [...]}
//
// Commands hand their result to writeJSON; Run prints the object when the
// command returns. Text a command prints goes to standard error.
type jsonOutput struct {
	stdout   io.Writer
	results  []any
	warnings []string
	printed  bool
}

// newJSONOutput returns the invocation's JSON output when args ask for it
// (--json before any "--"), else nil. The arguments are read before cobra
// parses them so that a command line cobra refuses is answered in JSON too.
func newJSONOutput(ios *IOStreams, args []string) *jsonOutput {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" {
			return &jsonOutput{stdout: ios.Out}
		}
	}
	return nil
}

// add records one result of the command.
func (j *jsonOutput) add(v any) { j.results = append(j.results, v) }

// warn records a warning for the object's "warnings".
func (j *jsonOutput) warn(msg string) { j.warnings = append(j.warnings, msg) }

func (j *jsonOutput) result() any {
	switch len(j.results) {
	case 0:
		return map[string]any{}
	case 1:
		return j.results[0]
	}
	return j.results
}

// printNow prints the success object at once, on one line, for a command that
// keeps running after it has its result (sfbatch emulator).
func (j *jsonOutput) printNow(v any) error {
	j.printed = true
	b, err := json.Marshal(successDoc{ExitOK, v, j.warningList()})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(j.stdout, string(b))
	return err
}

func (j *jsonOutput) warningList() []string {
	if j.warnings == nil {
		return []string{}
	}
	return j.warnings
}

// successDoc is the object of a command that succeeded.
type successDoc struct {
	Status   int      `json:"status"`
	Result   any      `json:"result"`
	Warnings []string `json:"warnings"`
}

// finish prints the object for an invocation that ended with code and err.
func (j *jsonOutput) finish(code int, err error) {
	if j.printed {
		return
	}
	var doc any
	if err == nil {
		doc = successDoc{code, j.result(), j.warningList()}
	} else {
		data := j.result()
		if len(j.results) == 0 {
			d := map[string]any{}
			var ae *salesforce.APIError
			if errors.As(err, &ae) && ae.ErrorCode != "" {
				d["errorCode"] = ae.ErrorCode
			}
			data = d
		}
		doc = struct {
			Status   int      `json:"status"`
			Name     string   `json:"name"`
			Message  string   `json:"message"`
			Data     any      `json:"data"`
			Warnings []string `json:"warnings"`
		}{code, exitName(code), strings.TrimPrefix(err.Error(), "sfbatch: "), data, j.warningList()}
	}
	enc := json.NewEncoder(j.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}

// warningWriter records each line written to it as a warning.
type warningWriter struct{ j *jsonOutput }

func (w warningWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line = strings.TrimSpace(strings.TrimPrefix(line, "sfbatch:")); line != "" {
			w.j.warn(line)
		}
	}
	return len(p), nil
}
