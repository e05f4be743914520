package sdk

import (
	"errors"
	"net/url"
)

// Scrubber masks secrets in text; [redact.Redactor] is one.
type Scrubber interface{ String(string) string }

// SensitiveValues returns what a request gives for its sensitive
// parameters, each as typed and as it travels URL-encoded, for a redactor
// to mask: a value no key-name rule would catch (a private key passed as
// "key") must still never come back in a plan, a result or an error.
// Values under four characters are left out: masking them would garble
// ordinary text.
func SensitiveValues(params []Param, a Args) []string {
	var out []string
	for _, p := range params {
		if !p.Sensitive {
			continue
		}
		var vs []string
		switch v := a[p.Name].(type) {
		case string:
			vs = []string{v}
		case []string:
			vs = v
		}
		for _, v := range vs {
			if len(v) >= 4 {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	return out
}

// ScrubError returns err with secrets masked in its text; an argument
// error stays one, so the bot still points at the parameter.
func ScrubError(s Scrubber, err error) error {
	msg := err.Error()
	clean := s.String(msg)
	if clean == msg {
		return err
	}
	var ae *ArgError
	if errors.As(err, &ae) {
		return BadArg(ae.Param, "%s", s.String(ae.Msg))
	}
	return errors.New(clean)
}
