package bot_test

import (
	"os"
	"syscall"
)

// dropPageCache writes the file at path out and asks the kernel to drop
// its cached pages (posix_fadvise POSIX_FADV_DONTNEED), so the next
// reads come from the disk: a cold start without root or touching other
// files' cache. It reports whether it could.
func dropPageCache(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Sync() != nil {
		return false
	}
	const fadvDontNeed = 4
	_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
	return errno == 0
}
