package sdk

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a diagnostic is an error or a warning.
type Severity int

const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic reports a domain failure or a warning: a bad argument, a
// provider that said no. Transport failures are Go errors instead.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	// Attribute names the parameter this is about, if any.
	Attribute string
	// Code classifies a refusal the bot acts on (CodeWorkChanged); most
	// diagnostics have none.
	Code string
}

// CodeWorkChanged marks the refusal of a command whose work now differs
// from the plan that was approved: nothing was run.
const CodeWorkChanged = "work_changed"

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(": ")
		b.WriteString(d.Detail)
	}
	return b.String()
}

// Diagnostics is a list of diagnostics.
type Diagnostics []Diagnostic

// HasError reports whether any diagnostic is an error.
func (ds Diagnostics) HasError() bool {
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Code returns the first diagnostic with code, or nil.
func (ds Diagnostics) Code(code string) *Diagnostic {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

// Err returns the errors as one Go error, or nil if there are none.
func (ds Diagnostics) Err() error {
	var msgs []string
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

// Errorf returns a one-element error diagnostic list.
func Errorf(format string, args ...any) Diagnostics {
	return Diagnostics{{Severity: SeverityError, Summary: fmt.Sprintf(format, args...)}}
}

// ArgError is an error about one argument. Returned from a handler, it
// becomes a diagnostic whose Attribute names the parameter.
type ArgError struct {
	Param string
	Msg   string
}

func (e *ArgError) Error() string { return e.Param + ": " + e.Msg }

// BadArg returns an [ArgError].
func BadArg(param, format string, args ...any) error {
	return &ArgError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// DiagnosticsFromError turns an error returned by a handler into diagnostics.
func DiagnosticsFromError(err error) Diagnostics {
	if err == nil {
		return nil
	}
	var ae *ArgError
	if errors.As(err, &ae) {
		return Diagnostics{{Severity: SeverityError, Summary: ae.Msg, Attribute: ae.Param}}
	}
	return Diagnostics{{Severity: SeverityError, Summary: err.Error()}}
}

// TextFormat says how a text part is shown.
type TextFormat int

const (
	FormatPlain TextFormat = iota + 1
	FormatMarkdown
	FormatCode
)

// Text is free text.
type Text struct {
	Body   string
	Format TextFormat
}

// KeyValue is one labelled value.
type KeyValue struct {
	Key   string
	Value string
}

// Table is a list of rows under named columns.
type Table struct {
	Columns []string
	Rows    [][]string
}

// File is content too big or too structured for a message.
type File struct {
	Name      string
	MediaType string
	Content   []byte
}

// Part is one piece of a result. Exactly one of Text, KeyValues, Table and
// File is set.
type Part struct {
	Title     string
	Text      *Text
	KeyValues []KeyValue
	Table     *Table
	File      *File
}

// Result is what a command produced.
type Result struct {
	Parts       []Part
	Diagnostics Diagnostics
	// Sensitive results are shown to the requester only.
	Sensitive bool
}

// NewResult starts an empty result.
func NewResult() *Result { return &Result{} }

// Failed reports whether the result carries an error diagnostic.
func (r *Result) Failed() bool { return r != nil && r.Diagnostics.HasError() }

// AddText appends a plain text part.
func (r *Result) AddText(format string, args ...any) *Result {
	r.Parts = append(r.Parts, Part{Text: &Text{Body: fmt.Sprintf(format, args...), Format: FormatPlain}})
	return r
}

// AddMarkdown appends a markdown text part.
func (r *Result) AddMarkdown(body string) *Result {
	r.Parts = append(r.Parts, Part{Text: &Text{Body: body, Format: FormatMarkdown}})
	return r
}

// AddCode appends a preformatted block.
func (r *Result) AddCode(title, body string) *Result {
	r.Parts = append(r.Parts, Part{Title: title, Text: &Text{Body: body, Format: FormatCode}})
	return r
}

// AddKeyValues appends labelled values given as key, value, key, value...
func (r *Result) AddKeyValues(title string, kv ...string) *Result {
	items := make([]KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		items = append(items, KeyValue{Key: kv[i], Value: kv[i+1]})
	}
	r.Parts = append(r.Parts, Part{Title: title, KeyValues: items})
	return r
}

// AddPairs appends labelled values.
func (r *Result) AddPairs(title string, items []KeyValue) *Result {
	r.Parts = append(r.Parts, Part{Title: title, KeyValues: slices.Clone(items)})
	return r
}

// AddTable appends a table and returns it for rows to be added.
func (r *Result) AddTable(title string, columns ...string) *Table {
	// A copy: scrubbing changes a result in place, and callers often pass
	// a column list they share between calls.
	t := &Table{Columns: slices.Clone(columns)}
	r.Parts = append(r.Parts, Part{Title: title, Table: t})
	return t
}

// AddRows appends a table with its rows and returns the result, so that a
// result is built in one chain:
//
//	return sdk.NewResult().AddText("2 records").AddRows("Records", []string{"name", "type"}, rows), nil
//
// Missing cells are left empty, as with [Table.Row].
func (r *Result) AddRows(title string, columns []string, rows [][]string) *Result {
	t := r.AddTable(title, columns...)
	for _, row := range rows {
		t.Row(row...)
	}
	return r
}

// AddFile appends a file.
func (r *Result) AddFile(name, mediaType string, content []byte) *Result {
	r.Parts = append(r.Parts, Part{File: &File{Name: name, MediaType: mediaType, Content: content}})
	return r
}

// Warn appends a warning diagnostic.
func (r *Result) Warn(format string, args ...any) *Result {
	r.Diagnostics = append(r.Diagnostics, Diagnostic{Severity: SeverityWarning, Summary: fmt.Sprintf(format, args...)})
	return r
}

// Row appends a row; missing cells are left empty.
func (t *Table) Row(cells ...string) *Table {
	row := make([]string, len(t.Columns))
	copy(row, cells)
	t.Rows = append(t.Rows, row)
	return t
}
