package targets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckWatchInterval(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string // "" for accepted
	}{
		{MinWatchInterval, ""},
		{DefaultWatchInterval, ""},
		{MaxWatchInterval, ""},
		{9 * time.Second, "bad interval 9s: scanning more often than every 10s floods the network for no news; want 10s to 168h0m0s"},
		{0, "bad interval 0s: scanning more often"},
		{-time.Minute, "bad interval -1m0s"},
		{MaxWatchInterval + time.Second, "bad interval 168h0m1s: want 10s to 168h0m0s"},
	} {
		err := CheckWatchInterval(tc.d)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.d, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want %q...", tc.d, err, tc.want)
		case tc.want != "" && !errors.Is(err, ErrWatchInterval):
			t.Errorf("%v: %v does not wrap ErrWatchInterval", tc.d, err)
		}
	}
}
