// Command gosf loads a CSV file into Salesforce with go-salesforce's Bulk API 2.0 path, the
// way its README shows (InsertBulkFile with waitForResults, then GetJobResults per job, asked
// again until each job is done), and prints how many rows succeeded and failed; it fails when
// that does not account for every row. With -query SOQL -out FILE it exports instead, with
// go-salesforce's QueryBulkExport (a Bulk API 2.0 query job whose result pages it collects and
// writes to FILE as CSV). It reads its login from the SF_* variables the benchmark sets.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/k-capehart/go-salesforce/v3"
	"github.com/sfbatch/sfbatch/bench/peers/internal/csvlines"
)

func main() {
	object := flag.String("object", "Contact", "sObject")
	file := flag.String("file", "", "CSV file")
	batch := flag.Int("batch-size", 10000, "records per job (go-salesforce's default maximum)")
	query := flag.String("query", "", "export: SOQL query for QueryBulkExport")
	out := flag.String("out", "", "export: CSV file QueryBulkExport writes")
	flag.Parse()
	var err error
	if *query != "" {
		err = export(*query, *out)
	} else {
		err = run(*object, *file, *batch)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosf:", err)
		os.Exit(1)
	}
}

func login(opts ...salesforce.Option) (*salesforce.Salesforce, error) {
	sf, err := salesforce.Init(salesforce.Creds{
		Domain:         os.Getenv("SF_LOGIN_URL"),
		Username:       os.Getenv("SF_USERNAME"),
		Password:       os.Getenv("SF_PASSWORD"),
		SecurityToken:  os.Getenv("SF_SECURITY_TOKEN"),
		ConsumerKey:    os.Getenv("SF_CLIENT_ID"),
		ConsumerSecret: os.Getenv("SF_CLIENT_SECRET"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return sf, nil
}

// export writes the query's rows to the file out with QueryBulkExport, as go-salesforce's
// README shows.
func export(query, out string) error {
	sf, err := login()
	if err != nil {
		return err
	}
	if err := sf.QueryBulkExport(query, out); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func run(object, file string, batch int) error {
	sf, err := login(salesforce.WithBulkBatchSizeMax(batch))
	if err != nil {
		return err
	}
	jobs, err := sf.InsertBulkFile(object, file, batch, true)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	ok, failed := 0, 0
	for _, id := range jobs {
		// InsertBulkFile's waitForResults returns once the first of its jobs is done (v3.1.0
		// reads one value from its channel), and GetJobResults of a job still processing has
		// no records: poll each job until Salesforce is done with it.
		for {
			res, err := sf.GetJobResults(id)
			if err != nil {
				return fmt.Errorf("results of job %s: %w", id, err)
			}
			if res.State == "JobComplete" || res.State == "Failed" || res.State == "Aborted" {
				ok += len(res.SuccessfulRecords)
				failed += len(res.FailedRecords)
				break
			}
			time.Sleep(pollEvery)
		}
	}
	fmt.Printf("{\"succeeded\":%d,\"failed\":%d,\"jobs\":%d}\n", ok, failed, len(jobs))
	if want, err := csvlines.Data(file); err == nil && ok+failed != want {
		return fmt.Errorf("outcomes for %d of %d rows", ok+failed, want)
	}
	return nil
}

// pollEvery is how often a job still processing is asked again, as go-salesforce's own wait does.
const pollEvery = 500 * time.Millisecond
