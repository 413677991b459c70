package oidc

import "errors"

// DefaultMaxUsed bounds the states a Handler remembers as taken: at most
// this many callbacks within StateTTL. Each costs about 80 bytes: 8 MB
// when full.
const DefaultMaxUsed = 100_000

// sweepEvery is how often, in seconds, markUsed forgets expired states
// when the map is not full.
const sweepEvery = 60

var (
	// errBadState refuses a callback whose state is missing, wrong,
	// expired, of another provider, or already taken.
	errBadState = errors.New("oidc: bad or replayed state")
	// errBusy refuses a callback when DefaultMaxUsed states are taken and
	// none has expired yet.
	errBusy = errors.New("oidc: too many sign-ins under way")
)

// markUsed records st as taken. It returns errBadState when it was
// taken before, and errBusy when the record is full even after the
// expired states are forgotten: a state that cannot be recorded could be
// replayed, so the callback is refused rather than let through.
func (h *Handler) markUsed(st *state) error {
	h.usedMu.Lock()
	defer h.usedMu.Unlock()
	now := h.cfg.Now().Unix()
	// Sweep every sweepEvery seconds, and when full; but at most once a
	// second, so that a flood of callbacks while full costs no more than
	// one scan a second.
	if len(h.used) >= h.maxUsed && now != h.lastSweep || now-h.lastSweep >= sweepEvery || now < h.lastSweep {
		for k, exp := range h.used {
			if exp < now {
				delete(h.used, k)
			}
		}
		h.lastSweep = now
	}
	if _, seen := h.used[st.State]; seen {
		return errBadState
	}
	if len(h.used) >= h.maxUsed {
		return errBusy
	}
	h.used[st.State] = st.Expires
	return nil
}
