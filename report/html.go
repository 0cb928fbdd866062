package report

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
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
	if title == "" {
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
}

func chartData(d *Data) charts {
	c := charts{Outcomes: d.Outcomes, Shown: timelineRowsShown, Segments: [][4]any{}, Retries: [][4]any{}, RowRetry: [][3]any{}}
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
	}
	for _, r := range d.RowRetries {
		c.RowRetry = append(c.RowRetry, [3]any{r.Time.UnixMilli(), r.Rows, r.Pass})
	}
	s := d.Series
	for i, t := range s.Times {
		c.Times = append(c.Times, t.UnixMilli())
		c.Rate = append(c.Rate, float64(s.RowsDone[i])/s.BucketSec)
		c.Conc = append(c.Conc, s.Concurrency[i])
	}
	return c
}
