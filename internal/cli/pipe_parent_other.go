//go:build !linux

package cli

// setParentDeathSignal does nothing where the OS has no parent-death signal; watchParent's
// poll covers it.
func setParentDeathSignal() {}
