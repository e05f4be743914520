package sdk

import (
	"errors"
	"net/url"
	"strings"
)

// Scrubber masks secrets in text; [redact.Redactor] is one.
type Scrubber interface{ String(string) string }

// KeyScrubber is a Scrubber that also knows which names hold secrets: a
// value under such a name (a "password" column or key) is masked whole.
// [redact.Redactor] is one.
type KeyScrubber interface {
	Scrubber
	Value(key, v string) string
}

// JSONScrubber is a Scrubber that masks a JSON document's values under
// sensitive keys at any depth. [redact.Redactor] is one.
type JSONScrubber interface {
	Scrubber
	JSON([]byte) []byte
}

// BodyScrubber is a Scrubber that masks a request body by its form: a
// JSON document by key, a form by field. [redact.Redactor] is one.
type BodyScrubber interface {
	Scrubber
	Body(b []byte, contentType string) string
}

// value masks v, by its key too when s knows names.
func value(s Scrubber, key, v string) string {
	if ks, ok := s.(KeyScrubber); ok {
		return ks.Value(key, v)
	}
	return s.String(v)
}

// Scrub masks secrets in every field of the result: part titles, text,
// keys and values, columns and cells, file names and contents, and every
// diagnostic. With a [KeyScrubber], values under a sensitive key or column
// are masked whole. It changes r in place and returns it.
func (r *Result) Scrub(s Scrubber) *Result {
	if r == nil {
		return nil
	}
	for i := range r.Parts {
		p := &r.Parts[i]
		p.Title = s.String(p.Title)
		if p.Text != nil {
			p.Text.Body = s.String(p.Text.Body)
		}
		for j := range p.KeyValues {
			kv := &p.KeyValues[j]
			kv.Key, kv.Value = s.String(kv.Key), value(s, kv.Key, kv.Value)
		}
		if t := p.Table; t != nil {
			for _, row := range t.Rows {
				for c := range row {
					col := ""
					if c < len(t.Columns) {
						col = t.Columns[c]
					}
					row[c] = value(s, col, row[c])
				}
			}
			for c := range t.Columns {
				t.Columns[c] = s.String(t.Columns[c])
			}
		}
		if f := p.File; f != nil {
			f.Name = s.String(f.Name)
			js, isJS := s.(JSONScrubber)
			if isJS && strings.HasPrefix(f.MediaType, "application/json") {
				f.Content = js.JSON(f.Content)
			} else {
				f.Content = []byte(s.String(string(f.Content)))
			}
			f.MediaType = s.String(f.MediaType)
		}
	}
	r.Diagnostics.Scrub(s)
	return r
}

// Scrub masks secrets in every diagnostic's summary, detail and attribute.
func (ds Diagnostics) Scrub(s Scrubber) Diagnostics {
	for i := range ds {
		ds[i].Summary = s.String(ds[i].Summary)
		ds[i].Detail = s.String(ds[i].Detail)
		ds[i].Attribute = s.String(ds[i].Attribute)
	}
	return ds
}

// Scrub returns the progress with secrets masked in its message and state.
func (p Progress) Scrub(s Scrubber) Progress {
	p.Message = s.String(p.Message)
	p.State = s.String(p.State)
	return p
}

// Scrub masks secrets in the plan's summary and in every step; a JSON or
// form body is masked by key too when s is a [BodyScrubber] (a JSON one
// when s is a [JSONScrubber]). It changes p in place
// and returns it.
func (p *Plan) Scrub(s Scrubber) *Plan {
	if p == nil {
		return nil
	}
	p.Summary = s.String(p.Summary)
	for i := range p.Steps {
		st := &p.Steps[i]
		st.Description = s.String(st.Description)
		st.Method = s.String(st.Method)
		st.Endpoint = s.String(st.Endpoint)
		// A step's body has no content type: a BodyScrubber tells JSON
		// and a form from what they look like.
		if bs, ok := s.(BodyScrubber); ok && st.Body != "" {
			st.Body = bs.Body([]byte(st.Body), "")
		} else if js, ok := s.(JSONScrubber); ok && st.Body != "" {
			st.Body = string(js.JSON([]byte(st.Body)))
		} else {
			st.Body = s.String(st.Body)
		}
	}
	for i := range p.Facts {
		p.Facts[i] = s.String(p.Facts[i])
	}
	p.Resource = s.String(p.Resource)
	return p
}

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
