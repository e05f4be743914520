package sqlite_test

import "time"

var s0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
