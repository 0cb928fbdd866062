//go:build integration

package conformance

import (
	"os"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
)

// orgTarget logs in to the real org named by the environment (see the package doc), or
// reports false when no credentials are set. A login that fails fails t: credentials were
// given, so the run is meant to reach the org.
func orgTarget(t *testing.T) (Target, bool) {
	t.Helper()
	cfg, ok := orgLoginConfig(os.Getenv)
	if !ok {
		t.Log("integration build without SF_* credentials: running against the emulator only")
		return Target{}, false
	}
	var opts []salesforce.Option
	if v := os.Getenv("SF_API_VERSION"); v != "" {
		opts = append(opts, salesforce.WithAPIVersion(v))
	}
	c, err := salesforce.Login(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatalf("logging in to the org (%s): %v", cfg, err)
	}
	return Target{
		Name:      "org",
		Client:    c,
		RunPrefix: runPrefix(t),
		PollMin:   time.Second,
		PollMax:   10 * time.Second,
		WaitLimit: 20 * time.Minute,
	}, true
}

// orgLoginConfig reads the first complete set of credentials: SFDX_AUTH_URL; then
// SF_INSTANCE_URL + SF_ACCESS_TOKEN; then SF_USERNAME + SF_PASSWORD (+ SF_SECURITY_TOKEN,
// + SF_CLIENT_ID and SF_CLIENT_SECRET for the OAuth password flow) at SF_LOGIN_URL.
func orgLoginConfig(getenv func(string) string) (salesforce.LoginConfig, bool) {
	switch {
	case getenv("SFDX_AUTH_URL") != "":
		return salesforce.LoginConfig{SFDXAuthURL: getenv("SFDX_AUTH_URL")}, true
	case getenv("SF_INSTANCE_URL") != "" && getenv("SF_ACCESS_TOKEN") != "":
		return salesforce.LoginConfig{InstanceURL: getenv("SF_INSTANCE_URL"), AccessToken: getenv("SF_ACCESS_TOKEN")}, true
	case getenv("SF_USERNAME") != "" && getenv("SF_PASSWORD") != "":
		return salesforce.LoginConfig{
			LoginURL:      getenv("SF_LOGIN_URL"),
			Username:      getenv("SF_USERNAME"),
			Password:      getenv("SF_PASSWORD"),
			SecurityToken: getenv("SF_SECURITY_TOKEN"),
			ClientID:      getenv("SF_CLIENT_ID"),
			ClientSecret:  getenv("SF_CLIENT_SECRET"),
			APIVersion:    getenv("SF_API_VERSION"),
		}, true
	}
	return salesforce.LoginConfig{}, false
}

func TestOrgLoginConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want salesforce.Flow
		ok   bool
	}{
		{"none", nil, "", false},
		{"password only", map[string]string{"SF_PASSWORD": "p"}, "", false},
		{"soap", map[string]string{"SF_USERNAME": "u", "SF_PASSWORD": "p", "SF_SECURITY_TOKEN": "t"}, salesforce.FlowSOAP, true},
		{"oauth password", map[string]string{"SF_USERNAME": "u", "SF_PASSWORD": "p", "SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "s"}, salesforce.FlowPassword, true},
		{"access token", map[string]string{"SF_INSTANCE_URL": "https://x.my.salesforce.com", "SF_ACCESS_TOKEN": "00D!x"}, salesforce.FlowAccessToken, true},
		{"token without instance", map[string]string{"SF_ACCESS_TOKEN": "00D!x"}, "", false},
		{"sfdx wins", map[string]string{"SFDX_AUTH_URL": "force://id::rt@x.my.salesforce.com", "SF_USERNAME": "u", "SF_PASSWORD": "p"}, salesforce.FlowSFDXAuthURL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, ok := orgLoginConfig(func(k string) string { return tt.env[k] })
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			src, err := cfg.TokenSource()
			if err != nil {
				t.Fatalf("TokenSource: %v", err)
			}
			if got := flowOf(src); got != tt.want {
				t.Errorf("flow %s, want %s", got, tt.want)
			}
		})
	}
}

func flowOf(src salesforce.TokenSource) salesforce.Flow {
	switch src.(type) {
	case *salesforce.SOAPLogin:
		return salesforce.FlowSOAP
	case *salesforce.OAuthPassword:
		return salesforce.FlowPassword
	case salesforce.StaticToken:
		return salesforce.FlowAccessToken
	case *salesforce.OAuthRefreshToken:
		return salesforce.FlowSFDXAuthURL
	}
	return ""
}
