package statesrv_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/statesrv/statesrv"
)

// TestEventTypeCodesNeverChange pins the code of every event type: logs
// hold these numbers, so a code is never changed or reused. A new type
// gets the next free code here and in the registry.
func TestEventTypeCodesNeverChange(t *testing.T) {
	want := map[string]uint64{
		"ProcessDefined": 1, "ProcessDeleted": 2, "RunStarted": 3, "RunAttached": 4,
		"RunStartMissed": 5, "MessageReceived": 6, "MessageRejected": 7, "RunFinished": 8,
		"RunTimedOut": 9, "MessageUnprocessed": 10, "MessageDismissed": 11, "MessagesDropped": 12,
		"ScheduleGap": 13, "AlertRequested": 14, "AlertAttemptFailed": 15, "AlertDelivered": 16,
		"AlertFailed": 17, "AlertSuppressed": 18, "AlertsPaused": 19, "AlertsResumed": 20,
		"UserPasswordSet": 21, "APITokenCreated": 22, "APITokenRevoked": 23,
		"UserDefined": 24, "UserDeleted": 25,
	}
	got := statesrv.EventTypeCodes()
	for name, code := range want {
		if got[name] != code {
			t.Errorf("%s has code %d, was %d: codes never change", name, got[name], code)
		}
	}
	seen := map[uint64]string{}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		code := got[name]
		if code == 0 {
			t.Errorf("%s has no code", name)
		}
		if other, dup := seen[code]; dup {
			t.Errorf("code %d given to %s and %s", code, other, name)
		}
		seen[code] = name
		if _, pinned := want[name]; !pinned {
			t.Errorf("%s (code %d) is not pinned here: add it", name, code)
		}
	}
}
