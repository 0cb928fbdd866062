package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type loginOptions struct {
	auth       authOptions
	name       string
	setDefault bool
	noVerify   bool
}

func newLoginCmd(ios *IOStreams) *cobra.Command {
	opts := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Save a named connection profile",
		Long: `Log in with the given settings and save them as a named profile in the config
file (written with 0600 permissions). Later commands use it with --profile NAME,
or by default with --default.

Secrets come from the environment, never from flags: SF_PASSWORD,
SF_SECURITY_TOKEN, SF_CLIENT_SECRET, SF_REFRESH_TOKEN, SF_ACCESS_TOKEN,
SFDX_AUTH_URL. Supported flows: SOAP (username + password + security token),
OAuth username-password (with --client-id), refresh token, JWT bearer
(--jwt-key-file), client credentials, an access token with --instance-url,
and an SFDX auth URL (force://...).`,
		Example: `  # Username, password and security token (SOAP login)
  SF_PASSWORD=... SF_SECURITY_TOKEN=... sfbatch login prod --username ada@acme.com --default

  # JWT bearer against a sandbox
  sfbatch login uat --login-url https://test.salesforce.com --username ada@acme.com.uat \
      --client-id 3MVG9... --jwt-key-file server.key

  # An SFDX auth URL (from: sf org display --verbose)
  SFDX_AUTH_URL=force://... sfbatch login dev`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return runLogin(cmd, ios, opts)
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&opts.setDefault, "default", false, "make this the default profile")
	cmd.Flags().BoolVar(&opts.noVerify, "no-verify", false, "save without logging in first")
	return cmd
}

func runLogin(cmd *cobra.Command, ios *IOStreams, opts *loginOptions) error {
	// The profile being created must not be read from the file first.
	name := opts.name
	if opts.auth.targetOrg() != "" {
		return usageError{fmt.Errorf("--target-org: sfbatch uses an org the Salesforce CLI has logged in directly (--target-org on each command) and never copies its credentials into a profile")}
	}
	opts.auth.Profile = ""
	p, err := opts.auth.resolve()
	if err != nil {
		return err
	}
	if !opts.noVerify {
		c, err := p.client(cmd.Context())
		if err != nil {
			return err
		}
		if p.InstanceURL == "" {
			p.InstanceURL = c.InstanceURL()
		}
	}
	path := opts.auth.ConfigPath
	if path == "" {
		if path, err = defaultConfigPath(opts.auth.env); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	cfg.Profiles[name] = p
	if opts.setDefault || cfg.Default == "" {
		cfg.Default = name
	}
	if err := cfg.save(path); err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "Saved profile %q for %s in %s\n", name, first(p.Username, p.InstanceURL), path)
	return nil
}
