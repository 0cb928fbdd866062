package report

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// EChartsVersion is the version of Apache ECharts inlined into every report
// (assets/echarts.min.js, from the npm package echarts@5.6.0; licence in
// assets/ECHARTS-LICENSE and assets/ECHARTS-NOTICE).
const EChartsVersion = "5.6.0"

//go:embed assets/echarts.min.js
var echartsJS string

//go:embed page.html.tmpl
var pageTemplate string

// Limits of what the page's charts draw (tables list everything the Data holds).
const (
	// chartGroups is how many error codes and fields the bar charts show.
	chartGroups = 25
	// timelineRowsShown is how many timeline rows are visible before scrolling.
	timelineRowsShown = 30
)

// Page is what the template renders: the Data plus how to present it.
type Page struct {
	*Data
	Title     string
	Generated time.Time
	Generator string // "sfbatch VERSION"
	LinkBase  string // path from the report's folder to the run folder ("" when the same)
	Values    bool
	ECharts   template.JS
	Charts    template.JS // chart data as a JS object literal
	EVersion  string
}

// Write renders d as one self-contained HTML page on w. generator names the program (for
// example "sfbatch v1.2.0"); linkBase is the path from the folder the page will be saved in
// to the run folder, for the links to its files ("" when the page is saved in the run
// folder).
func Write(w io.Writer, d *Data, generator, linkBase string, values bool) error {
	charts, err := json.Marshal(chartData(d))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	title := strings.TrimSpace(d.Run.Operation + " " + d.Run.Object)
	switch {
	case d.Kind == KindPlan:
		title = "plan run " + d.Run.ID
	case title == "":
		title = "run " + d.Run.ID
	}
	p := Page{Data: d, Title: title, Generated: time.Now().UTC(), Generator: generator, LinkBase: linkBase,
		Values: values, ECharts: template.JS(echartsJS), Charts: template.JS(charts), EVersion: EChartsVersion}
	t, err := template.New("page").Funcs(funcs).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteFile builds the report of the run folder dir and writes it to out (dir/FileName
// when out is ""), through a temporary file renamed into place. It returns the path.
func WriteFile(ctx context.Context, dir, out, generator string, opts Options) (string, error) {
	d, err := Build(ctx, dir, opts)
	if err != nil {
		return "", err
	}
	if d.Plan != nil {
		// The plan's page links to each step's own report.
		for _, st := range d.Plan.Steps {
			if st.Ran {
				if _, err := WriteFile(ctx, filepath.Join(dir, st.Dir), "", generator, opts); err != nil {
					return "", fmt.Errorf("report: step %s: %w", st.Dir, err)
				}
			}
		}
	}
	if out == "" {
		out = filepath.Join(dir, FileName)
	}
	link := ""
	if absOut, err1 := filepath.Abs(filepath.Dir(out)); err1 == nil {
		if absDir, err2 := filepath.Abs(dir); err2 == nil && absOut != absDir {
			if rel, err := filepath.Rel(absOut, absDir); err == nil {
				link = filepath.ToSlash(rel) + "/"
			}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, d, generator, link, opts.Values); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	os.Chmod(tmp.Name(), 0o644)
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return out, nil
}

var funcs = template.FuncMap{
	"num": func(n any) string {
		switch v := n.(type) {
		case int:
			return formatInt(int64(v))
		case int64:
			return formatInt(v)
		}
		return fmt.Sprint(n)
	},
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "unknown"
		}
		return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
	},
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return "unknown"
		}
		return d.Round(time.Millisecond).String()
	},
	"ms": func(p *int64) string {
		if p == nil {
			return ""
		}
		return formatInt(*p)
	},
	"jobms": func(j Job) int64 { return j.End().Sub(j.Start()).Milliseconds() },
	"pct": func(n, of int64) string {
		if of == 0 {
			return ""
		}
		return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
	},
	"outcomeLabel": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"failedRows": func(d *Data) int64 {
		var n int64
		for _, o := range d.Outcomes {
			if o.Name != "succeeded" {
				n += o.Rows
			}
		}
		return n
	},
	"base": path.Base,
	"throttleWait": func(cs []Cause) float64 {
		var sec float64
		for _, c := range cs {
			if isThrottle(c.Cause) {
				sec += c.WaitSec
			}
		}
		return sec
	},
	"usageSpent": func(us []UsagePoint) int64 {
		if len(us) < 2 {
			return 0
		}
		return us[len(us)-1].Used - us[0].Used
	},
	"hasTimes": func(jobs []Job) bool {
		for _, j := range jobs {
			if j.TotalProcessingMs != nil {
				return true
			}
		}
		return false
	},
	"retriedRows": func(rr []RowRetry) int64 {
		var n int64
		for _, r := range rr {
			n += r.Rows
		}
		return n
	},
	"sumCauses": func(cs []Cause) int64 {
		var n int64
		for _, c := range cs {
			n += c.Count
		}
		return n
	},
	"deref": func(p *int) string {
		if p == nil {
			return "unknown"
		}
		return strconv.Itoa(*p)
	},
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// formatInt writes n with thousands separators.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// charts is the data the page's scripts draw, in compact arrays: times are milliseconds
// since the epoch.
type charts struct {
	Outcomes []Count   `json:"outcomes"`
	Codes    []Count   `json:"codes"`
	Fields   []Count   `json:"fields"`
	Labels   []string  `json:"labels"`   // timeline rows
	Segments [][4]any  `json:"segments"` // [row, start, end, state]
	Retries  [][4]any  `json:"retries"`  // [time, row (-1: not a job's), cause, wait ms]
	RowRetry [][3]any  `json:"row_retries"`
	Times    []int64   `json:"times"`
	Rate     []float64 `json:"rate"` // rows per second
	Conc     []int     `json:"concurrency"`
	Shown    int       `json:"shown"`
	Waits    [][5]any  `json:"waits"`      // [row, start, end, kind, label]: throttling and lock waits
	Usage    [][3]any  `json:"usage"`      // [time, used, max]
	Limits   [][4]any  `json:"limits"`     // [time, api, to, cause]: concurrency changes
	Times2   [][5]any  `json:"processing"` // [label, sfbatch ms, total, api active, apex]
	Graph    *graph    `json:"graph,omitempty"`
}

// graph is a plan's object graph for an ECharts graph series.
type graph struct {
	Nodes []graphNode `json:"nodes"`
	Links []graphLink `json:"links"`
}

type graphNode struct {
	Name     string  `json:"name"`
	X        float64 `json:"x"`
	Y        float64 `json:"y"`
	Rows     int64   `json:"rows"`
	Outcomes []Count `json:"outcomes"`
	NotSet   int64   `json:"not_set"`
	Bad      float64 `json:"bad"`  // share of rows not succeeded, 0..1
	Self     string  `json:"self"` // "pass 1", "pass 2" for an object with a lookup to itself
}

type graphLink struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	Deferred bool   `json:"deferred"`
}

// maxProcessingBars caps the jobs the processing-time chart draws (the table lists all).
const maxProcessingBars = 60

// isThrottle reports whether a request retry cause is Salesforce throttling.
func isThrottle(cause string) bool {
	return strings.HasPrefix(cause, "429") || strings.HasPrefix(cause, "503") || strings.Contains(cause, "REQUEST_LIMIT_EXCEEDED")
}

// planGraph lays the plan's objects out in columns: an object is one column right of the
// objects its lookups (not deferred) point at, so parents stand left of their children.
func planGraph(p *Plan) *graph {
	level := map[string]int{}
	for range p.Nodes { // relax: at most one pass per node
		changed := false
		for _, e := range p.Edges {
			if e.Deferred || e.From == e.To {
				continue
			}
			if l := level[e.To] + 1; l > level[e.From] {
				level[e.From], changed = l, true
			}
		}
		if !changed {
			break
		}
	}
	row := map[int]int{}
	g := &graph{Nodes: []graphNode{}, Links: []graphLink{}}
	for _, n := range p.Nodes {
		l := level[n.Object]
		// Columns 200 apart, rows 110 apart, every other column a little lower so that
		// an edge does not pass through the nodes of the columns between.
		gn := graphNode{Name: n.Object, X: float64(l) * 200, Y: float64(row[l])*110 + float64(l%2)*40, Rows: n.Rows, Outcomes: n.Outcomes, NotSet: n.LookupsNotSet}
		row[l]++
		var ok int64
		for _, o := range n.Outcomes {
			if o.Name == "succeeded" {
				ok = o.Rows
			}
		}
		if n.Rows > 0 {
			gn.Bad = float64(n.Rows-ok) / float64(n.Rows)
		}
		g.Nodes = append(g.Nodes, gn)
	}
	for _, e := range p.Edges {
		if e.From == e.To {
			// ECharts draws no loop: the node says it.
			for i := range g.Nodes {
				if g.Nodes[i].Name == e.From {
					g.Nodes[i].Self = "pass 1"
					if e.Deferred {
						g.Nodes[i].Self = "pass 2"
					}
				}
			}
			continue
		}
		g.Links = append(g.Links, graphLink{Source: e.From, Target: e.To, Deferred: e.Deferred})
	}
	return g
}

func chartData(d *Data) charts {
	c := charts{Outcomes: d.Outcomes, Shown: timelineRowsShown, Segments: [][4]any{}, Retries: [][4]any{}, RowRetry: [][3]any{},
		Waits: [][5]any{}, Usage: [][3]any{}, Limits: [][4]any{}, Times2: [][5]any{},
		Codes: []Count{}, Fields: []Count{}, Labels: []string{}, Times: []int64{}, Rate: []float64{}, Conc: []int{}}
	if c.Outcomes == nil {
		c.Outcomes = []Count{}
	}
	if d.Plan != nil {
		c.Graph = planGraph(d.Plan)
	}
	for _, u := range d.UsageSeries {
		c.Usage = append(c.Usage, [3]any{u.Time.UnixMilli(), u.Used, u.Max})
	}
	for _, l := range d.ConcurrencyChanges {
		c.Limits = append(c.Limits, [4]any{l.Time.UnixMilli(), l.API, l.To, l.Cause})
	}
	for i, g := range d.ByCode {
		if i == chartGroups {
			break
		}
		c.Codes = append(c.Codes, Count{Name: g.Name, Rows: g.Rows})
	}
	for i, g := range d.ByField {
		if i == chartGroups {
			break
		}
		c.Fields = append(c.Fields, Count{Name: g.Name, Rows: g.Rows})
	}
	row := map[string]int{}
	for i, j := range d.Jobs {
		label := j.ID
		if j.Batch != "" {
			label += " / " + j.Batch
		}
		if j.Pass > 0 {
			label += fmt.Sprintf(" (retry %d)", j.Pass)
		}
		c.Labels = append(c.Labels, label)
		if j.Batch == "" {
			row[j.ID] = i
		}
		for k, s := range j.States {
			end := s.Time
			if k+1 < len(j.States) {
				end = j.States[k+1].Time
			} else if len(j.States) > 1 {
				continue // the final state is the end of the bar
			}
			c.Segments = append(c.Segments, [4]any{i, s.Time.UnixMilli(), end.UnixMilli(), s.State})
		}
	}
	for _, r := range d.Retries {
		y, ok := row[r.Job]
		if !ok {
			y = -1
		}
		c.Retries = append(c.Retries, [4]any{r.Time.UnixMilli(), y, r.Cause, r.WaitMs})
		if r.WaitMs > 0 {
			kind := "network"
			if isThrottle(r.Cause) {
				kind = "throttled"
			}
			end := r.Time.Add(time.Duration(r.WaitMs * float64(time.Millisecond)))
			c.Waits = append(c.Waits, [5]any{y, r.Time.UnixMilli(), end.UnixMilli(), kind, r.Cause})
		}
	}
	for _, r := range d.RowRetries {
		c.RowRetry = append(c.RowRetry, [3]any{r.Time.UnixMilli(), r.Rows, r.Pass})
		if r.WaitMs > 0 {
			end := r.Time.Add(time.Duration(r.WaitMs * float64(time.Millisecond)))
			c.Waits = append(c.Waits, [5]any{-1, r.Time.UnixMilli(), end.UnixMilli(), "lock",
				fmt.Sprintf("retry pass %d: %d rows", r.Pass, r.Rows)})
		}
	}
	for _, j := range d.Jobs {
		if j.TotalProcessingMs == nil || len(c.Times2) == maxProcessingBars {
			continue
		}
		label := j.ID
		if j.Batch != "" {
			label = j.Batch
		}
		c.Times2 = append(c.Times2, [5]any{label, j.End().Sub(j.Start()).Milliseconds(), *j.TotalProcessingMs,
			deref(j.APIActiveProcessingMs), deref(j.ApexProcessingMs)})
	}
	s := d.Series
	for i, t := range s.Times {
		c.Times = append(c.Times, t.UnixMilli())
		c.Rate = append(c.Rate, float64(s.RowsDone[i])/s.BucketSec)
		c.Conc = append(c.Conc, s.Concurrency[i])
	}
	return c
}
