// Command cln is the CloudLinux Network provider plugin.
package main

import (
	"fmt"
	"os"

	"github.com/deskbot/deskbot/plugins/cln/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	if err := sdk.Serve(provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, "cln:", err)
		os.Exit(1)
	}
}
