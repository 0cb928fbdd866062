package emulator

import (
	"bufio"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// instanceURL is the scheme and host the request arrived on, so one server
// answers correctly on both its HTTP and HTTPS listeners.
func instanceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// buildHandler assembles the middleware chain and routes.
func (s *Server) buildHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		cleanSlashes(r)
		defer func() {
			if s.cfg.Logger != nil {
				s.cfg.Logger.Debug("emulator request", "method", r.Method, "path", r.URL.Path, "query", redactQuery(r.URL.Query()), "status", sw.status)
			}
		}()
		if strings.HasPrefix(r.URL.Path, ControlPrefix) {
			// The control endpoint is never faulted, so tests can always clear faults.
		} else if f, ok := s.faults.match(r.Method, r.URL.Path, s.faultBody(r)); ok {
			if f.After {
				// The request is served, then its answer is lost.
				s.serve(&discardWriter{header: http.Header{}}, r)
				f.After, f.Latency = false, 0
				s.applyFault(sw, r, f)
				return
			}
			if s.applyFault(sw, r, f) {
				return
			}
		}
		s.serve(sw, r)
	})
}

// faultBody is the start of r's body when an active fault matches on bodies.
func (s *Server) faultBody(r *http.Request) []byte {
	if !s.faults.wantsBody() {
		return nil
	}
	return peekBody(r)
}

// serve decodes a gzip request body and routes the request.
func (s *Server) serve(sw http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		// Some clients mark even bodiless GETs as gzip; an empty body stays empty.
		br := bufio.NewReader(r.Body)
		if _, err := br.Peek(1); err == io.EOF {
			r.Body = http.NoBody
			r.Header.Del("Content-Encoding")
			s.route(sw, r)
			return
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			writeFamilyError(sw, r, http.StatusBadRequest, "INVALID_REQUEST", "request body is not valid gzip")
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{zr, r.Body}
		r.Header.Del("Content-Encoding")
		r.Header.Del("Content-Length")
		r.ContentLength = -1
	}
	s.route(sw, r)
}

// discardWriter is a ResponseWriter that throws the response away (a fault with After).
type discardWriter struct {
	header http.Header
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/services/Soap/"):
		s.serveSOAP(w, r)
	case p == "/services/oauth2/token" || p == "/services/oauth2/token/":
		s.serveOAuthToken(w, r)
	case p == "/services/oauth2/revoke" || p == "/services/oauth2/revoke/":
		s.serveOAuthRevoke(w, r)
	case p == "/services/oauth2/authorize" || p == "/services/oauth2/authorize/":
		s.serveAuthorize(w, r)
	case p == "/services/oauth2/userinfo" || p == "/services/oauth2/userinfo/":
		s.serveUserInfo(w, r)
	case strings.HasPrefix(p, "/id/"):
		s.serveIdentity(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.serveVersions(w, r)
	case strings.HasPrefix(p, "/services/data/"):
		leave, ok := s.admit(w, r)
		if !ok {
			return
		}
		defer leave()
		sess, ok := s.authREST(w, r)
		if !ok {
			return
		}
		r = r.WithContext(wire.WithSession(r.Context(), sess))
		if isSyncCall(r) {
			done, ok := s.startSyncCall(w, r)
			if !ok {
				return
			}
			defer done()
		}
		if isBulk2Path(p) {
			s.bulk.ServeHTTP(w, r)
			return
		}
		s.rest.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/services/async/"):
		leave, ok := s.admit(w, r)
		if !ok {
			return
		}
		defer leave()
		sess, ok := s.authBulk1(w, r)
		if !ok {
			return
		}
		s.bulk.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	case strings.HasPrefix(p, ControlPrefix):
		sess := s.sessions.validate(bearerToken(r))
		if sess == nil {
			wire.WriteError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		s.serveControl(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	default:
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// bearerToken extracts the token of "Authorization: Bearer x" (or "OAuth x").
func bearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	for _, p := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

func (s *Server) sessionFromRequest(r *http.Request) *wire.Session {
	tok := bearerToken(r)
	if tok == "" {
		tok = strings.TrimSpace(r.Header.Get("X-SFDC-Session"))
	}
	return s.sessions.validate(tok)
}

// statusWriter records the status for logging and keeps Hijack and Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack exposes the underlying connection (for the drop fault).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush flushes the underlying writer when it can.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }
