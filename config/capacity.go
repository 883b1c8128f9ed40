package config

import (
	"fmt"
	"strconv"
	"strings"

	"rfadesk/bot"
)

// Capacity is the validated [capacity] section, beside the threshold
// (Config.Desk.Capacity.Threshold).
type Capacity struct {
	// StoreLimit is capacity.store_limit in bytes: the store file's size
	// is gauged against it. 0 (unset) gauges nothing.
	StoreLimit int64
	// OpenRFAs is capacity.open_rfas: the open workload (RFAs not
	// closed) is gauged against it. 0 (unset) gauges nothing.
	OpenRFAs int
	// OutboxLimit is capacity.outbox_limit: the outbox backlog (items
	// waiting to be sent) is gauged against it; default 1000.
	OutboxLimit int
}

// DefaultOutboxLimit is capacity.outbox_limit when unset.
const DefaultOutboxLimit = 1000

type rawCapacity struct {
	Threshold   *float64 `toml:"threshold"`
	StoreLimit  string   `toml:"store_limit"`
	OpenRFAs    *int64   `toml:"open_rfas"`
	OutboxLimit *int64   `toml:"outbox_limit"`
}

// validateCapacity checks [capacity] into c and the desk's threshold.
func validateCapacity(raw rawCapacity, c *Capacity, d *bot.CapacityConfig, errs []error) []error {
	d.Threshold = bot.DefaultCapacityThreshold
	if t := raw.Threshold; t != nil {
		if !(*t >= 10 && *t <= 100) {
			errs = append(errs, fmt.Errorf("capacity.threshold: %v is not a percentage from 10 to 100 (default 70; a gauge is reported again after falling 5 points below it)", *t))
		} else {
			d.Threshold = *t
		}
	}
	if raw.StoreLimit != "" {
		n, err := parseBytes(raw.StoreLimit)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("capacity.store_limit: %q is not a size: write e.g. \"2GiB\", \"500MB\" or a number of bytes, or leave it out to gauge nothing", raw.StoreLimit))
		}
		c.StoreLimit = n
	}
	if v := raw.OpenRFAs; v != nil {
		if *v <= 0 || *v > 1e9 {
			errs = append(errs, fmt.Errorf("capacity.open_rfas: %d must be a positive number of RFAs, or leave it out to gauge nothing", *v))
		} else {
			c.OpenRFAs = int(*v)
		}
	}
	c.OutboxLimit = DefaultOutboxLimit
	if v := raw.OutboxLimit; v != nil {
		if *v <= 0 || *v > 1e9 {
			errs = append(errs, fmt.Errorf("capacity.outbox_limit: %d must be a positive number of items (default 1000)", *v))
		} else {
			c.OutboxLimit = int(*v)
		}
	}
	return errs
}

// byteUnits are the suffixes parseBytes accepts, longest first.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads "2GiB", "500 MB" or "1048576".
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}
