package probe

import (
	"fmt"
	"regexp"
	"strings"
)

// Patterns are how file contents, command output and HTTP bodies are matched, in goss's
// notation so that goss files carry over unchanged:
//
//   - `text` must appear somewhere (a plain substring);
//   - `/regexp/` must match (RE2 syntax, `^` and `$` match at line ends);
//   - a leading `!` inverts either: `!text`, `!/regexp/` must NOT appear;
//   - `\!` at the start is a literal `!`.
type pattern struct {
	raw    string
	negate bool
	text   string
	re     *regexp.Regexp
}

func parsePattern(s string) (pattern, error) {
	p := pattern{raw: s}
	switch {
	case strings.HasPrefix(s, `\!`):
		s = s[1:]
	case strings.HasPrefix(s, "!"):
		p.negate = true
		s = s[1:]
	}
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile("(?m)" + s[1:len(s)-1])
		if err != nil {
			return p, fmt.Errorf("%q is not a valid regular expression: %v", s, err)
		}
		p.re = re
		return p, nil
	}
	if s == "" {
		return p, fmt.Errorf("%q: an empty pattern matches everything", p.raw)
	}
	p.text = s
	return p, nil
}

func (p pattern) found(in string) bool {
	if p.re != nil {
		return p.re.MatchString(in)
	}
	return strings.Contains(in, p.text)
}

// validatePatterns checks every pattern of the attribute.
func validatePatterns(attr string, list []string) []error {
	var errs []error
	for _, s := range list {
		if _, err := parsePattern(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", attr, err))
		}
	}
	return errs
}

// unmatched returns the patterns that text does not satisfy: a positive pattern not found, or a
// negated one found. The patterns were validated beforehand.
func unmatched(list []string, text string) []string {
	var bad []string
	for _, s := range list {
		p, err := parsePattern(s)
		if err != nil || p.found(text) == p.negate {
			bad = append(bad, s)
		}
	}
	return bad
}

// quoteList renders patterns for messages.
func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// excerpt keeps evidence short: the first lines of text, at most n bytes.
func excerpt(text string, n int) string {
	text = strings.TrimRight(text, "\n")
	if len(text) <= n {
		return text
	}
	return text[:n] + "\n... (" + fmt.Sprint(len(text)-n) + " more bytes)"
}
