package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// memory is what /proc/self/status says of the process's resident set,
// in bytes: RSS in all, Anon the part not backed by a file (the heap;
// the rest is mostly bbolt's mmap of the store's pages).
type memory struct{ RSS, Anon int64 }

// readMemory reads VmRSS and RssAnon from /proc/self/status.
func readMemory() memory {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return memory{}
	}
	var m memory
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSS = kb << 10
		case "RssAnon":
			m.Anon = kb << 10
		}
	}
	return m
}

// restingMemory collects garbage, returns free memory to the system and
// reads the resident set: the process at rest.
func restingMemory() memory {
	runtime.GC()
	debug.FreeOSMemory()
	return readMemory()
}

// peakSampler records the largest resident set seen while it runs,
// sampling every few milliseconds.
type peakSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	mu   sync.Mutex
	peak memory
}

// samplePeak starts a sampler; call its end to stop it and read the peak.
func samplePeak() *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), peak: readMemory()}
	p.done.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.note(readMemory())
			}
		}
	})
	return p
}

func (p *peakSampler) note(m memory) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.peak.RSS = max(p.peak.RSS, m.RSS)
	p.peak.Anon = max(p.peak.Anon, m.Anon)
}

// snapshot returns the peak so far.
func (p *peakSampler) snapshot() memory {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// end stops the sampler and returns the peak.
func (p *peakSampler) end() memory {
	p.note(readMemory())
	close(p.stop)
	p.done.Wait()
	return p.peak
}

// dropPageCache writes the file at path out and asks the kernel to drop
// its cached pages (posix_fadvise DONTNEED), so that the next reads come
// from the disk: a cold start without root and without touching other
// files' cache. It reports whether the kernel took the advice.
func dropPageCache(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Sync() != nil {
		return false
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED) == nil
}

// cachedFraction is the share of the file at path in the page cache
// (mincore over a read-only mapping), or -1 if it cannot be told.
func cachedFraction(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return -1
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return -1
	}
	defer unix.Munmap(data)
	vec := make([]byte, (len(data)+os.Getpagesize()-1)/os.Getpagesize())
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return -1
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec))
}

// machine describes where the figures were measured: CPU model, cores
// and memory, Go version and date.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			if _, v, ok := strings.Cut(line, ":"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
					mem = ", " + strconv.FormatInt(kb>>20, 10) + " GB RAM"
				}
			}
		}
	}
	return model + ", " + strconv.Itoa(runtime.NumCPU()) + " cores" + mem + ", " + runtime.Version() + ", " +
		time.Now().UTC().Format("2006-01-02 15:04 UTC")
}
