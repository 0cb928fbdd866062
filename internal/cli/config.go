package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

// Profile is one named set of connection settings in the config file.
// On disk its secrets (tokens, client secret, and the password only when
// SavePassword) are encrypted into Secrets (see secrets.go); the plaintext
// secret fields are read only to migrate a config of an earlier sfbatch.
// Secrets are never printed.
type Profile struct {
	InstanceURL   string `json:"instance_url,omitempty"`
	LoginURL      string `json:"login_url,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	SecurityToken string `json:"security_token,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	ClientSecret  string `json:"client_secret,omitempty"`
	RefreshToken  string `json:"refresh_token,omitempty"`
	AccessToken   string `json:"access_token,omitempty"`
	JWTKeyFile    string `json:"jwt_key_file,omitempty"`
	AuthURL       string `json:"sfdx_auth_url,omitempty"`
	CACertFile    string `json:"ca_cert_file,omitempty"`
	APIVersion    string `json:"api_version,omitempty"`
	// SavePassword keeps the password and security token (encrypted), as
	// sfbatch login --save-password asks.
	SavePassword bool `json:"save_password,omitempty"`
	// Secrets are the encrypted secret fields.
	Secrets string `json:"secrets,omitempty"`

	// storedToken is set when AccessToken is the session a saved profile
	// kept, to be used first and renewed through the profile's other
	// credentials (if any) when it expires.
	storedToken bool
	// saved is where the profile came from, to write a renewed session back;
	// nil for settings from flags and environment alone.
	saved *savedAt
	// proxy picks the proxy for a request (proxyFromEnv); nil means
	// http.ProxyFromEnvironment.
	proxy func(*http.Request) (*url.URL, error)
}

// String describes the profile without its secrets, so that printing or
// logging one never shows them.
func (p Profile) String() string {
	return fmt.Sprintf("Profile{InstanceURL:%s, LoginURL:%s, Username:%s, ClientID:%s, JWTKeyFile:%s, APIVersion:%s, Password:%s, SecurityToken:%s, ClientSecret:%s, RefreshToken:%s, AccessToken:%s, AuthURL:%s, SavePassword:%t}",
		p.InstanceURL, p.LoginURL, p.Username, p.ClientID, p.JWTKeyFile, p.APIVersion,
		mask(p.Password), mask(p.SecurityToken), mask(p.ClientSecret), mask(p.RefreshToken), mask(p.AccessToken), mask(p.AuthURL), p.SavePassword)
}

// GoString is String, for %#v.
func (p Profile) GoString() string { return p.String() }

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// config is the on-disk config file.
type config struct {
	Default string `json:"default,omitempty"`
	// Key says where the key that encrypts the profiles' secrets is:
	// "keychain" or "file:PATH".
	Key      string              `json:"key,omitempty"`
	Profiles map[string]*Profile `json:"profiles"`
}

// configFileMode is the permission the config file is written with: it may
// hold secrets.
const configFileMode fs.FileMode = 0o600

// defaultConfigPath returns $SFBATCH_CONFIG, or sfbatch/config.json under the
// user's config directory.
func defaultConfigPath(getenv func(string) string) (string, error) {
	if p := getenv("SFBATCH_CONFIG"); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			d, err := os.UserConfigDir()
			if err != nil {
				return "", fmt.Errorf("locating the config directory: %w", err)
			}
			dir = d
		} else {
			dir = filepath.Join(home, ".config")
		}
	}
	return filepath.Join(dir, "sfbatch", "config.json"), nil
}

// loadConfig reads the config file; a missing file is an empty config.
func loadConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &config{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	return &c, nil
}

// save writes the config atomically with 0600 permissions.
func (c *config) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating config directory: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(configFileMode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing config: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	return nil
}
