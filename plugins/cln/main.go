// Command cln is the CloudLinux Network provider plugin.
package main

import (
	"github.com/deskbot/deskbot/plugins/cln/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	sdk.Serve(provider.New())
}
