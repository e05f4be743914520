package provider

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/deskbot/deskbot/plugins/whm/client"
	"github.com/deskbot/deskbot/sdk"
)

// decode reads an answer's data with numbers kept as written, secrets
// already masked.
func decode(c *client.Client, res *client.Result) any {
	if len(res.Data) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(res.Data))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return c.Redactor().Any(v)
}

// renderGeneric shows any answer: WHM's reason when it says more than
// OK, scalars as key-values, lists of records as tables, deeper structure
// as JSON, and the script log of metadata.output.raw.
func renderGeneric(c *client.Client, res *client.Result, r *sdk.Result) {
	fn := res.Metadata.Command
	before := len(r.Parts)
	if reason := strings.TrimSpace(res.Metadata.Reason); reason != "" && reason != "OK" {
		r.AddText("%s", reason)
	}
	for _, m := range res.Metadata.Messages {
		r.AddText("%s", m)
	}
	for _, m := range res.Metadata.Warnings {
		r.Warn("%s", m)
	}
	renderValue(r, "", decode(c, res))
	if raw := strings.TrimSpace(res.Metadata.Output.Raw); raw != "" {
		r.AddCode("Output of "+fn, c.Redactor().String(raw))
	}
	if len(r.Parts) == before {
		r.AddText("%s: done.", fn)
	}
}

func renderValue(r *sdk.Result, title string, v any) { r.AddJSON(title, v) }

func sortedKeys(m map[string]any) []string { return sdk.SortedKeys(m) }

func scalarText(v any) (string, bool) { return sdk.ScalarText(v) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}
