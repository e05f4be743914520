// Command ionos is the IONOS Cloud Panel provider plugin.
package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/plugins/ionos/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	if err := sdk.Serve(provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, "ionos:", err)
		os.Exit(1)
	}
}
