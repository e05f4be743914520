// Command ionos is the IONOS Cloud Panel provider plugin.
package main

import (
	"github.com/deskbot/deskbot/plugins/ionos/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	sdk.Serve(provider.New())
}
