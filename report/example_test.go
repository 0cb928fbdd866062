package report_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sfbatch/sfbatch/report"
)

// Build aggregates a run folder; WriteFile writes its HTML page next to the results.
func ExampleBuild() {
	dir := "sfbatch-runs/20260101T020000.000000Z-a1b2c3" // a load's run folder
	d, err := report.Build(context.Background(), dir, report.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range d.Outcomes {
		fmt.Println(o.Name, o.Rows)
	}
	for _, g := range d.ByCode {
		fmt.Println(g.Name, g.Rows)
	}
	path, err := report.WriteFile(context.Background(), dir, "", "my-loader", report.Options{Values: true, Mask: []string{"Email"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open", path)
}
