// Command whm is the cPanel & WHM provider plugin.
package main

import (
	"github.com/deskbot/deskbot/plugins/whm/provider"
	"github.com/deskbot/deskbot/sdk"
)

func main() {
	sdk.Serve(provider.New())
}
