// Package genfile writes what the generators produce (the provider
// catalogs built from the API references) in the one form that is
// committed and checked for drift: indented JSON with a final newline, the
// same bytes on every run.
package genfile

import (
	"encoding/json"
	"fmt"
	"os"
)

// WriteJSON writes each value to its path as indented JSON.
func WriteJSON(files map[string]any) error {
	for path, v := range files {
		js, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
