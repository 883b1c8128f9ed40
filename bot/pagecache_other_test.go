//go:build !linux

package bot_test

// dropPageCache is not available here: the cold start-up benchmark skips.
func dropPageCache(path string) bool { return false }
