package haproxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// commandTimeout bounds one runtime API command when ctx has no earlier
// deadline, so that a stuck HAProxy does not hang an update.
const commandTimeout = 10 * time.Second

// run sends one command to the runtime API at socket in non-interactive
// mode (the command and a newline; HAProxy answers and closes) and
// returns the answer as HAProxy prints it.
func run(ctx context.Context, socket, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return "", fmt.Errorf("haproxy runtime API %s: %w", socket, err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return "", fmt.Errorf("haproxy runtime API %s: %s: %w", socket, command, err)
	}
	out, err := io.ReadAll(io.LimitReader(conn, 64<<20))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("haproxy runtime API %s: %s: %w", socket, command, err)
	}
	return string(out), nil
}

// expect runs command and checks that HAProxy answers want (blank space
// around it aside): "" for the commands that say nothing when they work.
// Any other answer is HAProxy's error message ("No such server.",
// "Permission denied", …), returned as the error.
func expect(ctx context.Context, socket, command, want string) error {
	out, err := run(ctx, socket, command)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(out); got != want {
		return fmt.Errorf("haproxy runtime API %s: %s: %s", socket, command, oneLine(got))
	}
	return nil
}

// oneLine joins the lines of an answer for an error message, and cuts
// a long one (an unknown command is answered with the help).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
