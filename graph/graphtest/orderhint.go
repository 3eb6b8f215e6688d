package graphtest

import "strings"

// Order hints (learn.microsoft.com/graph/api/resources/planner-order-hint-format).
//
// Values sort by ordinal comparison. A client places an item with
// "<previous> <next>!", where either side may be empty and may itself be such a
// composed value. The service rewrites the value to a short one that sorts
// between the two neighbours. Sending a service value back verbatim is a 400.
//
// The emulator's own values use the characters '"' (34) … '~' (126): never a
// space or '!', so a composed value parses unambiguously, and never ending
// with '"', so there is always room before a value.

const (
	hintLo     = '"'
	hintHi     = '~'
	maxHintLen = 512
)

// resolveHint turns a client-supplied hint into the value the service stores.
func resolveHint(in string) (string, bool) {
	if in == "" || len(in) > maxHintLen || in[len(in)-1] != '!' {
		return "", false
	}
	for i := 0; i < len(in); i++ {
		if in[i] < 32 || in[i] > 126 {
			return "", false
		}
	}
	p := hintParser{s: in, memo: map[[2]int]hintResult{}}
	r := p.composed(0, len(in))
	if !r.ok {
		return "", false
	}
	return r.v, true
}

type hintResult struct {
	v     string
	ok    bool
	empty bool // the empty string: no neighbour on that side
}

type hintParser struct {
	s    string
	memo map[[2]int]hintResult
}

// plain reports whether s[i:j] is a bare value (no space, no '!').
func (p *hintParser) plain(i, j int) bool {
	if i >= j {
		return false
	}
	for k := i; k < j; k++ {
		if p.s[k] == ' ' || p.s[k] == '!' {
			return false
		}
	}
	return true
}

// operand parses s[i:j] as one side of a composed value.
func (p *hintParser) operand(i, j int) hintResult {
	if i == j {
		return hintResult{ok: true, empty: true}
	}
	if p.plain(i, j) {
		return hintResult{v: p.s[i:j], ok: true}
	}
	if p.s[j-1] == '!' {
		return p.composed(i, j)
	}
	return hintResult{}
}

// composed parses s[i:j] = prev " " next "!" and returns its resolved value.
func (p *hintParser) composed(i, j int) hintResult {
	key := [2]int{i, j}
	if r, ok := p.memo[key]; ok {
		return r
	}
	p.memo[key] = hintResult{} // guards against cycles
	var res hintResult
	if j-i == 1 && p.s[i] == '!' {
		// "!" alone: the documented shorthand for the first item of an empty list.
		v, _ := midpoint("", "", true)
		res = hintResult{v: v, ok: true}
	} else if j-i >= 2 && p.s[j-1] == '!' {
		body := j - 1
		for k := i; k < body; k++ {
			if p.s[k] != ' ' {
				continue
			}
			l := p.operand(i, k)
			if !l.ok {
				continue
			}
			r := p.operand(k+1, body)
			if !r.ok {
				continue
			}
			lo := ""
			if !l.empty {
				lo = l.v
			}
			v, ok := midpoint(lo, r.v, r.empty)
			if ok {
				res = hintResult{v: v, ok: true}
				break
			}
		}
	}
	p.memo[key] = res
	return res
}

// midpoint returns a short string s with a < s < b (b ignored when bInf),
// made of the characters hintLo..hintHi and not ending with hintLo.
func midpoint(a, b string, bInf bool) (string, bool) {
	if !bInf && a >= b {
		return "", false
	}
	var prefix strings.Builder
	for {
		if !bInf {
			// Common prefix, reading a missing digit of a as the zero digit.
			n := 0
			for n < len(b) {
				c := byte(hintLo)
				if n < len(a) {
					c = a[n]
				}
				if c != b[n] {
					break
				}
				n++
			}
			if n == len(b) {
				return "", false // b is a prefix of a padded with zero digits: nothing fits
			}
			if n > 0 {
				prefix.WriteString(b[:n])
				if n < len(a) {
					a = a[n:]
				} else {
					a = ""
				}
				b = b[n:]
			}
		}
		da := int(hintLo)
		if len(a) > 0 {
			da = int(a[0])
		}
		db := int(hintHi) + 1
		if !bInf {
			db = int(b[0])
		}
		if da < hintLo || da > hintHi || (!bInf && (db < hintLo || db > hintHi)) || da >= db {
			return "", false
		}
		if db-da > 1 {
			prefix.WriteByte(byte((da + db) / 2))
			return prefix.String(), true
		}
		// Adjacent digits.
		if !bInf && len(b) > 1 {
			prefix.WriteByte(b[0])
			return prefix.String(), true
		}
		prefix.WriteByte(byte(da))
		if len(a) > 0 {
			a = a[1:]
		}
		bInf, b = true, ""
	}
}

// hintBefore returns a value sorting before first ("" = empty list).
func hintBefore(first string) string {
	if first == "" {
		v, _ := midpoint("", "", true)
		return v
	}
	if v, ok := midpoint("", first, false); ok {
		return v
	}
	v, _ := midpoint("", "", true)
	return v
}

// hintAfter returns a value sorting after last ("" = empty list).
func hintAfter(last string) string {
	v, _ := midpoint(last, "", true)
	return v
}

// spreadHints returns n increasing values spread evenly over the hint space.
func spreadHints(n int) []string {
	const base = int(hintHi - hintLo + 1)
	w, space := 1, base
	for space < 4*(n+1) {
		w++
		space *= base
	}
	out := make([]string, n)
	buf := make([]byte, w)
	for i := 0; i < n; i++ {
		v := (i + 1) * space / (n + 1)
		for k := w - 1; k >= 0; k-- {
			buf[k] = byte(int(hintLo) + v%base)
			v /= base
		}
		end := w
		for end > 1 && buf[end-1] == hintLo {
			end--
		}
		out[i] = string(buf[:end])
	}
	return out
}
