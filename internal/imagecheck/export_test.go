package imagecheck

// SetHardFactor sets hardFactor for a test and returns the old value.
func SetHardFactor(f int) int {
	old := hardFactor
	hardFactor = f
	return old
}
