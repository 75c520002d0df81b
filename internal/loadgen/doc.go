// Package loadgen sends HTTP load at a fixed rate and checks every
// answer: the proof that a rolling update fails no request.
//
// The load is open-loop: request i is sent at start + i/Rate whatever
// the requests before it are doing, so that a stalled server shows up as
// latency and failures instead of slowing the load down (a closed loop,
// each client waiting for its answer, would send fewer requests during
// a stall and hide it). Requests in flight are capped (MaxInFlight); a
// request due when the cap is reached is not sent and counts as failed
// ("overflow"). Latency is measured from the time a request was due,
// not from when it was sent, for the same reason.
//
// Requests go out on new connections (a transport without keep-alive)
// and on kept-alive ones (a shared transport), alternately by default:
// a front that fails either kind is caught. Every answer must be 200
// with the expected body. Mark starts a new phase ("during" an update),
// and the Result splits counts and latencies by phase.
package loadgen
