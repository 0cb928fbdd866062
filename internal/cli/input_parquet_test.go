package cli

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestLoadParquetInput loads a Parquet file (format from the extension),
// including a relationship column and a null, through the load command.
func TestLoadParquetInput(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	ctx := t.Context()
	if _, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Acme", "External_Id__c": "A-1"}); err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	type contact struct {
		LastName string  `parquet:"LastName"`
		Email    *string `parquet:"Email,optional"`
		Employee bool    `parquet:"DoNotCall"`
		Account  string  `parquet:"Account.External_Id__c"`
	}
	email := "ada@example.com"
	dir := t.TempDir()
	input := filepath.Join(dir, "contacts.parquet")
	f, err := os.Create(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := parquet.Write(f, []contact{
		{LastName: "Lovelace", Email: &email, Employee: true, Account: "A-1"},
		{LastName: "Turing", Account: "A-1"},
		{LastName: "Hopper", Account: "NO-SUCH-ACCOUNT"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "auto", ColumnDelimiter: "COMMA", LineEnding: "LF",
		input: input, OutputDir: filepath.Join(dir, "out"), Quiet: true}
	cmd := newLoadCmds(ios)[0]
	cmd.SetContext(ctx)
	res, err := runLoad(cmd, ios, c, o)
	if err == nil || res == nil {
		t.Fatalf("runLoad = %v, %v; want a rows-failed error", res, err)
	}
	if s := res.Summary; s.Rows != 3 || s.Succeeded != 2 || s.Failed != 1 || s.ErrorCodes["INVALID_FIELD"] != 1 {
		t.Fatalf("summary %+v", s)
	}
	if got := srv.Count("Contact"); got != 2 {
		t.Errorf("org has %d contacts, want 2", got)
	}
	b, err := os.ReadFile(res.Files["results"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "NO-SUCH-ACCOUNT") || !strings.Contains(string(b), "Lovelace") {
		t.Errorf("results.csv lacks the input rows:\n%s", b)
	}
}

// TestLoadParquetStdinInvalidRows: Parquet on standard input follows the input rule: a value
// that cannot be converted (NaN) or is not UTF-8 fails its row alone as SFBATCH_INVALID_ROW,
// the other rows load, and the exit code is 3.
func TestLoadParquetStdinInvalidRows(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	type account struct {
		Name      string  `parquet:"Name"`
		Employees float64 `parquet:"NumberOfEmployees"`
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []account{{"Acme", 10}, {"Broken", math.NaN()}, {"Bad\xff", 3}, {"Globex", 20}}); err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	ios := &IOStreams{In: bytes.NewReader(buf.Bytes()), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	cmd := newLoadCmds(ios)[0]
	cmd.SetContext(t.Context())
	o := &loadOptions{Operation: load.Insert, Object: "Account", API: "bulk2", Format: "parquet", ColumnDelimiter: "COMMA", LineEnding: "LF",
		input: "-", OutputDir: dir, Quiet: true}
	res, err := runLoad(cmd, ios, c, o)
	if code := exitCodeOf(err); code != ExitRowsFailed {
		t.Fatalf("exit %d: %v", code, err)
	}
	if s := res.Summary; s.Rows != 4 || s.Succeeded != 2 || s.Failed != 2 || s.ErrorCodes[load.StatusInvalidRow] != 2 {
		t.Errorf("summary %+v", s)
	}
	b, err := os.ReadFile(res.Files["failure"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stdin: row 2, column NumberOfEmployees: value", "stdin: row 3, column Name: invalid UTF-8"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("failure.csv lacks %q:\n%s", want, b)
		}
	}
	if got := srv.Count("Account"); got != 2 {
		t.Errorf("%d accounts in the org, want 2", got)
	}
}
