// Package targets is the one home of the rules for what a user may ask a
// scan for: the target grammar (addresses, prefixes, ranges, host names),
// the set of addresses it parses to and how that set is walked, the port
// list grammar, the IPv6 zone and host name rules, and the limits on every
// scan parameter. The command line, the app's settings, the scan engine
// and the ping transports all use these, so the same input gets the same
// answer, in the same words, wherever it is typed.
//
// It imports only the standard library, so that any package, the
// lowest-level socket code included, may use its validators.
package targets
