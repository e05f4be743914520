package provider

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deskbot/deskbot/sdk"
)

// licence is an IP-licence type from the references' table.
type licence struct {
	code    int
	name    string
	aliases []string
	older   bool // also in the older reference's table
}

// ipLicences is the newer reference's table (27 types); the older one
// lists ten of them.
var ipLicences = []licence{
	{1, "CloudLinux OS Shared", []string{"cloudlinux", "cl", "cloudlinux-shared"}, true},
	{1002, "CloudLinux OS Shared PRO", []string{"cloudlinux-pro", "clp"}, true},
	{4, "CloudLinux OS Solo", []string{"solo", "cls"}, true},
	{5, "CloudLinux OS Admin", []string{"admin", "cladmin"}, false},
	{3, "ELS for CentOS 6", []string{"els-centos6"}, false},
	{16, "KernelCare", []string{"kernelcare", "kcare", "kc"}, true},
	{17, "KernelCare Plus", []string{"kernelcare-plus", "kcare-plus"}, true},
	{40, "Imunify AV Plus", []string{"imunifyav-plus", "avp"}, true},
	{41, "Imunify for single user", []string{"imunify360-single", "im360-1"}, true},
	{44, "Imunify for 5 users", []string{"imunify360-5", "im360-5"}, false},
	{42, "Imunify for 30 users", []string{"imunify360-30", "im360-30"}, true},
	{43, "Imunify for 250 users", []string{"imunify360-250", "im360-250"}, true},
	{49, "Imunify Unlimited", []string{"imunify360-unlimited", "im360-un"}, true},
	{5017, "ELS for CentOS 7 Standard", []string{"els-centos7"}, false},
	{5018, "ELS for CentOS 7 Complete", []string{"els-centos7-complete"}, false},
	{5005, "ELS for CentOS 8", []string{"els-centos8"}, false},
	{5003, "ELS for Oracle Linux 6", []string{"els-oracle6"}, false},
	{5004, "ELS for Ubuntu 16", []string{"els-ubuntu16"}, false},
	{5019, "ELS for Ubuntu 18", []string{"els-ubuntu18"}, false},
	{5020, "ELS for Ubuntu 18 + SLA", []string{"els-ubuntu18-sla"}, false},
	{5034, "ELS for CentOS 8 Stream", []string{"els-centos8-stream"}, false},
	{5011, "ELS for CentOS 6 + SLA", []string{"els-centos6-sla"}, false},
	{5012, "ELS for CentOS 8 + SLA", []string{"els-centos8-sla"}, false},
	{5013, "ELS for Oracle Linux 6 + SLA", []string{"els-oracle6-sla"}, false},
	{5014, "ELS for Ubuntu 16 + SLA", []string{"els-ubuntu16-sla"}, false},
	{7215, "Extended Security Updates", []string{"esu"}, false},
	{5035, "ELS for CentOS 8 Stream + SLA", []string{"els-centos8-stream-sla"}, false},
}

func licenceName(code int) string {
	for _, l := range ipLicences {
		if l.code == code {
			return l.name
		}
	}
	return "type " + strconv.Itoa(code)
}

func licenceParam(name, description string) sdk.Param {
	var vals []sdk.EnumValue
	for _, l := range ipLicences {
		vals = append(vals, sdk.EnumValue{Value: strconv.Itoa(l.code), Description: l.name, Aliases: l.aliases})
	}
	return sdk.EnumOf(name, description, vals...)
}

func typesText(codes []int) string {
	if len(codes) == 0 {
		return "none"
	}
	var out []string
	for _, c := range codes {
		out = append(out, fmt.Sprintf("%d (%s)", c, licenceName(c)))
	}
	return strings.Join(out, ", ")
}

var clProducts = []sdk.EnumValue{
	{Value: "CL", Description: "CloudLinux Shared", Aliases: []string{"shared", "cloudlinux"}},
	{Value: "CLP", Description: "CloudLinux Shared Pro", Aliases: []string{"pro", "shared-pro"}},
	{Value: "CLS", Description: "CloudLinux Solo", Aliases: []string{"solo"}},
	{Value: "CLADMIN", Description: "CloudLinux Admin", Aliases: []string{"admin"}},
}

// elsProducts are the newer reference's eleven codes plus the older
// reference's UELS; codes are passed on as written.
var elsProducts = []sdk.EnumValue{
	{Value: "CELS", Description: "CentOS 6 ELS", Aliases: []string{"centos6"}},
	{Value: "OELS", Description: "Oracle Linux 6 ELS", Aliases: []string{"oracle6"}},
	{Value: "UELS16", Description: "Ubuntu 16 ELS", Aliases: []string{"ubuntu16"}},
	{Value: "CELS_8", Description: "CentOS 8 ELS", Aliases: []string{"centos8"}},
	{Value: "UELS18", Description: "Ubuntu 18 ELS", Aliases: []string{"ubuntu18"}},
	{Value: "PHP_ELS", Description: "PHP ELS", Aliases: []string{"php"}},
	{Value: "PYTHON_ELS", Description: "Python ELS", Aliases: []string{"python"}},
	{Value: "UELS18_SLA", Description: "Ubuntu ELS with SLA", Aliases: []string{"ubuntu18-sla"}},
	{Value: "ELS_FOR_CENTOS7", Description: "Extended Support for CentOS 7 Standard", Aliases: []string{"centos7"}},
	{Value: "ELS_FOR_CENTOS7_PLUS_SLA", Description: "Extended Support for CentOS 7 Complete", Aliases: []string{"centos7-complete"}},
	{Value: "ELS_FOR_CENTOS8STREAM", Description: "Extended Support for CentOS 8 Stream", Aliases: []string{"centos8-stream"}},
	{Value: "UELS", Description: "Ubuntu ELS (older reference)", Aliases: []string{"ubuntu"}},
}

var imCodes = []sdk.EnumValue{
	{Value: "AVP", Description: "ImunifyAV+", Aliases: []string{"imunifyav+", "av-plus"}},
	{Value: "360_1", Description: "Imunify360 single user", Aliases: []string{"single", "1"}},
	{Value: "360_30", Description: "Imunify360 up to 30 users", Aliases: []string{"30"}},
	{Value: "360_250", Description: "Imunify360 up to 250 users", Aliases: []string{"250"}},
	{Value: "360_UN", Description: "Imunify360 unlimited", Aliases: []string{"unlimited", "un"}},
}
