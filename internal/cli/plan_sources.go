package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/plan"
	"github.com/sfbatch/sfbatch/salesforce"
)

// fetchPlanSources logs in to every source connection the plan's queries name and reads the
// queries into dir/sources (plan.FetchSources). A plan without queries logs in nowhere.
func fetchPlanSources(cmd *cobra.Command, opts *planOptions, f *plan.File, log *slog.Logger, dir string, reuse bool) error {
	names := f.SourceConnections()
	if len(names) == 0 {
		return nil
	}
	conns := map[string]*salesforce.Client{}
	for _, name := range names {
		a := sourceAuth(opts.auth, f.Connections[name])
		p, err := a.resolve()
		if err != nil {
			return fmt.Errorf("connection %s: %w", name, err)
		}
		var extra []salesforce.Option
		if log != nil {
			extra = append(extra, salesforce.WithLogger(log.With("connection", name)))
		}
		c, err := p.client(cmd.Context(), extra...)
		if err != nil {
			return fmt.Errorf("connection %s: %w", name, err)
		}
		conns[name] = c
	}
	return plan.FetchSources(cmd.Context(), f, conns, dir, reuse)
}

// sourceAuth returns the login options of a source connection: its saved profile, or the
// environment variables that start with its env prefix (SOURCE_SF_INSTANCE_URL, ...). The
// target's flags (--instance-url, ...) do not apply to it; the config file does.
func sourceAuth(target authOptions, c plan.Connection) *authOptions {
	a := &authOptions{ConfigPath: target.ConfigPath, notices: target.notices}
	base := target.getenv
	if base == nil {
		base = os.Getenv
	}
	if c.Env != "" {
		prefix := c.Env
		a.noProfile = true
		a.getenv = func(name string) string {
			if strings.HasPrefix(name, "SF_") || strings.HasPrefix(name, "SFDX_") {
				return base(prefix + name)
			}
			return base(name)
		}
		return a
	}
	a.Profile = c.Profile
	// The target's environment must not log the source in: only the profile does.
	a.getenv = func(name string) string {
		if strings.HasPrefix(name, "SF_") || strings.HasPrefix(name, "SFDX_") {
			return ""
		}
		return base(name)
	}
	return a
}
