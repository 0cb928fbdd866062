package emulator

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// Default credentials of the emulator's own org. They are local test
// credentials, printed by `sfbatch emulator` by design.
const (
	DefaultUsername      = org.DefaultUsername
	DefaultPassword      = "sfbatch-emulator-1"
	DefaultSecurityToken = "EMULATORSECURITYTOKEN0001"
	DefaultClientID      = "3MVG9sfbatchEmulatorConsumerKey0000000000000000000000000000000001"
	DefaultClientSecret  = "SFBATCHEMULATORCONSUMERSECRET0001"
)

// User is a login of the emulated org. A matching User record is created in
// the org when the server starts (or found, if the data file has it).
type User struct {
	Username string `json:"username"`
	// Password and SecurityToken: SOAP login and the OAuth password grant
	// expect the password immediately followed by the token. An empty
	// SecurityToken means the password alone is accepted.
	Password      string `json:"password"`
	SecurityToken string `json:"security_token,omitempty"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	Email         string `json:"email,omitempty"`
}

// ConnectedApp is an OAuth client of the emulated org.
type ConnectedApp struct {
	Name         string `json:"name,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// CertificatePEM is the X.509 certificate (or RSA public key) JWT bearer
	// assertions signed with RS256 are verified against. Empty disables the
	// JWT bearer flow for this app.
	CertificatePEM string `json:"certificate_pem,omitempty"`
	// RunAs is the username the client-credentials flow runs as; empty means
	// the first configured user.
	RunAs string `json:"run_as,omitempty"`
	// CallbackURL is where the authorization-code flow may redirect besides
	// loopback addresses (which CLIs listen on).
	CallbackURL string `json:"callback_url,omitempty"`

	publicKey *rsa.PublicKey
}

// userRecord is a configured user joined to its User record id.
type userRecord struct {
	User
	id string
}

func (u *userRecord) fullName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// DefaultUser returns the default login.
func DefaultUser() User {
	return User{
		Username:      DefaultUsername,
		Password:      DefaultPassword,
		SecurityToken: DefaultSecurityToken,
		FirstName:     "Org",
		LastName:      "Admin",
		Email:         DefaultUsername,
	}
}

// CLIClientID is the client id of the Salesforce CLI's connected app
// ("Salesforce CLI", a public client with no secret). The emulator
// registers it by default so `sf org login sfdx-url` works with the SFDX
// auth URL the emulator prints.
const CLIClientID = "PlatformCLI"

// CLIApp returns the Salesforce CLI's connected app.
func CLIApp() ConnectedApp {
	return ConnectedApp{Name: "Salesforce CLI", ClientID: CLIClientID}
}

// DefaultApp returns the default connected app.
func DefaultApp() ConnectedApp {
	return ConnectedApp{Name: "sfbatch", ClientID: DefaultClientID, ClientSecret: DefaultClientSecret}
}

// ensureUser finds the User record for u by Username or creates it.
func ensureUser(ctx context.Context, o *org.Org, u User) (string, error) {
	q := "SELECT Id FROM User WHERE Username = '" + soqlEscape(u.Username) + "'"
	res, err := o.Query(ctx, q, false)
	if err != nil {
		return "", fmt.Errorf("emulator: look up user %s: %w", u.Username, err)
	}
	if res.Len() > 0 {
		if id, ok := res.Values(0)[0].(string); ok {
			return id, nil
		}
	}
	last := u.LastName
	if last == "" {
		last = u.Username
	}
	email := u.Email
	if email == "" {
		email = u.Username
	}
	alias := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, last))
	if len(alias) > 8 {
		alias = alias[:8]
	}
	if alias == "" {
		alias = "user"
	}
	fields := map[string]any{"Username": u.Username, "LastName": last, "Email": email, "Alias": alias}
	if u.FirstName != "" {
		fields["FirstName"] = u.FirstName
	}
	res2 := o.Write(ctx, "", []org.WriteRequest{{Op: org.OpInsert, Object: "User", Fields: fields}}, true)
	if len(res2) != 1 || !res2[0].Success {
		msg := "no result"
		if len(res2) == 1 && len(res2[0].Errors) > 0 {
			msg = res2[0].Errors[0].StatusCode + ": " + res2[0].Errors[0].Message
		}
		return "", fmt.Errorf("emulator: create user %s: %s", u.Username, msg)
	}
	return res2[0].ID, nil
}

// soqlEscape escapes a value for a single-quoted SOQL string literal.
func soqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// authenticate checks a username and password (+ security token).
func (s *Server) authenticate(username, password string) (*userRecord, error) {
	u := s.userByName(username)
	if u == nil {
		return nil, errBadCredentials
	}
	if !constantEqual(password, u.Password+u.SecurityToken) {
		return nil, errBadCredentials
	}
	return u, nil
}

func (s *Server) userByName(name string) *userRecord {
	for _, u := range s.users {
		if strings.EqualFold(u.Username, name) {
			return u
		}
	}
	return nil
}

func (s *Server) userByID(id string) *userRecord {
	for _, u := range s.users {
		if u.id == id || (len(id) == 15 && strings.HasPrefix(u.id, id)) {
			return u
		}
	}
	return nil
}

func (s *Server) appByID(id string) *ConnectedApp {
	if id == "" {
		return nil
	}
	for _, a := range s.apps {
		if a.ClientID == id {
			return a
		}
	}
	return nil
}

// AccessFile is the JSON file of users and connected apps the standalone
// emulator can load: {"users":[{"username":...,"password":...,
// "security_token":...}],"apps":[{"client_id":...,"client_secret":...,
// "certificate_pem":...,"run_as":...}]}.
type AccessFile struct {
	Users []User         `json:"users"`
	Apps  []ConnectedApp `json:"apps"`
}

// ReadAccessFile reads an AccessFile. Unknown keys are an error naming the
// file, so a typo does not silently drop a credential.
func ReadAccessFile(path string) (AccessFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return AccessFile{}, fmt.Errorf("emulator: %w", err)
	}
	var f AccessFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return AccessFile{}, fmt.Errorf("emulator: access file %s: %w", path, err)
	}
	for i, u := range f.Users {
		if u.Username == "" || u.Password == "" {
			return AccessFile{}, fmt.Errorf("emulator: access file %s: user %d needs username and password", path, i)
		}
	}
	for i, a := range f.Apps {
		if a.ClientID == "" || a.ClientSecret == "" {
			return AccessFile{}, fmt.Errorf("emulator: access file %s: app %d needs client_id and client_secret", path, i)
		}
	}
	return f, nil
}

// SFDXAuthURL formats an SFDX auth URL,
// force://clientID:clientSecret:refreshToken@host, the form the Salesforce
// CLI reads (it always connects to the host over HTTPS).
func SFDXAuthURL(clientID, clientSecret, refreshToken, instanceURL string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(instanceURL, "https://"), "http://")
	return "force://" + clientID + ":" + clientSecret + ":" + refreshToken + "@" + strings.TrimSuffix(host, "/")
}
