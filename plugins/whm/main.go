// Command whm is the cPanel & WHM provider plugin.
package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	if err := sdk.Serve(provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, "whm:", err)
		os.Exit(1)
	}
}
