package graphtest

import (
	mrand "math/rand/v2"
	"sort"
	"strings"
	"testing"
)

func TestMidpointProperties(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	randHint := func() string {
		n := 1 + rng.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(hintLo + rng.IntN(hintHi-hintLo+1))
		}
		if b[n-1] == hintLo {
			b[n-1]++
		}
		return string(b)
	}
	for i := 0; i < 20000; i++ {
		a, b := randHint(), randHint()
		if a > b {
			a, b = b, a
		}
		if rng.IntN(10) == 0 {
			a = ""
		}
		m, ok := midpoint(a, b, false)
		if a == b {
			if ok {
				t.Fatalf("midpoint(%q, %q) = %q for equal bounds", a, b, m)
			}
			continue
		}
		if !ok {
			// Only impossible when b is a followed by zero digits.
			if strings.TrimRight(b, string(rune(hintLo))) != a {
				t.Fatalf("midpoint(%q, %q) failed", a, b)
			}
			continue
		}
		if !(a < m && m < b) || m[len(m)-1] == hintLo || strings.ContainsAny(m, " !") {
			t.Fatalf("midpoint(%q, %q) = %q", a, b, m)
		}
		after, _ := midpoint(a, "", true)
		if !(after > a) {
			t.Fatalf("after(%q) = %q", a, after)
		}
	}
}

func TestRepeatedInsertsStayShortAndOrdered(t *testing.T) {
	// Insert 200 items, always between the first two: hints grow slowly.
	list := []string{hintBefore(""), hintAfter(hintBefore(""))}
	for i := 0; i < 200; i++ {
		h, ok := resolveHint(list[0] + " " + list[1] + "!")
		if !ok {
			t.Fatalf("insert %d failed between %q and %q", i, list[0], list[1])
		}
		list = append([]string{list[0], h}, list[1:]...)
	}
	if !sort.StringsAreSorted(list) {
		t.Fatal("hints out of order")
	}
	if n := len(list[1]); n > 40 {
		t.Errorf("hint grew to %d characters after 200 inserts at one spot", n)
	}
}

func TestResolveHint(t *testing.T) {
	// The documentation's examples: each composed value sorts where intended.
	item1, item2 := "5637", "adhg"
	cases := []struct {
		in       string
		lo, hi   string // expected strict bounds ("" = none)
		wantFail bool
	}{
		{in: " !"},
		{in: "!"},
		{in: " " + item1 + "!", hi: item1},
		{in: item1 + " " + item2 + "!", lo: item1, hi: item2},
		{in: item2 + " !", lo: item2},
		{in: item2 + " ! !", lo: item2},
		{in: " " + item1 + "! " + item1 + " " + item2 + "!!", lo: mustResolve(" " + item1 + "!"), hi: mustResolve(item1 + " " + item2 + "!")},
		{in: "  !!"},
		{in: " ! !"},
		{in: item1, wantFail: true}, // a service value sent back verbatim
		{in: item2 + " " + item1 + "!", wantFail: true}, // neighbours reversed
		{in: "a\tb !", wantFail: true},
		{in: "", wantFail: true},
		{in: strings.Repeat("a", 600) + " !", wantFail: true},
		{in: "x y z!", wantFail: true},
	}
	for _, tc := range cases {
		got, ok := resolveHint(tc.in)
		if ok == tc.wantFail {
			t.Errorf("resolveHint(%q) ok=%v", tc.in, ok)
			continue
		}
		if !ok {
			continue
		}
		if (tc.lo != "" && !(got > tc.lo)) || (tc.hi != "" && !(got < tc.hi)) {
			t.Errorf("resolveHint(%q) = %q, want between %q and %q", tc.in, got, tc.lo, tc.hi)
		}
		if strings.ContainsAny(got, " !") || len(got) > 6 {
			t.Errorf("resolveHint(%q) = %q is not a short service value", tc.in, got)
		}
	}
	// The documented sequence keeps the intended order.
	h3, _ := resolveHint(" " + item1 + "!")
	h4, _ := resolveHint(item1 + " " + item2 + "!")
	h5, _ := resolveHint(item2 + " !")
	order := []string{h3, item1, h4, item2, h5}
	if !sort.StringsAreSorted(order) {
		t.Errorf("documented example out of order: %q", order)
	}
}

func mustResolve(s string) string {
	h, ok := resolveHint(s)
	if !ok {
		panic("bad hint " + s)
	}
	return h
}

func TestSpreadHints(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 93, 1000, 9000} {
		h := spreadHints(n)
		if len(h) != n || !sort.StringsAreSorted(h) {
			t.Fatalf("spreadHints(%d) not sorted", n)
		}
		for i, v := range h {
			if i > 0 && h[i-1] == v {
				t.Fatalf("spreadHints(%d) has duplicates", n)
			}
			if v[len(v)-1] == hintLo || strings.ContainsAny(v, " !") {
				t.Fatalf("spreadHints(%d)[%d] = %q", n, i, v)
			}
		}
	}
}

func TestEtagOrderAndParsing(t *testing.T) {
	prev := ""
	for _, v := range []uint64{1, 2, 51, 52, 53, 2703, 1 << 20, 1 << 40} {
		e := etagString(kindTask, v)
		if !(e > prev) {
			t.Errorf("etag for %d (%s) not greater than %s", v, e, prev)
		}
		prev = e
		inner, ok := parseIfMatch(e, kindTask)
		if !ok || inner != etagValue(kindTask, v) {
			t.Errorf("parseIfMatch(%s) = %q %v", e, inner, ok)
		}
		if _, ok := parseIfMatch(e, kindTaskDetails); ok {
			t.Errorf("a task etag parsed as a details etag")
		}
	}
	for _, bad := range []string{"", "*", `W/"`, `"abc"`, `W/"!!!!"`, `W/"YWJj"`} {
		if _, ok := parseIfMatch(bad, kindTask); ok {
			t.Errorf("parseIfMatch(%q) accepted", bad)
		}
	}
	// Planner's own documented etag is well-formed (and simply stale here).
	if _, ok := parseIfMatch(`W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="`, kindTask); !ok {
		t.Error("the documented etag example is rejected as malformed")
	}
}

func TestReferenceKeys(t *testing.T) {
	good := []string{
		EncodeReferenceKey("https://contoso.sharepoint.com/teams/agile/documents/AnnualReport.pptx"),
		"https%3A//contoso%2Esharepoint%2Ecom/teams/agile/documents/AnnualReport%2Epptx",
		EncodeReferenceKey("http://example.com/100%25/x?a=b#frag"),
	}
	for _, k := range good {
		if !validReferenceKey(k) {
			t.Errorf("%q rejected", k)
		}
	}
	bad := []string{"https://example.com/x", "https%3A//example.com", "mailto%3Aa%40b%2Ec", "https%3A//exa%2", "", "%2E%2E"}
	for _, k := range bad {
		if validReferenceKey(k) {
			t.Errorf("%q accepted", k)
		}
	}
	if got := EncodeReferenceKey("https://a.b/c%20d@e#f"); got != "https%3A//a%2Eb/c%2520d%40e%23f" {
		t.Errorf("EncodeReferenceKey = %q", got)
	}
}
