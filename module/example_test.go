package module_test

import (
	"fmt"

	"github.com/alicorn-dev/alicorn/module"
)

func ExampleParse() {
	m, err := module.Parse([]byte(`
name = "web"
image = "docker://127.0.0.1:5000/alicorn/web:1"

[[containers]]
name = "web-1"
ports = ["127.0.0.1:8080:80"]

[health]
path = "/"
expect = "It works"
timeout = "30s"
`), "web.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name, m.Image, m.Containers[0].Ports, m.Health.Timeout, m.Update.Policy)
	// Output: web docker://127.0.0.1:5000/alicorn/web:1 [127.0.0.1:8080:80] 30s rolling
}
