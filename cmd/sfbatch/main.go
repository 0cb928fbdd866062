// Command sfbatch moves large volumes of data into and out of Salesforce.
// See the README for usage; every subcommand has --help with examples.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/sfbatch/sfbatch/internal/cli"
)

// cpuProfileEnv names the hidden environment variable that, when set to a
// file path, makes the whole process write a CPU profile there (pprof
// format). It measures everything the process does, start-up included.
const cpuProfileEnv = "SFBATCH_CPUPROFILE"

func main() { os.Exit(run()) }

func run() int {
	if path := os.Getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sfbatch: %s: %v\n", cpuProfileEnv, err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "sfbatch: %s: %v\n", cpuProfileEnv, err)
			_ = f.Close()
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "sfbatch: %s: %v\n", cpuProfileEnv, err)
			}
		}()
	}
	return cli.Main()
}
