package haproxy

import (
	"strings"
	"testing"
)

func FuzzTable(f *testing.F) {
	f.Add("# pxname,svname,scur,stot,\nweb,a,0,7,\n", ",")
	f.Add("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state\n3 web 1 a 127.0.0.1 2 0\n", " ")
	f.Add("No such backend.\n", ",")
	f.Fuzz(func(t *testing.T, out, sep string) {
		if sep == "" {
			return
		}
		rows, err := table(out, sep)
		if err != nil {
			return
		}
		if !strings.Contains(out, "# ") {
			t.Fatal("a table without a header line")
		}
		for _, r := range rows {
			_ = r.int64("stot")
		}
	})
}
