// Command gosf loads a CSV file into Salesforce with go-salesforce's Bulk API 2.0 path, the
// way its README shows (InsertBulkFile with waitForResults, then GetJobResults per job), and
// prints how many rows succeeded and failed. It reads its login from the SF_* variables the
// benchmark sets.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/k-capehart/go-salesforce/v3"
)

func main() {
	object := flag.String("object", "Contact", "sObject")
	file := flag.String("file", "", "CSV file")
	batch := flag.Int("batch-size", 10000, "records per job (go-salesforce's default maximum)")
	flag.Parse()
	if err := run(*object, *file, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "gosf:", err)
		os.Exit(1)
	}
}

func run(object, file string, batch int) error {
	sf, err := salesforce.Init(salesforce.Creds{
		Domain:         os.Getenv("SF_LOGIN_URL"),
		Username:       os.Getenv("SF_USERNAME"),
		Password:       os.Getenv("SF_PASSWORD"),
		SecurityToken:  os.Getenv("SF_SECURITY_TOKEN"),
		ConsumerKey:    os.Getenv("SF_CLIENT_ID"),
		ConsumerSecret: os.Getenv("SF_CLIENT_SECRET"),
	}, salesforce.WithBulkBatchSizeMax(batch))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	jobs, err := sf.InsertBulkFile(object, file, batch, true)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	ok, failed := 0, 0
	for _, id := range jobs {
		res, err := sf.GetJobResults(id)
		if err != nil {
			return fmt.Errorf("results of job %s: %w", id, err)
		}
		ok += len(res.SuccessfulRecords)
		failed += len(res.FailedRecords)
	}
	fmt.Printf("{\"succeeded\":%d,\"failed\":%d,\"jobs\":%d}\n", ok, failed, len(jobs))
	return nil
}
