package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/sfbatch/sfbatch/emulator"
)

// loginEnv is an emulated org and a home directory for the sfbatch commands a
// test runs in-process (the environment is the process's, so these tests do
// not run in parallel).
type loginEnv struct {
	srv  *emulator.Server
	info emulator.StartupInfo
	home string
}

func newLoginEnv(t *testing.T, eo *emulatorOptions) *loginEnv {
	t.Helper()
	if eo == nil {
		eo = &emulatorOptions{}
	}
	eo.Addr, eo.Seed = "127.0.0.1:0", 1
	srv, err := startEmulator(eo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info, err := srv.StartupInfo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_DATA_HOME": filepath.Join(home, "data"),
		"SFBATCH_CONFIG": "", envProfile: "", envKeychain: "file", envKeyFile: "", envKeychainService: "",
		envInstanceURL: "", envAccessToken: "", envUsername: "", envPassword: "", envSecurityToken: "",
		envClientID: "", envClientSecret: "", envRefreshToken: "", envJWTKeyFile: "", envAuthURL: "", envAuthURLAlt: "",
		envAPIVersion: "", envLoginURL: info.LoginURL, envCACertFile: info.CACertFile,
		"HTTPS_PROXY": "", "https_proxy": "", "HTTP_PROXY": "", "http_proxy": "", "NO_PROXY": "", "no_proxy": "",
	} {
		t.Setenv(k, v)
	}
	return &loginEnv{srv: srv, info: info, home: home}
}

// run runs one sfbatch command line and returns its exit code, standard
// output and standard error.
func (e *loginEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

// savedProfile reads and decrypts a profile the way sfbatch does.
func (e *loginEnv) savedProfile(t *testing.T, name string) (*config, *Profile) {
	t.Helper()
	path, err := defaultConfigPath(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cfg.Profiles[name]
	if !ok {
		t.Fatalf("no profile %q in %s", name, path)
	}
	opened, err := openProfile(cfg, os.Getenv, name, p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, opened
}

// secretForms are the ways a secret could be written down: plain, base64
// (standard and URL alphabets, padded or not, at each of the three byte
// alignments it could have inside a longer value) and hex.
func secretForms(secret string) []string {
	forms := []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret)))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		for shift := range 3 {
			s := enc.EncodeToString(append(bytes.Repeat([]byte{0}, shift), secret...))
			// Drop the characters that depend on the bytes before and after.
			start := (shift*4 + 2) / 3
			end := len(strings.TrimRight(s, "=")) - 2
			if end > start {
				forms = append(forms, s[start:end])
			}
		}
	}
	return forms
}

// assertNoSecretInFiles fails if any file under dir holds any secret in any of
// its secretForms.
func assertNoSecretInFiles(t *testing.T, dir string, secrets map[string]string) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, secret := range secrets {
			if secret == "" {
				t.Fatalf("test bug: %s is empty", what)
			}
			for _, form := range secretForms(secret) {
				if bytes.Contains(b, []byte(form)) {
					t.Errorf("%s holds the %s (as %q)", path, what, form)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSecretFormsFindEncodings(t *testing.T) {
	t.Parallel()
	secret := "p@ss-w0rd!secret"
	for _, written := range []string{
		"x" + base64.StdEncoding.EncodeToString([]byte("a"+secret+"b")),
		base64.URLEncoding.EncodeToString([]byte("ab" + secret)),
		"{" + hex.EncodeToString([]byte("zz"+secret)) + "}",
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
	} {
		found := false
		for _, f := range secretForms(secret) {
			found = found || strings.Contains(written, f)
		}
		if !found {
			t.Errorf("%q: no form of the secret found", written)
		}
	}
}

// TestLoginWritesNoSecret: sfbatch login with username, password and security
// token leaves neither the password, the security token nor the session token
// in any file it writes, in plain, base64 or hex form; the saved profile works
// without the secrets in the environment; an expired session asks for a new
// login, unless --save-password kept the password (encrypted), which renews it.
func TestLoginWritesNoSecret(t *testing.T) {
	e := newLoginEnv(t, nil)
	t.Setenv(envPassword, e.info.Password)
	t.Setenv(envSecurityToken, e.info.SecurityToken)
	code, out, errOut := e.run(t, "login", "emu", "--username", e.info.Username, "--default")
	if code != 0 {
		t.Fatalf("login: exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "not the password") {
		t.Errorf("login output does not say the password is not kept: %s", out)
	}
	cfg, p := e.savedProfile(t, "emu")
	if p.AccessToken == "" || p.Password != "" || p.SecurityToken != "" || p.SavePassword {
		t.Fatalf("saved profile: token kept %v, password kept %v, security token kept %v", p.AccessToken != "", p.Password != "", p.SecurityToken != "")
	}
	keyFile := filepath.Join(e.home, "data", "sfbatch", "profile.key")
	if cfg.Key != "file:"+keyFile {
		t.Errorf("config key = %q, want the key file %s", cfg.Key, keyFile)
	}
	configFile := filepath.Join(e.home, "config", "sfbatch", "config.json")
	for _, f := range []string{keyFile, configFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if filepath.Dir(keyFile) == filepath.Dir(configFile) {
		t.Error("key file in the config folder")
	}
	secrets := map[string]string{
		"password": e.info.Password, "security token": e.info.SecurityToken,
		"password+token": e.info.Password + e.info.SecurityToken, "session token": p.AccessToken,
	}
	if n := assertNoSecretInFiles(t, e.home, secrets); n < 2 {
		t.Errorf("scanned %d files, want the config and the key file", n)
	}
	raw, _ := os.ReadFile(configFile)
	if !bytes.Contains(raw, []byte(`"secrets": "v1:`)) {
		t.Errorf("config file has no sealed secrets:\n%s", raw)
	}

	// The profile works with no secret in the environment, over the session it kept.
	t.Setenv(envPassword, "")
	t.Setenv(envSecurityToken, "")
	if code, out, errOut := e.run(t, "limits"); code != 0 || !strings.Contains(out, "DailyApiRequests") {
		t.Fatalf("limits with the saved profile: exit %d: %s%s", code, out, errOut)
	}
	// When that session ends, nothing renews it: exit 4, and a way out.
	e.srv.ExpireSessions()
	code, _, errOut = e.run(t, "limits")
	if code != ExitAuth || !strings.Contains(errOut, "log in again") {
		t.Errorf("expired session: exit %d, stderr %q", code, errOut)
	}

	// --save-password keeps the password, encrypted, and renews sessions.
	t.Setenv(envPassword, e.info.Password)
	t.Setenv(envSecurityToken, e.info.SecurityToken)
	if code, out, errOut := e.run(t, "login", "emu", "--username", e.info.Username, "--save-password"); code != 0 {
		t.Fatalf("login --save-password: exit %d: %s%s", code, out, errOut)
	}
	_, p = e.savedProfile(t, "emu")
	if p.Password != e.info.Password || p.SecurityToken != e.info.SecurityToken || !p.SavePassword {
		t.Fatal("--save-password did not keep the password and security token")
	}
	secrets["session token"] = p.AccessToken
	assertNoSecretInFiles(t, e.home, secrets)
	t.Setenv(envPassword, "")
	t.Setenv(envSecurityToken, "")
	e.srv.ExpireSessions()
	if code, out, errOut := e.run(t, "limits"); code != 0 || !strings.Contains(out, "DailyApiRequests") {
		t.Errorf("limits after the session expired, password saved: exit %d: %s%s", code, out, errOut)
	}
	// The renewed session was written back, sealed like the rest.
	_, renewed := e.savedProfile(t, "emu")
	if renewed.AccessToken == "" || renewed.AccessToken == p.AccessToken || renewed.Password != e.info.Password {
		t.Errorf("renewed session not kept (changed %v, password still saved %v)", renewed.AccessToken != p.AccessToken, renewed.Password == e.info.Password)
	}
	secrets["session token"] = renewed.AccessToken
	secrets["expired session token"] = p.AccessToken
	assertNoSecretInFiles(t, e.home, secrets)
}

// TestLoginAPIVersion65: --api-version 65.0 (where Salesforce no longer offers
// SOAP login()) does not break username-password login: it logs in at 64.0
// and the data calls use 65.0.
func TestLoginAPIVersion65(t *testing.T) {
	e := newLoginEnv(t, nil)
	t.Setenv(envPassword, e.info.Password)
	t.Setenv(envSecurityToken, e.info.SecurityToken)
	if code, out, errOut := e.run(t, "login", "v65", "--username", e.info.Username, "--api-version", "65.0"); code != 0 {
		t.Fatalf("login --api-version 65.0: exit %d: %s%s", code, out, errOut)
	}
	if code, out, errOut := e.run(t, "limits", "--username", e.info.Username, "--api-version", "65.0"); code != 0 {
		t.Fatalf("limits --api-version 65.0 through SOAP login: exit %d: %s%s", code, out, errOut)
	}
	_, p := e.savedProfile(t, "v65")
	if p.APIVersion != "65.0" {
		t.Errorf("profile API version %q", p.APIVersion)
	}
}

// TestLoginRefusedByOrg: an org whose "Enable SOAP API login()" setting is off
// refuses username-password login; sfbatch exits 4 naming the flows that
// replace it, writes no profile, and in --json answers AuthError.
func TestLoginRefusedByOrg(t *testing.T) {
	e := newLoginEnv(t, &emulatorOptions{NoSOAPLogin: true})
	t.Setenv(envPassword, e.info.Password)
	t.Setenv(envSecurityToken, e.info.SecurityToken)
	code, out, errOut := e.run(t, "login", "emu", "--username", e.info.Username)
	if code != ExitAuth {
		t.Fatalf("exit %d, want %d: %s%s", code, ExitAuth, out, errOut)
	}
	for _, want := range []string{"SOAP API login() is disabled by default in this org", "JWT bearer", "client credentials", "refresh token", "--target-org"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %s", want, errOut)
		}
	}
	if strings.Contains(errOut, e.info.Password) {
		t.Error("stderr shows the password")
	}
	if _, err := os.Stat(filepath.Join(e.home, "config", "sfbatch", "config.json")); err == nil {
		t.Error("a refused login wrote a profile")
	}
	code, out, _ = e.run(t, "limits", "--username", e.info.Username, "--json")
	var doc struct {
		Status  int    `json:"status"`
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if code != ExitAuth || doc.Status != ExitAuth || doc.Name != "AuthError" || !strings.Contains(doc.Message, "JWT bearer") {
		t.Errorf("--json: exit %d, %+v", code, doc)
	}
	// Other flows still work in that org.
	t.Setenv(envClientID, e.info.ClientID)
	t.Setenv(envClientSecret, e.info.ClientSecret)
	t.Setenv(envPassword, "")
	if code, out, errOut := e.run(t, "limits", "--login-url", e.info.LoginURL); code != 0 {
		t.Errorf("client credentials in the same org: exit %d: %s%s", code, out, errOut)
	}
}

// TestMigratePlaintextConfig: a config file written by an earlier sfbatch,
// with secrets in plain text, is encrypted the first time it is read, with a
// notice, and keeps working.
func TestMigratePlaintextConfig(t *testing.T) {
	e := newLoginEnv(t, nil)
	path := filepath.Join(e.home, "config", "sfbatch", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	old := map[string]any{"default": "old", "profiles": map[string]any{
		"old": map[string]string{"login_url": e.info.LoginURL, "username": e.info.Username, "password": e.info.Password,
			"security_token": e.info.SecurityToken, "ca_cert_file": e.info.CACertFile},
		"tok": map[string]string{"instance_url": e.info.InstanceURL, "access_token": e.info.AccessToken, "ca_cert_file": e.info.CACertFile},
	}}
	b, _ := json.Marshal(old)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.run(t, "limits", "--profile", "tok")
	if code != 0 || !strings.Contains(out, "DailyApiRequests") {
		t.Fatalf("limits with a plaintext config: exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{`profile "old": its secrets were stored in plain text`, "its password is kept, encrypted", `profile "tok"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("notice lacks %q: %s", want, errOut)
		}
	}
	assertNoSecretInFiles(t, e.home, map[string]string{"password": e.info.Password, "security token": e.info.SecurityToken, "access token": e.info.AccessToken})
	if code, out, errOut := e.run(t, "limits"); code != 0 {
		t.Errorf("limits with the migrated password profile: exit %d: %s%s", code, out, errOut)
	}
	if _, _, errOut := e.run(t, "limits"); strings.Contains(errOut, "plain text") {
		t.Errorf("migrated twice: %s", errOut)
	}
}

// TestKeychain stores the profile key in the OS keychain when one is
// reachable (a Secret Service on Linux), under a service name of its own.
func TestKeychain(t *testing.T) {
	e := newLoginEnv(t, nil)
	service := "sfbatch-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	t.Setenv(envKeychainService, service)
	if err := keychainReachable(os.Getenv, service); err != nil {
		t.Skipf("no OS keychain reachable, the key file is used instead: %v", err)
	}
	t.Cleanup(func() { _ = keyring.Delete(service, keychainAccount) })
	t.Setenv(envKeychain, "keychain")
	t.Setenv(envPassword, e.info.Password)
	t.Setenv(envSecurityToken, e.info.SecurityToken)
	if code, out, errOut := e.run(t, "login", "kc", "--username", e.info.Username); code != 0 || !strings.Contains(out, "OS keychain") {
		t.Fatalf("login: exit %d: %s%s", code, out, errOut)
	}
	cfg, p := e.savedProfile(t, "kc")
	if cfg.Key != keyRefKeychain+":"+service || p.AccessToken == "" {
		t.Errorf("key %q, token kept %v", cfg.Key, p.AccessToken != "")
	}
	if _, err := os.Stat(filepath.Join(e.home, "data", "sfbatch", "profile.key")); err == nil {
		t.Error("a key file was written though the keychain holds the key")
	}
	assertNoSecretInFiles(t, e.home, map[string]string{"password": e.info.Password, "session token": p.AccessToken})
	t.Setenv(envPassword, "")
	t.Setenv(envSecurityToken, "")
	t.Setenv(envKeychain, "")
	if code, out, errOut := e.run(t, "limits", "--profile", "kc"); code != 0 {
		t.Errorf("limits: exit %d: %s%s", code, out, errOut)
	}
}

// FuzzSealUnseal: sealed secrets open only under the same key and profile
// name, and no stored value, however damaged, makes unseal panic.
func FuzzSealUnseal(f *testing.F) {
	f.Add("hunter2", "00D!token", "prod", "v1:AAAA")
	f.Add("", "", "", "")
	f.Add("p\x00w", "t\"ok'en", "a/b", "v1:"+strings.Repeat("A", 40))
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	f.Fuzz(func(t *testing.T, password, token, name, stored string) {
		_, _ = unseal(key, name, stored) // must not panic
		in := profileSecrets{Password: password, AccessToken: token}
		sealed, err := seal(key, name, in)
		if err != nil {
			t.Fatal(err)
		}
		if password != "" && len(password) >= 4 && strings.Contains(sealed, password) {
			t.Errorf("sealed value shows the password")
		}
		got, err := unseal(key, name, sealed)
		if err != nil || got != in {
			t.Fatalf("round trip: %+v, %v", got, err)
		}
		if _, err := unseal(other, name, sealed); err == nil {
			t.Error("opened with another key")
		}
		if _, err := unseal(key, name+"x", sealed); err == nil {
			t.Error("opened under another profile name")
		}
	})
}

func TestProfileStringHidesSecrets(t *testing.T) {
	t.Parallel()
	p := &Profile{Username: "ada@example.com", Password: "pw-SECRET-1", SecurityToken: "tok-SECRET-2", AccessToken: "00D!SECRET-3",
		RefreshToken: "SECRET-4", ClientSecret: "SECRET-5", AuthURL: "force://a:SECRET-6:b@x"}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", *p, *p, *p, p)} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "ada@example.com") {
			t.Errorf("printed profile: %s", s)
		}
	}
}
