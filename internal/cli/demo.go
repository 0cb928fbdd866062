package cli

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

type demoOptions struct {
	Accounts  int
	Contacts  int
	Profile   string
	OutputDir string
	API       string
	Seed      uint64
	JSON      bool
}

// The deliberately bad contact rows the demo generates, by the error
// Salesforce answers them with.
var demoBadRows = []struct {
	code string
	make func(row []string) // mutates a good row
}{
	{"REQUIRED_FIELD_MISSING", func(r []string) { r[demoColLastName] = "" }},
	{"INVALID_EMAIL_ADDRESS", func(r []string) { r[demoColEmail] = "not-an-email" }},
	{"INVALID_FIELD", func(r []string) { r[demoColAccount] = "ACC-DOES-NOT-EXIST" }}, // Foreign key external ID ... not found
	{"STRING_TOO_LONG", func(r []string) { r[demoColLastName] = strings.Repeat("x", 81) }},
	{"INVALID_TYPE_ON_FIELD_IN_RECORD", func(r []string) { r[demoColBirthdate] = "31/12/1990" }},
}

// Columns of the demo's contacts file.
const (
	demoColExtID = iota
	demoColFirstName
	demoColLastName
	demoColEmail
	demoColPhone
	demoColBirthdate
	demoColDoNotCall
	demoColTitle
	demoColDescription
	demoColAccount
	demoContactCols
)

var demoContactHeader = []string{"External_Id__c", "FirstName", "LastName", "Email", "Phone", "Birthdate", "DoNotCall", "Title", "Description", "Account.External_Id__c"}

func newDemoCmd(ios *IOStreams) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Load and export a realistic data set against the embedded emulator",
		Long: `Start the embedded Salesforce emulator, generate Accounts and Contacts linked by
an external id (with a few deliberately bad rows), upsert the Accounts and then
the Contacts through the Account.External_Id__c relationship column, export the
Contacts back, and print the summary and the result files. Needs no org and no
network.`,
		Example: `  sfbatch demo
  sfbatch demo --accounts 50000 --contacts 1000000
  sfbatch demo --profile realistic --contacts 20000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd, ios, o) },
	}
	f := cmd.Flags()
	f.IntVar(&o.Accounts, "accounts", 5000, "Accounts to generate")
	f.IntVar(&o.Contacts, "contacts", 100000, "Contacts to generate")
	f.StringVar(&o.Profile, "profile", "instant", "emulator Bulk API timing: instant or realistic")
	f.StringVarP(&o.OutputDir, "output-dir", "o", "", "where data and result files go (default sfbatch-demo-TIME)")
	f.StringVar(&o.API, "api", "auto", "API for the loads: auto, bulk2, bulk1 or collections")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the generated data")
	f.BoolVar(&o.JSON, "json", false, "print a machine-readable summary")
	return cmd
}

func runDemo(cmd *cobra.Command, ios *IOStreams, o *demoOptions) error {
	ctx := cmd.Context()
	if o.Accounts < 1 || o.Contacts < len(demoBadRows) {
		return usageError{fmt.Errorf("--accounts must be at least 1 and --contacts at least %d", len(demoBadRows))}
	}
	started := time.Now()
	srv, err := startEmulator(&emulatorOptions{Addr: "127.0.0.1:0", Profile: o.Profile, Seed: int64(o.Seed)})
	if err != nil {
		return err
	}
	defer srv.Close()
	dir := o.OutputDir
	if dir == "" {
		dir = "sfbatch-demo-" + time.Now().Format("20060102-150405")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	say := func(format string, args ...any) {
		if !o.JSON {
			fmt.Fprintf(ios.Out, format+"\n", args...)
		}
	}
	say("Emulated org listening at %s (HTTPS, self-signed)", srv.URL())

	accountsPath := filepath.Join(dir, "accounts.csv")
	contactsPath := filepath.Join(dir, "contacts.csv")
	bad, err := writeDemoData(accountsPath, contactsPath, o)
	if err != nil {
		return err
	}
	say("Generated %d Accounts and %d Contacts (%d deliberately bad) in %s", o.Accounts, o.Contacts, len(bad), dir)

	info, err := srv.StartupInfo("")
	if err != nil {
		return err
	}
	c, err := salesforce.Login(ctx, salesforce.LoginConfig{
		LoginURL: info.LoginURL, Username: info.Username, Password: info.Password,
		SecurityToken: info.SecurityToken, HTTPClient: srv.Client(),
	})
	if err != nil {
		return fmt.Errorf("logging in to the emulator: %w", err)
	}
	say("Logged in as %s (SOAP login: username, password and security token)\n", info.Username)

	loads := []*loadOptions{
		{Operation: load.Upsert, Object: "Account", ExternalID: "External_Id__c", input: accountsPath,
			OutputDir: filepath.Join(dir, "results-accounts"), API: o.API, ColumnDelimiter: "COMMA", LineEnding: "LF", JSON: o.JSON, embedded: true},
		{Operation: load.Upsert, Object: "Contact", ExternalID: "External_Id__c", input: contactsPath,
			OutputDir: filepath.Join(dir, "results-contacts"), API: o.API, ColumnDelimiter: "COMMA", LineEnding: "LF", JSON: o.JSON,
			GroupBy: "Account.External_Id__c", embedded: true},
	}
	var outcomes []*loadOutcome
	for _, lo := range loads {
		out, err := runLoad(cmd, ios, c, lo)
		var ee *exitError
		if err != nil && !(errors.As(err, &ee) && ee.code == ExitRowsFailed) {
			return err
		}
		outcomes = append(outcomes, out)
	}

	exportPath := filepath.Join(dir, "contacts-export.csv")
	sum, err := runExport(ctx, ios, c, &exportOptions{
		Query:           "SELECT Id, External_Id__c, FirstName, LastName, Email, Account.Name, Account.External_Id__c FROM Contact",
		Output:          exportPath,
		RunDir:          filepath.Join(dir, "results-export"),
		API:             "bulk2",
		ColumnDelimiter: "COMMA",
		LineEnding:      "LF",
		Quiet:           true,
	})
	if err != nil {
		return fmt.Errorf("exporting: %w", err)
	}

	// Check the run: every good row loaded, every bad row failed with the
	// error it was built to provoke.
	contacts := outcomes[1].Summary
	wantOK := int64(o.Contacts - len(bad))
	var problems []string
	if outcomes[0].Summary.Succeeded != int64(o.Accounts) {
		problems = append(problems, fmt.Sprintf("%d of %d Accounts succeeded", outcomes[0].Summary.Succeeded, o.Accounts))
	}
	if contacts.Succeeded != wantOK {
		problems = append(problems, fmt.Sprintf("%d Contacts succeeded, want %d", contacts.Succeeded, wantOK))
	}
	for code, n := range bad {
		if got := contacts.ErrorCodes[code]; got != n {
			problems = append(problems, fmt.Sprintf("%d Contacts failed with %s, want %d", got, code, n))
		}
	}
	if sum.Rows != wantOK {
		problems = append(problems, fmt.Sprintf("exported %d Contacts, want %d", sum.Rows, wantOK))
	}
	if o.JSON {
		doc := map[string]any{
			"instance_url": srv.URL(), "dir": dir,
			"accounts": summaryJSON(loads[0], outcomes[0], nil),
			"contacts": summaryJSON(loads[1], outcomes[1], nil),
			"export":   map[string]any{"rows": sum.Rows, "api": sum.API, "file": exportPath},
			"seconds":  time.Since(started).Seconds(),
			"problems": problems,
		}
		if err := writeJSON(ios, doc); err != nil {
			return err
		}
	} else {
		say("\nExported %d Contacts with their Account via %s to %s", sum.Rows, sum.API, exportPath)
		say("Demo finished in %s. The failed rows and why: %s", time.Since(started).Round(time.Millisecond), outcomes[1].Files["failure"])
	}
	if len(problems) > 0 {
		return fmt.Errorf("the demo did not come out as expected: %s", strings.Join(problems, "; "))
	}
	return nil
}

// writeDemoData writes the Accounts and Contacts files and returns how many
// bad contact rows of each error code it planted.
func writeDemoData(accountsPath, contactsPath string, o *demoOptions) (map[string]int64, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5fba7c4))
	industries := []string{"Agriculture", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Finance", "Healthcare", "Insurance", "Manufacturing", "Media", "Retail", "Technology", "Transportation", "Utilities"}
	cities := []string{"Lisbon", "Austin", "Osaka", "Nairobi", "Toronto", "Lyon", "Pune", "Bergen", "Perth", "Quito"}
	first := []string{"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tim", "Shafi", "Leslie", "Sophie", "John", "Hedy", "Dennis", "Karen", "Guido"}
	last := []string{"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "Perlman", "Berners-Lee", "Goldwasser", "Lamport", "Wilson", "McCarthy", "Lamarr", "Ritchie", "Jones", "van Rossum"}
	titles := []string{"Engineer", "Director", "VP Sales", "Analyst", "CTO", "Buyer", "Manager", ""}

	write := func(path string, header []string, rows func(w *sfcsv.Writer) error) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		w := sfcsv.NewWriter(bw, sfcsv.WriterOptions{})
		if _, err := w.Write(header); err != nil {
			f.Close()
			return err
		}
		if err := rows(w); err != nil {
			f.Close()
			return err
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	err := write(accountsPath, []string{"External_Id__c", "Name", "Industry", "BillingCity", "NumberOfEmployees", "AnnualRevenue", "Website"}, func(w *sfcsv.Writer) error {
		for i := 1; i <= o.Accounts; i++ {
			name := fmt.Sprintf("%s %s %d", last[rng.IntN(len(last))], []string{"Labs", "Systems", "Holdings", "Partners", "Works"}[rng.IntN(5)], i)
			row := []string{fmt.Sprintf("ACC-%06d", i), name, industries[rng.IntN(len(industries))], cities[rng.IntN(len(cities))],
				fmt.Sprint(10 + rng.IntN(50000)), fmt.Sprintf("%d.%02d", rng.IntN(90_000_000), rng.IntN(100)), fmt.Sprintf("https://acct%d.example.com", i)}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	bad := map[string]int64{}
	// Spread the bad rows through the file.
	badAt := map[int]int{}
	for k := range demoBadRows {
		badAt[(k+1)*o.Contacts/(len(demoBadRows)+1)] = k
	}
	err = write(contactsPath, demoContactHeader, func(w *sfcsv.Writer) error {
		row := make([]string, demoContactCols)
		for i := 1; i <= o.Contacts; i++ {
			fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
			row[demoColExtID] = fmt.Sprintf("CON-%08d", i)
			row[demoColFirstName] = fn
			row[demoColLastName] = ln
			row[demoColEmail] = fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(fn), strings.ToLower(strings.ReplaceAll(ln, " ", "")), i)
			row[demoColPhone] = fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000))
			row[demoColBirthdate] = time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			row[demoColDoNotCall] = fmt.Sprint(rng.IntN(10) == 0)
			row[demoColTitle] = titles[rng.IntN(len(titles))]
			row[demoColDescription] = ""
			if rng.IntN(20) == 0 {
				row[demoColDescription] = "Met at the \"Data, at scale\" summit;\nasked for a follow-up, call after 3pm"
			}
			row[demoColAccount] = fmt.Sprintf("ACC-%06d", 1+rng.IntN(o.Accounts))
			if k, ok := badAt[i]; ok {
				demoBadRows[k].make(row)
				bad[demoBadRows[k].code]++
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	return bad, err
}
