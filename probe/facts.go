package probe

// Facts are what the selector knows about this process and machine when it
// explains why a method works or not. Gather reads them from the system;
// tests inject their own.
type Facts struct {
	UID, EUID, EGID int
	Groups          []int // supplementary groups

	// PingGroupRange is net.ipv4.ping_group_range (which also governs
	// IPv6 ping sockets); RangeErr is set when it could not be read.
	PingGroupRange [2]int64
	RangeErr       error

	CapNetRaw         bool // CAP_NET_RAW is in the effective set
	CapNetRawBounding bool // CAP_NET_RAW is in the bounding set: file capabilities can still grant it
	NoNewPrivs        bool // setuid and file capabilities are ignored on exec

	PingPath   string // resolved ping binary; empty if none found
	PingSetuid bool   // owned by root with the setuid bit
	PingCapRaw bool   // carries cap_net_raw as a permitted file capability

	Executable string // this program's own path, for setcap advice; may be empty
}
