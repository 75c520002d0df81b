// Package gate tests a candidate image before it is published: Podman
// runs it under podman on a loopback port with the module's test content
// mounted, waits for the module's [health] check within its timeout,
// fetches every content file over HTTP and compares it byte for byte,
// then runs the module's test command in the container. The Report lists
// each step with its outcome and duration, the files compared and the
// container's logs; the test container and the image loaded for it are
// always removed. A gate publishes nothing.
package gate
