// Package tempfile names the temporary files and directories alicorn
// creates after the process that owns them, and removes those left by
// processes that are gone: a run killed (kill -9) before its deferred
// cleanups ran leaves them behind, and nothing else would ever remove
// them.
//
// A name is prefix + PID + "n" + PID namespace + "-" + random (Pattern).
// Sweep reads a directory once and removes the entries of the given
// prefixes whose PID is not a running process; a run's own files, and
// those of any other live run, are never touched. A directory shared by
// processes of several PID namespaces (a cache mounted into containers)
// holds names whose PIDs cannot be looked up from here: those are
// removed only once a day old. Sweeps of one directory are serialized by
// an advisory lock (flock) on its Lock file.
package tempfile
