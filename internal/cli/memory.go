package cli

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the soft memory limit of a standalone load or export
// process. The engines keep their working set bounded by what is in flight
// (tens of MB); the soft limit makes the garbage collector hold the process
// near that size instead of letting the heap double between collections. It
// is soft: a load that needs more still gets it, at the cost of more GC.
const defaultMemoryLimit = 128 << 20

// limitMemory applies defaultMemoryLimit unless the user set GOMEMLIMIT. It
// is called by the load and export commands only, never by the demo or the
// emulator, whose in-process org legitimately holds every record.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
