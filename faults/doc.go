// Package faults is the fault-injection suite of issue 9 (reliability):
// it runs the real reporter, the examples/dnf-security command built once
// by TestMain, as a separate process on real RPM fixtures (internal/
// rpmtest) and hostile inputs (internal/hostile), and checks what a
// hostile environment must not achieve:
//
//   - network (TestStallingMirror): a repository mirror that accepts and
//     never answers, stalls before its headers or in the middle of a
//     body, or sends a body without end. The run ends with an error
//     naming the URL (dnf's timeout set to 1 s), leaving no file behind.
//   - images (TestHostileImages): generated images (OCI layouts, and an
//     oci-archive) read through --image and as the image of a module on
//     a host: a path of 100,000 parts (and, scanned for jars, of 2,000:
//     that walk is still superlinear in the depth), a 300 MiB
//     zero-filled wanted jar, an rpm database that is a hard link into a
//     lower layer, a nested-jar bomb and an image of zero-filled jars,
//     with OSV feeds so that jars are scanned. The report is the one of
//     the same image without the hostile part, byte for byte (the host's
//     rows always printed), with a warning naming a jar that is not
//     one; for the bomb and the zero jars (whose memory and disk budgets
//     are work in progress) the run only must exit 0 or 1 with a message
//     naming the jar. Never a panic; nothing is left in the temporary
//     directory. The child's peak RSS and the bytes it wrote are logged.
//   - damaged cache (TestDamagedCache): each file of a cache a run left,
//     damaged each way hostile.Damages lists. The next run prints exactly
//     the undamaged report; with -C the report or a clear error, never a
//     crash.
//   - kills (TestKills): runs on a cold cache killed (SIGKILL, and SIGTERM
//     on some) after a random delay within a normal run's duration; the
//     next run prints exactly the reference report and leaves no
//     temporary file of any run behind. The seed is logged; set
//     ALICORN_FAULTS_SEED to replay it, ALICORN_FAULTS_KILLS to change
//     the number of kills (20).
//
// It needs Debian's rpm and createrepo-c packages (the fixtures are made
// by rpmbuild and createrepo_c); without them its tests skip, saying so,
// and .ci/run (which installs them) fails on such a skip. Run it with
//
//	go test ./faults/
//
// .ci/run runs it with every other package.
package faults
