package emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzSOAPRequest feeds arbitrary envelopes to the SOAP endpoint: it must
// answer 200 or a 500 fault, never panic.
func FuzzSOAPRequest(f *testing.F) {
	for _, tl := range traceLogins {
		b, err := readTestdata(tl.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body><logout/></se:Body></se:Envelope>`)
	f.Add(`<x`)
	s, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/services/Soap/u/62.0", strings.NewReader(body)))
		if w.Code != http.StatusOK && w.Code != http.StatusInternalServerError {
			t.Fatalf("status %d", w.Code)
		}
		if w.Header().Get("Content-Type") != "text/xml;charset=UTF-8" {
			t.Fatalf("Content-Type %q", w.Header().Get("Content-Type"))
		}
	})
}

// FuzzJWTBearer feeds arbitrary assertions to the token endpoint: always a
// 400 JSON error (no app has a certificate), never a panic or a token.
func FuzzJWTBearer(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	s, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}}
		r := httptest.NewRequest("POST", "/services/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Body.String(), `{"error":`) {
			t.Fatalf("%d %s", w.Code, w.Body.String())
		}
	})
}
