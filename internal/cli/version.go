package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the sfbatch release, overridable at link time with
// -ldflags "-X github.com/sfbatch/sfbatch/internal/cli.version=v1.2.3".
var version = "dev"

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the sfbatch version",
		Example: "  sfbatch version\n  sfbatch --version\n  sfbatch version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionString()
			if ios.json != nil {
				return writeJSON(ios, map[string]string{"version": v})
			}
			fmt.Fprintf(ios.Out, "sfbatch %s\n", v)
			return nil
		},
	}
}

// versionString is the release: the link-time version, else the module
// version Go recorded, else "dev".
func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return v
}
