// Command sfbatch moves large volumes of data into and out of Salesforce.
// See the README for usage; every subcommand has --help with examples.
package main

import (
	"os"

	"github.com/sfbatch/sfbatch/internal/cli"
)

func main() { os.Exit(cli.Main()) }
