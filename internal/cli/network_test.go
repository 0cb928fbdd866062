package cli

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sfbatch/sfbatch/emulator"
)

// connectProxy is a real HTTP CONNECT proxy on loopback, like a corporate
// one: it asks for Basic credentials, resolves host names from its own table
// (the names do not resolve anywhere else) and tunnels the bytes.
type connectProxy struct {
	hosts      map[string]string // host name -> IP
	user, pass string
	connects   atomic.Int64 // tunnels opened
	refused    atomic.Int64 // CONNECTs without the right credentials

	mu    sync.Mutex
	conns []net.Conn
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
	if r.Header.Get("Proxy-Authorization") != want {
		p.refused.Add(1)
		w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	ip, ok := p.hosts[host]
	if err != nil || !ok {
		http.Error(w, "unknown host "+r.Host, http.StatusBadGateway)
		return
	}
	upstream, err := net.Dial("tcp", net.JoinHostPort(ip, port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	p.connects.Add(1)
	p.mu.Lock()
	p.conns = append(p.conns, conn, upstream)
	p.mu.Unlock()
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		conn.Close()
		upstream.Close()
		return
	}
	go func() {
		_, _ = io.Copy(upstream, buf)
		upstream.Close()
	}()
	_, _ = io.Copy(conn, upstream)
	conn.Close()
}

func (p *connectProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestProxyAndCABundle logs in and loads through an authenticating CONNECT
// proxy named in HTTPS_PROXY, trusting the org's CA through a CA bundle file,
// to an org whose host name only the proxy can resolve; NO_PROXY sends the
// same requests around the proxy (where the name does not resolve: exit 5);
// without the bundle TLS verification refuses the org (exit 5).
func TestProxyAndCABundle(t *testing.T) {
	const orgHost = "emulator.sfbatch.test"
	srv, err := emulator.New(emulator.Config{Addr: "127.0.0.1:0", TLS: true, TLSHosts: []string{orgHost}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info, err := srv.StartupInfo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(info.LoginURL)
	if err != nil {
		t.Fatal(err)
	}
	loginURL := "https://" + net.JoinHostPort(orgHost, u.Port())

	proxy := &connectProxy{hosts: map[string]string{orgHost: "127.0.0.1"}, user: "corp", pass: "pr0xy-s3cret"}
	ps := httptest.NewServer(proxy)
	t.Cleanup(func() { proxy.close(); ps.Close() })
	pu, _ := url.Parse(ps.URL)
	pu.User = url.UserPassword(proxy.user, proxy.pass)

	// A corporate bundle: another CA first, then the org's.
	other := httptest.NewTLSServer(http.NotFoundHandler())
	other.Close()
	var bundle strings.Builder
	bundle.WriteString("# corporate roots\n")
	writePEMCert(t, &bundle, other.Certificate().Raw)
	caPEM, err := os.ReadFile(info.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	bundle.Write(caPEM)
	bundlePath := filepath.Join(t.TempDir(), "corp-bundle.pem")
	if err := os.WriteFile(bundlePath, []byte(bundle.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	e := newLoginEnv(t, nil) // a home, a clean environment (its own org is not used)
	t.Setenv(envLoginURL, loginURL)
	t.Setenv(envCACertFile, "")
	t.Setenv("HTTPS_PROXY", pu.String())
	t.Setenv(envPassword, info.Password)
	t.Setenv(envSecurityToken, info.SecurityToken)

	code, out, errOut := e.run(t, "login", "corp", "--username", info.Username, "--ca-cert", bundlePath)
	if code != 0 {
		t.Fatalf("login through the proxy: exit %d: %s%s", code, out, errOut)
	}
	if proxy.connects.Load() == 0 {
		t.Fatal("the login did not go through the proxy")
	}
	csv := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csv, []byte("LastName\nLovelace\nHopper\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envPassword, "")
	t.Setenv(envSecurityToken, "")
	before := proxy.connects.Load()
	code, out, errOut = e.run(t, "insert", "-s", "Contact", csv, "-o", filepath.Join(t.TempDir(), "out"), "--quiet")
	if code != 0 {
		t.Fatalf("insert through the proxy: exit %d: %s%s", code, out, errOut)
	}
	if proxy.connects.Load() == before {
		t.Error("the load did not go through the proxy")
	}
	if strings.Contains(out+errOut, proxy.pass) {
		t.Error("output shows the proxy password")
	}

	// NO_PROXY names the org: sfbatch goes direct, where the name does not resolve.
	before = proxy.connects.Load()
	t.Setenv("NO_PROXY", ".sfbatch.test")
	code, _, errOut = e.run(t, "limits")
	if code != ExitUnreachable {
		t.Errorf("NO_PROXY: exit %d, want %d: %s", code, ExitUnreachable, errOut)
	}
	if proxy.connects.Load() != before {
		t.Error("NO_PROXY was not honoured")
	}
	t.Setenv("NO_PROXY", "")

	// Wrong proxy credentials: the org cannot be reached.
	bad := *pu
	bad.User = url.UserPassword("corp", "wrong")
	t.Setenv("HTTPS_PROXY", bad.String())
	code, _, errOut = e.run(t, "limits")
	if code != ExitUnreachable || proxy.refused.Load() == 0 {
		t.Errorf("wrong proxy credentials: exit %d (refused %d): %s", code, proxy.refused.Load(), errOut)
	}
	if strings.Contains(errOut, "wrong") {
		t.Errorf("error shows the proxy password: %s", errOut)
	}

	// Without the bundle, TLS verification refuses the org's certificate.
	t.Setenv("HTTPS_PROXY", pu.String())
	t.Setenv(envPassword, info.Password)
	code, _, errOut = e.run(t, "limits", "--username", info.Username, "--config", filepath.Join(t.TempDir(), "none.json"))
	if code != ExitUnreachable || !strings.Contains(errOut, "certificate") {
		t.Errorf("without the CA bundle: exit %d: %s", code, errOut)
	}
}

func writePEMCert(t *testing.T, w io.Writer, der []byte) {
	t.Helper()
	if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
		t.Fatal(err)
	}
}

func TestProxyFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"https_proxy": "http://proxy.corp:3128", "NO_PROXY": ".internal.corp,10.0.0.0/8"}
	proxy := proxyFromEnv(func(k string) string { return env[k] })
	for _, tt := range []struct{ url, want string }{
		{"https://acme.my.salesforce.com/services/data", "http://proxy.corp:3128"},
		{"https://sf.internal.corp/x", ""},
		{"https://10.1.2.3/x", ""},
		{"https://127.0.0.1:8443/x", ""}, // loopback is never proxied
	} {
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		got, err := proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		if got != nil {
			s = got.String()
		}
		if s != tt.want {
			t.Errorf("%s: proxy %q, want %q", tt.url, s, tt.want)
		}
	}
}
