// Package rollout applies an update to a module's containers with no
// downtime and undoes it by itself when the new image fails on this
// host. A Rollout runs the module's strategy (update.policy) over a
// Runtime (update/podman) and a Front (update/front):
//
//   - rolling: one container at a time, each after those it requires:
//     start the new one, wait for its health check (ready-timeout), add it
//     to the front, drain the old one from the front and remove it, give
//     the new one the old one's name;
//   - blue-green: start and check every new container, add them all to
//     the front, then drain and remove every old one;
//   - recreate: remove the old containers, then start the new ones (the
//     module is down in between);
//   - manual: nothing is applied.
//
// Then the watch window: the new containers must stay up and healthy,
// and the front's error rate for them under max-error-rate, for watch.
// Only then is the update committed and the old image removed. Any
// failure before brings the old image back on every container (the same
// steps towards the old digest), and Apply returns a *RolledBackError.
//
// Every step is written to a journal (a file per module, JSON lines,
// synced) before it happens. Recover, which Apply also runs first,
// reads an unfinished journal and finishes a committed update or undoes
// one that was not, from what the runtime and the front hold now: every
// step converges towards a digest, so it may be repeated. No orphan
// container is left, the front holds exactly the kept containers, and
// every container runs one digest.
package rollout
