package console

import (
	"image"
	colour "image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// DocShots are the screenshots of docs/console.md: the browser test's
// screenshot each is taken from (TestBrowser writes them when
// $CONSOLE_DOC_SCREENSHOTS names the folder, docs/console).
var DocShots = map[string]string{
	"jobs.png": "10-jobs", "connections.png": "04-connections", "job-edit.png": "05-job-edit", "job-history.png": "06-job-history",
	"run.png": "07-run", "alerts.png": "09-alerts", "job-failed.png": "08-job-failed",
}

// cssColors reads the custom properties (--name: #rrggbb) of style.css.
func cssColors(t testing.TB) map[string]colour.RGBA {
	t.Helper()
	b, err := webFS.ReadFile("web/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]colour.RGBA{}
	for _, m := range regexp.MustCompile(`--([a-z-]+): #([0-9a-fA-F]{6})`).FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseUint(m[2], 16, 32)
		out[m[1]] = colour.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
	}
	return out
}

// hue is the hue of c in degrees.
func hue(c colour.RGBA) float64 {
	r, g, b := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255
	mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	d := mx - mn
	var h float64
	switch {
	case d == 0:
		return 0
	case mx == r:
		h = math.Mod((g-b)/d, 6)
	case mx == g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h
}

// TestStatusColours: the statuses are told apart at a glance — amber for
// a run that skipped tables or was cancelled, red for a failure — in the
// stylesheet and in the screenshots of the docs.
func TestStatusColours(t *testing.T) {
	css := cssColors(t)
	b, _ := webFS.ReadFile("web/static/style.css")
	for class, v := range map[string]string{"ok": "--ok", "partial": "--warn", "failed": "--bad", "running": "--run"} {
		if !regexp.MustCompile(`\.dot\.` + class + ` \{ background: var\(` + v + `\)`).Match(b) {
			t.Errorf("style.css: .dot.%s is not var(%s)", class, v)
		}
	}
	if h := hue(css["warn"]); h < 30 || h > 50 {
		t.Errorf("--warn %v has hue %.0f°: not amber", css["warn"], h)
	}
	if h := hue(css["bad"]); h > 12 && h < 348 {
		t.Errorf("--bad %v has hue %.0f°: not red", css["bad"], h)
	}
	if h := hue(css["ok"]); h < 100 || h > 160 {
		t.Errorf("--ok %v has hue %.0f°: not green", css["ok"], h)
	}
	// The docs' screenshots: small, and the jobs page's legend keeps each
	// status colour (a palette too small once turned amber into red).
	dir := filepath.Join("..", "..", "docs", "console")
	for name := range DocShots {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("docs screenshot %s: %v", name, err)
			continue
		}
		if st.Size() > 120<<10 {
			t.Errorf("%s is %d KiB: keep the docs' screenshots under 120 KiB", name, st.Size()>>10)
		}
	}
	img := decodePNG(t, filepath.Join(dir, "jobs.png"))
	for _, v := range []string{"ok", "warn", "bad", "never"} {
		if !hasColour(img, css[v], 6) {
			t.Errorf("docs/console/jobs.png has no pixel of --%s %v", v, css[v])
		}
	}
}

func decodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func hasColour(img image.Image, want colour.RGBA, tol int) bool {
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if near(colour.RGBAModel.Convert(img.At(x, y)).(colour.RGBA), want, tol) {
				return true
			}
		}
	}
	return false
}

func near(a, b colour.RGBA, tol int) bool {
	d := func(x, y uint8) int { return int(max(x, y) - min(x, y)) }
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

// WriteDocShot writes img as a small paletted PNG: the 256 most frequent
// colours, the stylesheet's own colours always among them (so a status
// dot keeps its colour), each pixel mapped to the nearest, no dithering.
func WriteDocShot(t testing.TB, img image.Image, path string) {
	t.Helper()
	bd := img.Bounds()
	counts := map[colour.RGBA]int{}
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			counts[colour.RGBAModel.Convert(img.At(x, y)).(colour.RGBA)]++
		}
	}
	var pal colour.Palette
	seen := map[colour.RGBA]bool{}
	add := func(c colour.RGBA) {
		if !seen[c] && len(pal) < docPalette {
			seen[c] = true
			pal = append(pal, c)
		}
	}
	var names []string
	css := cssColors(t)
	for n := range css {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(css[n])
	}
	byCount := make([]colour.RGBA, 0, len(counts))
	for c := range counts {
		byCount = append(byCount, c)
	}
	sort.Slice(byCount, func(i, j int) bool {
		if counts[byCount[i]] != counts[byCount[j]] {
			return counts[byCount[i]] > counts[byCount[j]]
		}
		a, b := byCount[i], byCount[j]
		return uint32(a.R)<<16|uint32(a.G)<<8|uint32(a.B) < uint32(b.R)<<16|uint32(b.G)<<8|uint32(b.B)
	})
	for _, c := range byCount {
		add(c)
	}
	out := image.NewPaletted(bd, pal)
	index := map[colour.RGBA]uint8{}
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := colour.RGBAModel.Convert(img.At(x, y)).(colour.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".png") {
		t.Fatalf("%s: not a .png", path)
	}
}

// docPalette is the number of colours of the docs' screenshots.
const docPalette = 128
