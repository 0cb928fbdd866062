package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type loginOptions struct {
	auth         authOptions
	name         string
	setDefault   bool
	noVerify     bool
	savePassword bool
}

func newLoginCmd(ios *IOStreams) *cobra.Command {
	opts := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Save a named connection profile",
		Long: `Log in with the given settings and save them as a named profile in the config
file (written with 0600 permissions). Later commands use it with --profile NAME,
or by default with --default.

A profile keeps the session (and refresh token) the login got, never the
password: when a username-password session expires, log in again. With
--save-password the password and security token are kept too, so the session
is renewed by itself, as Data Loader does when asked to save the password.
Tokens, client secrets and a saved password are encrypted (AES-256-GCM) with a
key kept apart from the config file: in the OS keychain (macOS Keychain,
Windows Credential Manager, the Secret Service on Linux) when one is reachable,
otherwise in a 0600 key file, $XDG_DATA_HOME/sfbatch/profile.key (choose with
SFBATCH_KEYCHAIN=auto|keychain|file and SFBATCH_KEY_FILE). A config file of an
earlier sfbatch that kept secrets in plain text is encrypted the first time it
is read.

Secrets come from the environment, never from flags: SF_PASSWORD,
SF_SECURITY_TOKEN, SF_CLIENT_SECRET, SF_REFRESH_TOKEN, SF_ACCESS_TOKEN,
SFDX_AUTH_URL. Supported flows: SOAP (username + password + security token),
OAuth username-password (with --client-id), refresh token, JWT bearer
(--jwt-key-file), client credentials, an access token with --instance-url,
and an SFDX auth URL (force://...). Salesforce is retiring username-password
login (SOAP login() is off by default in new orgs and absent from API 65.0 on;
sfbatch logs in at API 64.0 whatever --api-version says): prefer JWT bearer,
client credentials or a refresh token.`,
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
	cmd.Flags().BoolVar(&opts.savePassword, "save-password", false, "keep the password and security token, encrypted, so expired sessions renew without asking")
	return cmd
}

func runLogin(cmd *cobra.Command, ios *IOStreams, opts *loginOptions) error {
	// The profile being created is built from flags and environment alone.
	name := opts.name
	if opts.auth.targetOrg() != "" {
		return usageError{fmt.Errorf("--target-org: sfbatch uses an org the Salesforce CLI has logged in directly (--target-org on each command) and never copies its credentials into a profile")}
	}
	opts.auth.Profile = ""
	opts.auth.noProfile = true
	opts.auth.notices = ios.ErrOut
	p, err := opts.auth.resolve()
	if err != nil {
		return err
	}
	usesPassword := p.Password != "" && p.AccessToken == "" && p.AuthURL == "" && p.RefreshToken == "" && p.JWTKeyFile == ""
	if opts.savePassword && !usesPassword {
		return usageError{errors.New("--save-password: this login does not use a password (set SF_USERNAME and SF_PASSWORD)")}
	}
	if opts.noVerify && usesPassword && !opts.savePassword {
		return usageError{errors.New("--no-verify: a username-password profile saved without logging in keeps nothing to log in with; add --save-password, or log in")}
	}
	if !opts.noVerify {
		c, err := p.client(cmd.Context())
		if err != nil {
			return err
		}
		tok, err := c.Token(cmd.Context())
		if err != nil {
			return err
		}
		p.InstanceURL = c.InstanceURL()
		p.AccessToken = tok.AccessToken
		if tok.RefreshToken != "" {
			p.RefreshToken = tok.RefreshToken
		}
	}
	p.SavePassword = opts.savePassword
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
	if err := cfg.saveSealed(path, opts.auth.env); err != nil {
		return err
	}
	kept := "the session"
	switch {
	case opts.savePassword:
		kept = "the session, password and security token (encrypted)"
	case usesPassword:
		kept = "the session, not the password: log in again when it expires, or use --save-password"
	case p.RefreshToken != "" || p.AuthURL != "":
		kept = "the session and refresh token (encrypted)"
	}
	where := strings.TrimPrefix(cfg.Key, "file:")
	if strings.HasPrefix(cfg.Key, keyRefKeychain) {
		where = "the OS keychain"
	}
	if ios.json != nil {
		return writeJSON(ios, map[string]any{"profile": name, "username": p.Username, "instanceUrl": p.InstanceURL,
			"configFile": path, "key": where, "passwordSaved": opts.savePassword, "default": cfg.Default == name})
	}
	fmt.Fprintf(ios.Out, "Saved profile %q for %s in %s\n", name, first(p.Username, p.InstanceURL), path)
	fmt.Fprintf(ios.Out, "It keeps %s.\n", kept)
	if where != "" {
		fmt.Fprintf(ios.Out, "Secrets are encrypted with the key in %s.\n", where)
	}
	return nil
}
