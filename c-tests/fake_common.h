/* Helpers the fake-device tests (test_fake_camera.c, test_fake_microphone.c) share: a fault,
 * the end of a track, and how many times the device list holds an id. */
#ifndef MST_FAKE_COMMON_H
#define MST_FAKE_COMMON_H

#include "common.h"

#define HANG_MS 30000 /* only tells a hang from a busy machine */

static inline MstFault fault(MstFaultKind kind, uint64_t at, int64_t value) {
    MstFault f = MST_STRUCT_INIT(MstFault);
    f.kind = kind;
    f.at = at;
    f.value = value;
    return f;
}

/* The next read ends, and the track says why. */
static inline void expect_end(MstProcessor *p, const MstTrack *t, MstEndReason reason) {
    MstFrame *f = NULL;
    CHECK_STATUS(mst_processor_read(p, HANG_MS, &f), MST_ERR_ENDED);
    MstEndReason r = MST_END_REASON_NONE;
    CHECK_OK(mst_track_get_end_reason(t, &r));
    CHECK_EQ_INT(r, reason);
}

/* How many entries of the device list have `id`; each must be of `kind` and, unless `label` is
 * NULL, carry that label. */
static inline int listed_as(const char *id, MstDeviceKind kind, const char *label) {
    MstDeviceList *list = NULL;
    CHECK_OK(mst_devices_enumerate(&list));
    size_t n = 0;
    CHECK_OK(mst_device_list_get_count(list, &n));
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        MstDeviceInfo d = MST_STRUCT_INIT(MstDeviceInfo);
        CHECK_OK(mst_device_list_get_device(list, i, &d));
        if (strcmp(d.device_id, id) == 0) {
            CHECK_EQ_INT(d.kind, kind);
            if (label) CHECK(strcmp(d.label, label) == 0);
            found++;
        }
    }
    CHECK_OK(mst_device_list_free(list));
    return found;
}

#endif
