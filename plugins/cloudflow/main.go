// Command cloudflow is the CloudFlow (OnApp) provider plugin.
package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/plugins/cloudflow/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	if err := sdk.Serve(provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, "cloudflow:", err)
		os.Exit(1)
	}
}
