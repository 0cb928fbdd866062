// Command floor is the benchmark's raw floor: the least a client can do to load a CSV file
// through Bulk API 2.0 and learn every row's outcome. It logs in with the OAuth password flow,
// cuts the file at line ends into uploads of at most maxUpload bytes (no CSV parsing, no checks,
// no retries, no journal), creates one job per upload, all at once, closes them, polls every
// pollEvery, and with -results (the default) downloads the successful, failed and unprocessed
// results and counts their lines without keeping them.
//
// With -query SOQL -out FILE it is the least a client can do to export: one Bulk API 2.0 query
// job, polled every pollEvery, its result pages downloaded one after the other by following
// the Sforce-Locator header (no maxRecords: the server's page size) and their bytes written to
// FILE as they arrive, each page's header line but the first left out.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxUpload is the largest upload the floor sends, under Bulk API 2.0's 150 MB per job.
	maxUpload = 100 << 20
	pollEvery = 200 * time.Millisecond
	version   = "v62.0"
)

func main() {
	object := flag.String("object", "Contact", "sObject")
	file := flag.String("file", "", "CSV file (LF line endings, no newlines inside values)")
	results := flag.Bool("results", true, "download every job's results (each row's outcome)")
	query := flag.String("query", "", "export: the SOQL query to run as a Bulk API 2.0 query job")
	out := flag.String("out", "", "export: the CSV file to write the query's rows to")
	flag.Parse()
	var err error
	if *query != "" {
		err = export(context.Background(), *query, *out)
	} else {
		err = run(context.Background(), *object, *file, *results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

type session struct {
	instance, token string
	hc              *http.Client
}

func login(ctx context.Context) (*session, error) {
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {os.Getenv("SF_CLIENT_ID")},
		"client_secret": {os.Getenv("SF_CLIENT_SECRET")},
		"username":      {os.Getenv("SF_USERNAME")},
		"password":      {os.Getenv("SF_PASSWORD") + os.Getenv("SF_SECURITY_TOKEN")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, os.Getenv("SF_LOGIN_URL")+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	s := &session{hc: &http.Client{}}
	if err := s.do(req, &tok); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s.instance, s.token = tok.InstanceURL, tok.AccessToken
	return s, nil
}

func (s *session) do(req *http.Request, out any) error {
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, b)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (s *session) call(ctx context.Context, method, path, ctype string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.instance+"/services/data/"+version+path, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return s.do(req, out)
}

// parts cuts f after a header line into byte ranges ending at line ends, each with the header
// at most maxUpload bytes.
func parts(f *os.File) (header []byte, cuts []int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	header, err = bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	size, pos := st.Size(), int64(len(header))
	cuts = []int64{pos}
	buf := make([]byte, 1<<20)
	for size-pos > maxUpload-int64(len(header)) {
		end := pos + maxUpload - int64(len(header))
		n, err := f.ReadAt(buf, end-int64(len(buf)))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		i := bytes.LastIndexByte(buf[:n], '\n')
		if i < 0 {
			return nil, nil, errors.New("a line longer than 1 MB")
		}
		pos = end - int64(len(buf)) + int64(i) + 1
		cuts = append(cuts, pos)
	}
	return header, append(cuts, size), nil
}

type counter struct{ lines int }

func (c *counter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func run(ctx context.Context, object, file string, results bool) error {
	s, err := login(ctx)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	header, cuts, err := parts(f)
	if err != nil {
		return err
	}
	var (
		mu            sync.Mutex
		ok, bad, none int
		wg            sync.WaitGroup
		errs          = make([]error, len(cuts)-1)
	)
	for i := 0; i+1 < len(cuts); i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := io.MultiReader(bytes.NewReader(header), io.NewSectionReader(f, cuts[i], cuts[i+1]-cuts[i]))
			o, b, n, err := job(ctx, s, object, body, results)
			mu.Lock()
			ok, bad, none, errs[i] = ok+o, bad+b, none+n, err
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("{\"succeeded\":%d,\"failed\":%d,\"unprocessed\":%d,\"jobs\":%d}\n", ok, bad, none, len(cuts)-1)
	return nil
}

func job(ctx context.Context, s *session, object string, body io.Reader, results bool) (ok, bad, none int, err error) {
	var j struct {
		ID, State, ErrorMessage string
		NumberRecordsProcessed  int
		NumberRecordsFailed     int
	}
	create := fmt.Sprintf(`{"object":%q,"operation":"insert","contentType":"CSV","lineEnding":"LF"}`, object)
	if err := s.call(ctx, http.MethodPost, "/jobs/ingest", "application/json", strings.NewReader(create), &j); err != nil {
		return 0, 0, 0, err
	}
	id := j.ID
	if err := s.call(ctx, http.MethodPut, "/jobs/ingest/"+id+"/batches", "text/csv", body, nil); err != nil {
		return 0, 0, 0, err
	}
	if err := s.call(ctx, http.MethodPatch, "/jobs/ingest/"+id, "application/json", strings.NewReader(`{"state":"UploadComplete"}`), &j); err != nil {
		return 0, 0, 0, err
	}
	for j.State != "JobComplete" {
		if j.State == "Failed" || j.State == "Aborted" {
			return 0, 0, 0, fmt.Errorf("job %s %s: %s", id, j.State, j.ErrorMessage)
		}
		time.Sleep(pollEvery)
		if err := s.call(ctx, http.MethodGet, "/jobs/ingest/"+id, "", nil, &j); err != nil {
			return 0, 0, 0, err
		}
	}
	if !results {
		return j.NumberRecordsProcessed - j.NumberRecordsFailed, j.NumberRecordsFailed, 0, nil
	}
	var counts [3]int
	for i, kind := range []string{"successfulResults", "failedResults", "unprocessedrecords"} {
		c := &counter{}
		if err := s.call(ctx, http.MethodGet, "/jobs/ingest/"+id+"/"+kind+"/", "", nil, c); err != nil {
			return 0, 0, 0, err
		}
		if c.lines > 0 {
			counts[i] = c.lines - 1 // the header
		}
	}
	return counts[0], counts[1], counts[2], nil
}

// export runs query as one Bulk API 2.0 query job and writes its rows to the file out.
func export(ctx context.Context, query, out string) error {
	s, err := login(ctx)
	if err != nil {
		return err
	}
	var j struct {
		ID, State, ErrorMessage string
		NumberRecordsProcessed  int
	}
	create, err := json.Marshal(map[string]string{"operation": "query", "query": query})
	if err != nil {
		return err
	}
	if err := s.call(ctx, http.MethodPost, "/jobs/query", "application/json", bytes.NewReader(create), &j); err != nil {
		return err
	}
	for j.State != "JobComplete" {
		if j.State == "Failed" || j.State == "Aborted" {
			return fmt.Errorf("query job %s %s: %s", j.ID, j.State, j.ErrorMessage)
		}
		time.Sleep(pollEvery)
		if err := s.call(ctx, http.MethodGet, "/jobs/query/"+j.ID, "", nil, &j); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	rows, pages, locator := 0, 0, ""
	for {
		path := s.instance + "/services/data/" + version + "/jobs/query/" + j.ID + "/results"
		if locator != "" {
			path += "?locator=" + url.QueryEscape(locator)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		if err != nil {
			f.Close()
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Accept", "text/csv")
		resp, err := s.hc.Do(req)
		if err != nil {
			f.Close()
			return err
		}
		n, err := page(f, resp, pages > 0)
		resp.Body.Close()
		if err != nil {
			f.Close()
			return fmt.Errorf("results page %d: %w", pages+1, err)
		}
		rows, pages = rows+n, pages+1
		if locator = resp.Header.Get("Sforce-Locator"); locator == "" || locator == "null" {
			break
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("{\"rows\":%d,\"pages\":%d}\n", rows, pages)
	return nil
}

// page writes one results page's body to w, without its header line when skipHeader, and
// returns the page's record count (Sforce-NumberOfRecords).
func page(w io.Writer, resp *http.Response, skipHeader bool) (int, error) {
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("%s: %s", resp.Status, b)
	}
	body := bufio.NewReaderSize(resp.Body, 64<<10)
	if skipHeader {
		if _, err := body.ReadSlice('\n'); err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
	}
	if _, err := body.WriteTo(w); err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(resp.Header.Get("Sforce-NumberOfRecords"))
	return n, nil
}
