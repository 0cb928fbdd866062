// Command peerbench times sfbatch beside its peers on one machine: each contender loads the
// same CSV of N Contacts into a fresh `sfbatch emulator` (-op load), or exports the N Contacts
// of a fresh emulator filled with that CSV before the timing to a CSV file (-op export),
// contenders interleaved, with the emulator and the client pinned to one core each (taskset)
// or unpinned, on a quiet machine or a busy one (one CPU hog running beside the pair). It
// prints wall time, client CPU, peak RSS and the emulator's CPU side by side, with ratios to
// sfbatch within the same run, and checks that every contender put every row in the org and
// learned every row's outcome, or wrote every row of the org to its file.
//
// bench/peers/run builds the contenders and calls this; see bench/peers/README.md.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sfbatch/sfbatch/bench/peers/internal/csvlines"
)

// Realistic profile model of `sfbatch emulator --profile realistic` (emulator/bulk
// DefaultRealistic): Salesforce splits a Bulk API 2.0 job into batches of recordsPerBatch,
// each costs batchStart plus perRecord per record, at most concurrentBatches at a time.
const (
	recordsPerBatch   = 10000
	batchStart        = 500 * time.Millisecond
	perRecord         = 50 * time.Microsecond
	concurrentBatches = 10
)

// inputColumns is the header of the CSV every contender loads (writeInput).
const inputColumns = "FirstName,LastName,Email,Phone,Title,MobilePhone,MailingStreet,MailingCity,MailingPostalCode,Description"

// exportQuery is the SOQL every export contender runs: Id and the input's columns.
const exportQuery = "SELECT Id," + inputColumns + " FROM Contact"

// contender is one tool. With -op load, argv gets the input CSV file; with -op export, the
// file the contender must write the Contacts to.
type contender struct {
	name string
	argv func(file string) []string
}

type config struct {
	op        string
	rows      int
	reps      int
	profile   string
	pinnings  []string
	loads     []string
	work      string
	sfbatch   string
	peersBin  string
	node      string
	python    string
	only      []string
	timeout   time.Duration
	jsonOut   string
	countOnly bool
	// inputSum is the fingerprint of the input's rows an export must reproduce.
	inputSum uint64
}

type emulatorInfo struct {
	InstanceURL   string `json:"instance_url"`
	LoginURL      string `json:"login_url"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	SecurityToken string `json:"security_token"`
	AccessToken   string `json:"access_token"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	CACertFile    string `json:"ca_cert_file"`
}

// result is one contender's run.
type result struct {
	Contender string        `json:"contender"`
	Pinning   string        `json:"pinning"`
	Load      string        `json:"load"`
	Rep       int           `json:"rep"`
	Wall      time.Duration `json:"wall_ns"`
	ClientCPU time.Duration `json:"client_cpu_ns"`
	RSSKB     int64         `json:"peak_rss_kb"`
	EmuCPU    time.Duration `json:"emulator_cpu_ns"`
	InOrg     int           `json:"rows_in_org"`
	RowsOut   int           `json:"rows_exported,omitempty"`
	Err       string        `json:"error,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-hog" {
		hog()
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "-fingerprint" {
		printFingerprint(os.Args[3], os.Args[2] == "id")
		return
	}
	var c config
	var pin, load, only string
	flag.StringVar(&c.op, "op", "load", "load (each contender inserts the CSV) or export (each contender extracts the Contacts of an org filled with it)")
	flag.IntVar(&c.rows, "n", 100000, "rows to load, or to fill the org with and export")
	flag.IntVar(&c.reps, "reps", 3, "runs of every contender in every setting")
	flag.StringVar(&c.profile, "profile", "instant", "emulator processing profile: instant or realistic")
	flag.StringVar(&pin, "pinning", "pinned,unpinned", "pinned (emulator on CPU 0, client on CPU 1) and/or unpinned")
	flag.StringVar(&load, "load", "quiet,busy", "quiet and/or busy (one CPU hog beside the pair)")
	flag.StringVar(&c.work, "work", "", "working directory (input file, run folders)")
	flag.StringVar(&c.sfbatch, "sfbatch", "", "sfbatch binary")
	flag.StringVar(&c.peersBin, "peers-bin", "", "directory holding the floor and gosf binaries")
	flag.StringVar(&c.node, "node-dir", "", "directory with jsforce installed (bench/peers/node)")
	flag.StringVar(&c.python, "python", "", "python with simple-salesforce and salesforce-bulk installed")
	flag.StringVar(&only, "only", "", "comma-separated contenders to run (default all)")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "longest one contender may run")
	flag.StringVar(&c.jsonOut, "json", "", "also write every run as JSON lines to this file")
	flag.BoolVar(&c.countOnly, "count-only", false, "run the emulator with --count-only (validates and counts rows without keeping them), for memory runs of 10M rows")
	flag.Parse()
	c.pinnings, c.loads = split(pin), split(load)
	if c.op != "load" && c.op != "export" {
		fmt.Fprintln(os.Stderr, "peerbench: -op is load or export")
		os.Exit(2)
	}
	if c.op == "export" && c.countOnly {
		fmt.Fprintln(os.Stderr, "peerbench: -count-only keeps no records to export")
		os.Exit(2)
	}
	if only != "" {
		c.only = split(only)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// hog spins one CPU until killed.
func hog() {
	runtime.GOMAXPROCS(1)
	x := 0
	for {
		x++
	}
}

func contenders(c config) []contender {
	py := func(script string) string { return filepath.Join(filepath.Dir(c.node), "python", script) }
	all := []contender{
		{"sfbatch", func(f string) []string {
			return []string{c.sfbatch, "insert", "-s", "Contact", "-f", f, "--quiet", "-o", filepath.Join(c.work, "runs", fmt.Sprint(time.Now().UnixNano()))}
		}},
		{"floor", func(f string) []string { return []string{filepath.Join(c.peersBin, "floor"), "-file", f} }},
		{"go-salesforce", func(f string) []string { return []string{filepath.Join(c.peersBin, "gosf"), "-file", f} }},
		{"jsforce", func(f string) []string {
			return []string{"node", filepath.Join(c.node, "jsforce-load.mjs"), "Contact", f}
		}},
		{"simple-salesforce", func(f string) []string {
			return []string{c.python, py("simple_salesforce_load.py"), "Contact", f}
		}},
		{"salesforce-bulk", func(f string) []string {
			return []string{c.python, py("salesforce_bulk_load.py"), "Contact", f}
		}},
	}
	if c.op == "export" {
		all = []contender{
			{"sfbatch", func(f string) []string {
				return []string{c.sfbatch, "export", "-q", exportQuery, "-o", f, "--quiet", "--run-dir", filepath.Join(c.work, "runs", fmt.Sprint(time.Now().UnixNano()))}
			}},
			{"floor", func(f string) []string {
				return []string{filepath.Join(c.peersBin, "floor"), "-query", exportQuery, "-out", f}
			}},
			{"go-salesforce", func(f string) []string {
				return []string{filepath.Join(c.peersBin, "gosf"), "-query", exportQuery, "-out", f}
			}},
			{"jsforce", func(f string) []string {
				return []string{"node", filepath.Join(c.node, "jsforce-export.mjs"), exportQuery, f}
			}},
			{"simple-salesforce", func(f string) []string {
				return []string{c.python, py("simple_salesforce_export.py"), "Contact", exportQuery, f}
			}},
			{"salesforce-bulk", func(f string) []string {
				return []string{c.python, py("salesforce_bulk_export.py"), "Contact", exportQuery, f}
			}},
		}
	}
	if c.only == nil {
		return all
	}
	var out []contender
	for _, k := range all {
		if slices.Contains(c.only, k.name) {
			out = append(out, k)
		}
	}
	return out
}

func run(ctx context.Context, c config) error {
	if c.work == "" || c.sfbatch == "" {
		return errors.New("-work and -sfbatch are required")
	}
	if err := os.MkdirAll(filepath.Join(c.work, "runs"), 0o755); err != nil {
		return err
	}
	input := filepath.Join(c.work, fmt.Sprintf("contacts-%d.csv", c.rows))
	if err := writeInput(input, c.rows); err != nil {
		return err
	}
	st, _ := os.Stat(input)
	fmt.Printf("peerbench: %s, %d Contacts (%.0f MB, 10 columns), profile %s, %d run(s) each, %d CPUs, %s\n",
		c.op, c.rows, float64(st.Size())/1e6, c.profile, c.reps, runtime.NumCPU(), loadavg())
	if c.profile == "realistic" && c.op == "load" {
		fmt.Printf("realistic profile's own floor: %.2f s (%d batches of %d records x (%v + %d x %v), %d at a time)\n",
			profileFloor(c.rows).Seconds(), batches(c.rows), recordsPerBatch, batchStart, recordsPerBatch, perRecord, concurrentBatches)
	}
	if c.op == "export" {
		var err error
		if c.inputSum, _, err = fingerprintOf(input, false); err != nil {
			return fmt.Errorf("input: %w", err)
		}
	}
	var jsonOut io.Writer = io.Discard
	if c.jsonOut != "" {
		f, err := os.Create(c.jsonOut)
		if err != nil {
			return err
		}
		defer f.Close()
		jsonOut = f
	}
	ks := contenders(c)
	var all []result
	for rep := 0; rep < c.reps; rep++ {
		for _, pin := range c.pinnings {
			for _, ld := range c.loads {
				var stop func()
				if ld == "busy" {
					var err error
					if stop, err = startHog(); err != nil {
						return err
					}
				}
				// Interleave: rotate the order every repetition.
				for i := range ks {
					k := ks[(i+rep)%len(ks)]
					r := runOne(ctx, c, k, input, pin, ld)
					r.Rep = rep
					all = append(all, r)
					b, _ := json.Marshal(r)
					fmt.Fprintln(jsonOut, string(b))
					status := "ok"
					if r.Err != "" {
						status = r.Err
					}
					fmt.Fprintf(os.Stderr, "  %-8s %-5s run %d %-18s %6.2f s  cpu %6.2f s  rss %5d MB  %s\n",
						pin, ld, rep+1, k.name, r.Wall.Seconds(), r.ClientCPU.Seconds(), r.RSSKB/1024, status)
				}
				if stop != nil {
					stop()
				}
			}
		}
	}
	printTables(os.Stdout, c, ks, all)
	return nil
}

func batches(n int) int { return (n + recordsPerBatch - 1) / recordsPerBatch }

// profileFloor is the realistic profile's modelled time for n rows, with nothing else costing.
func profileFloor(n int) time.Duration {
	rounds := (batches(n) + concurrentBatches - 1) / concurrentBatches
	return time.Duration(rounds) * (batchStart + recordsPerBatch*perRecord)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	return "load average " + strings.Join(f[:3], " ")
}

// writeInput writes n Contacts of 10 columns (about 185 bytes a row) once per size.
func writeInput(path string, n int) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, inputColumns)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "First%d,Last%08d,contact%d@example.com,+1 415 555 %04d,Senior Engineer %d,+1 650 555 %04d,%d Market Street Suite %d,San Francisco,%05d,Loaded by the peer benchmark row %d of the input file\n",
			i%1000, i, i, i%10000, i%50, i%9000, i%9999, i%300, 94000+i%999, i)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func startHog() (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-hog")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }, nil
}

func pinned(pin string, cpu int, argv []string) []string {
	if pin != "pinned" {
		return argv
	}
	return append([]string{"taskset", "-c", fmt.Sprint(cpu)}, argv...)
}

func runOne(ctx context.Context, c config, k contender, input, pin, ld string) (r result) {
	r = result{Contender: k.name, Pinning: pin, Load: ld}
	// Every contender starts from the same page cache state: what earlier runs wrote (sfbatch's
	// result files are 2.5x the input) is removed and flushed, outside the timing, so that no
	// run pays for writing back another's output.
	runs := filepath.Join(c.work, "runs")
	defer func() {
		os.RemoveAll(runs)
		os.MkdirAll(runs, 0o755)
		syscall.Sync()
	}()
	syscall.Sync()
	dir, err := os.MkdirTemp(c.work, "emu-")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	emu, info, err := startEmulator(c, pin, dir)
	if err != nil {
		r.Err = "emulator: " + err.Error()
		return r
	}
	// emuBefore is the emulator CPU spent before the timing (filling the org for an export).
	var emuBefore time.Duration
	defer func() {
		emu.Process.Signal(os.Interrupt)
		emu.Wait()
		if ru, ok := emu.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.EmuCPU = cpuOf(ru) - emuBefore
		}
	}()
	file := input
	if c.op == "export" {
		// The org is filled before the timing, the same rows for every contender; the
		// emulator CPU it costs is left out.
		if err := fill(ctx, c, info, input); err != nil {
			r.Err = "fill: " + err.Error()
			return r
		}
		syscall.Sync()
		if emuBefore, err = procCPU(emu.Process.Pid); err != nil {
			r.Err = "emulator CPU: " + err.Error()
			return r
		}
		file = filepath.Join(runs, "export-"+k.name+".csv")
	}
	argv := pinned(pin, 1, k.argv(file))
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Env = clientEnv(info)
	cmd.Dir = c.node
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	runErr := cmd.Run()
	r.Wall = time.Since(start)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.ClientCPU, r.RSSKB = cpuOf(ru), ru.Maxrss
		}
	}
	if runErr != nil {
		r.Err = fmt.Sprintf("%v: %s", runErr, lastLine(stderr.String()))
	}
	if c.op == "export" {
		if r.Err != "" {
			return r
		}
		n, err := checkExport(file, c.inputSum)
		r.RowsOut = n
		switch {
		case err != nil:
			r.Err = "output: " + err.Error()
		case n != c.rows:
			r.Err = fmt.Sprintf("%d of %d rows exported", n, c.rows)
		}
		return r
	}
	n, err := countContacts(ctx, info)
	if err != nil && r.Err == "" {
		r.Err = "count: " + err.Error()
	}
	r.InOrg = n
	if r.Err == "" && n != c.rows {
		r.Err = fmt.Sprintf("%d of %d rows in the org", n, c.rows)
	}
	return r
}

// clientEnv is the environment a contender runs in: the emulator's connection details in the
// variables each tool reads.
func clientEnv(info emulatorInfo) []string {
	return append(os.Environ(),
		"SF_LOGIN_URL="+info.LoginURL, "SF_INSTANCE_URL="+info.InstanceURL,
		"SF_USERNAME="+info.Username, "SF_PASSWORD="+info.Password, "SF_SECURITY_TOKEN="+info.SecurityToken,
		"SF_CLIENT_ID="+info.ClientID, "SF_CLIENT_SECRET="+info.ClientSecret, "SF_ACCESS_TOKEN="+info.AccessToken,
		"SF_CA_CERT_FILE="+info.CACertFile, "SSL_CERT_FILE="+info.CACertFile,
		"NODE_EXTRA_CA_CERTS="+info.CACertFile, "REQUESTS_CA_BUNDLE="+info.CACertFile,
		"NODE_OPTIONS=--max-old-space-size=8192")
}

// fill inserts the input into the org with the floor (Bulk API 2.0 jobs of up to 100 MB, no
// result files), the quickest way in: the emulator keeps no seed file of records, and a --data
// org (SQLite) takes longer to fill and to start than the timed export itself. Every org holds
// the same rows under the same set of Ids; which row gets which Id varies, as the emulator
// processes a job's rows in concurrent batches.
func fill(ctx context.Context, c config, info emulatorInfo, input string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.peersBin, "floor"), "-file", input, "-results=false")
	cmd.Env = clientEnv(info)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
	}
	n, err := countContacts(ctx, info)
	if err != nil {
		return err
	}
	if want, _ := csvlines.Data(input); n != want {
		return fmt.Errorf("%d of %d rows in the org", n, want)
	}
	return nil
}

// procCPU is the user and system CPU a running process has used so far (/proc/PID/stat, in
// clock ticks of 1/100 s, Linux's USER_HZ).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var ut, st int64
	if _, err := fmt.Sscan(f[11], &ut); err != nil {
		return 0, err
	}
	if _, err := fmt.Sscan(f[12], &st); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lastLine is the reason a contender failed: the last line of its standard error that
// names an error (Node.js ends a crash with its version), else the last line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	s = lines[len(lines)-1]
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Error") || strings.Contains(lines[i], "error") {
			s = strings.TrimSpace(lines[i])
			break
		}
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func startEmulator(c config, pin, dir string) (*exec.Cmd, emulatorInfo, error) {
	args := []string{c.sfbatch, "emulator", "--json", "--addr", "127.0.0.1:0", "--ca-cert-dir", dir, "--profile", c.profile}
	if c.countOnly {
		args = append(args, "--count-only")
	}
	argv := pinned(pin, 0, args)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, emulatorInfo{}, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, emulatorInfo{}, err
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, emulatorInfo{}, fmt.Errorf("no connection details: %w", err)
	}
	go io.Copy(io.Discard, out)
	var v struct {
		Result emulatorInfo `json:"result"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, emulatorInfo{}, err
	}
	return cmd, v.Result, nil
}

// checkExport reads an exported CSV file and returns its data rows; it fails unless the
// header names exactly the queried columns (in any order), every row has a distinct Id, and
// the rows' other values are the input's rows (compared by fingerprint, in any order).
func checkExport(path string, want uint64) (int, error) {
	sum, n, err := fingerprintOf(path, true)
	return verdict(sum, n, err, want)
}

// verdict is checkExport's answer for a file's fingerprint.
func verdict(sum uint64, n int, err error, want uint64) (int, error) {
	if err != nil {
		return n, err
	}
	if sum != want {
		return n, errors.New("the rows' values differ from the loaded input")
	}
	return n, nil
}

// fingerprintOf runs fingerprint in a child process (peerbench -fingerprint): the Ids of a
// large export take hundreds of MB, and a child started by a process (Go starts children with
// vfork) inherits that process's peak RSS as its own ru_maxrss, which would show in every
// contender's peak RSS.
func fingerprintOf(path string, withID bool) (uint64, int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	mode := "values"
	if withID {
		mode = "id"
	}
	out, err := exec.Command(self, "-fingerprint", mode, path).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("fingerprint: %w", err)
	}
	var v struct {
		Sum   uint64 `json:"sum"`
		Rows  int    `json:"rows"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return 0, 0, fmt.Errorf("fingerprint: %w", err)
	}
	if v.Error != "" {
		return v.Sum, v.Rows, errors.New(v.Error)
	}
	return v.Sum, v.Rows, nil
}

// printFingerprint prints fingerprint's answer as one JSON object.
func printFingerprint(path string, withID bool) {
	sum, n, err := fingerprint(path, withID)
	v := struct {
		Sum   uint64 `json:"sum"`
		Rows  int    `json:"rows"`
		Error string `json:"error,omitempty"`
	}{Sum: sum, Rows: n}
	if err != nil {
		v.Error = err.Error()
	}
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// fingerprint reads a CSV file of Contacts and returns an order-independent hash of its rows'
// input columns (inputColumns, in that order, wherever the file has them) and its data rows.
// With withID the file must also have an Id column whose values are distinct and non-empty.
func fingerprint(path string, withID bool) (uint64, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, 0, fmt.Errorf("header: %w", err)
	}
	cols := strings.Split(inputColumns, ",")
	wantCols := len(cols)
	if withID {
		wantCols++
	}
	if len(header) != wantCols {
		return 0, 0, fmt.Errorf("header %q: want %d columns", strings.Join(header, ","), wantCols)
	}
	pos := make([]int, len(cols))
	idPos := -1
	for i, name := range cols {
		pos[i] = slices.Index(header, name)
		if pos[i] < 0 {
			return 0, 0, fmt.Errorf("header %q: no %s", strings.Join(header, ","), name)
		}
	}
	var ids map[string]struct{}
	if withID {
		if idPos = slices.Index(header, "Id"); idPos < 0 {
			return 0, 0, fmt.Errorf("header %q: no Id", strings.Join(header, ","))
		}
		ids = make(map[string]struct{})
	}
	var sum uint64
	n := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return sum, n, nil
		}
		if err != nil {
			return 0, n, err
		}
		n++
		h := fnv.New64a()
		for _, p := range pos {
			h.Write([]byte(rec[p]))
			h.Write([]byte{0x1f})
		}
		sum += mix(h.Sum64())
		if withID {
			id := rec[idPos]
			if _, dup := ids[id]; dup || id == "" {
				return 0, n, fmt.Errorf("row %d: Id %q empty or seen before", n, id)
			}
			ids[id] = struct{}{}
		}
	}
}

// mix is splitmix64's finalizer, so that a sum of row hashes is a sound multiset hash.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func countContacts(ctx context.Context, info emulatorInfo) (int, error) {
	pem, err := os.ReadFile(info.CACertFile)
	if err != nil {
		return 0, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		info.InstanceURL+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+info.AccessToken)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("count query: %s", resp.Status)
	}
	var v struct {
		TotalSize int `json:"totalSize"`
	}
	return v.TotalSize, json.NewDecoder(resp.Body).Decode(&v)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func printTables(w io.Writer, c config, ks []contender, all []result) {
	for _, pin := range c.pinnings {
		for _, ld := range c.loads {
			fmt.Fprintf(w, "\n%s, %d rows, profile %s, %s, %s machine (median of %d; min-max)\n", c.op, c.rows, c.profile, pin, ld, c.reps)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "contender\twall s\t÷ sfbatch\t÷ floor\tclient CPU s\tCPU us/row\tpeak RSS MB\temulator CPU s\tresult")
			walls := map[string]time.Duration{}
			for _, k := range ks {
				if s := pick(all, k.name, pin, ld); len(s.walls) > 0 {
					walls[k.name] = median(s.walls)
				}
			}
			ratio := func(name, to string) string {
				if w0, ok := walls[to]; ok && walls[name] > 0 {
					return fmt.Sprintf("%.2f", walls[name].Seconds()/w0.Seconds())
				}
				return "-"
			}
			for _, k := range ks {
				printRow(tw, c, k.name, pick(all, k.name, pin, ld), ratio(k.name, "sfbatch"), ratio(k.name, "floor"))
			}
			tw.Flush()
			if c.profile == "realistic" && c.op == "load" {
				pf := profileFloor(c.rows)
				for _, name := range []string{"sfbatch", "floor"} {
					if w0, ok := walls[name]; ok {
						fmt.Fprintf(w, "%s ÷ the profile's floor (%.2f s): %.2f\n", name, pf.Seconds(), w0.Seconds()/pf.Seconds())
					}
				}
			}
		}
	}
}

// sample is one contender's successful runs in one setting, and the failures' reasons.
type sample struct {
	walls, cpus, emus []time.Duration
	rssKB             int64
	errs              []string
}

func pick(all []result, name, pin, ld string) sample {
	var s sample
	for _, r := range all {
		if r.Contender != name || r.Pinning != pin || r.Load != ld {
			continue
		}
		if r.Err != "" {
			s.errs = append(s.errs, r.Err)
			continue
		}
		s.walls, s.cpus, s.emus = append(s.walls, r.Wall), append(s.cpus, r.ClientCPU), append(s.emus, r.EmuCPU)
		s.rssKB = max(s.rssKB, r.RSSKB)
	}
	return s
}

func printRow(tw io.Writer, c config, name string, s sample, ratio, floor string) {
	status := "ok"
	if len(s.errs) > 0 {
		status = fmt.Sprintf("%d failed: %s", len(s.errs), s.errs[0])
	}
	if len(s.walls) == 0 {
		fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t%s\n", name, status)
		return
	}
	cpu := median(s.cpus)
	fmt.Fprintf(tw, "%s\t%.2f (%.2f-%.2f)\t%s\t%s\t%.2f\t%.2f\t%d\t%.2f\t%s\n", name,
		median(s.walls).Seconds(), slices.Min(s.walls).Seconds(), slices.Max(s.walls).Seconds(), ratio, floor,
		cpu.Seconds(), float64(cpu.Nanoseconds())/1e3/float64(c.rows), s.rssKB/1024, median(s.emus).Seconds(), status)
}
