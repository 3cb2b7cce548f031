/* Lists the media devices libmst can open, like the browser's enumerateDevices(): cameras and
 * V4L2 outputs (virtual cameras), microphones and speakers (ALSA PCMs), each with its stable
 * id, kind, label and group (the card or device it belongs to). With no hardware it lists
 * what there is (ALSA's "default" at least) and still exits 0; it fails only if the list
 * itself is inconsistent.
 *
 * Build, with libmst installed where pkg-config finds it:
 *   cc -std=c11 list_devices.c -o list_devices $(pkg-config --cflags --libs mst)
 */
#include <mst.h>
#include <stdio.h>
#include <string.h>

static const char *kind_name(MstDeviceKind kind) {
    switch (kind) {
    case MST_DEVICE_KIND_AUDIO_INPUT: return "audioinput";
    case MST_DEVICE_KIND_AUDIO_OUTPUT: return "audiooutput";
    case MST_DEVICE_KIND_VIDEO_INPUT: return "videoinput";
    case MST_DEVICE_KIND_VIDEO_OUTPUT: return "videooutput";
    default: return "unknown";
    }
}

int main(void) {
    MstDeviceList *list = NULL;
    if (mst_devices_enumerate(&list) != MST_OK) {
        fprintf(stderr, "list_devices: %s\n", mst_last_error_message());
        return 1;
    }
    size_t count = 0;
    mst_device_list_get_count(list, &count);
    printf("%-12s %-40s %-28s %s\n", "kind", "device id", "group", "label");
    int problems = 0;
    for (size_t i = 0; i < count; i++) {
        MstDeviceInfo d = MST_STRUCT_INIT(MstDeviceInfo);
        if (mst_device_list_get_device(list, i, &d) != MST_OK) {
            fprintf(stderr, "list_devices: entry %zu: %s\n", i, mst_last_error_message());
            problems++;
            continue;
        }
        printf("%-12s %-40s %-28s %s\n", kind_name(d.kind), d.device_id, d.group_id, d.label);
        if (!*d.device_id || !*d.label || !*d.group_id || !strcmp(kind_name(d.kind), "unknown")) {
            fprintf(stderr, "list_devices: entry %zu has an empty field or an unknown kind\n", i);
            problems++;
        }
        for (size_t j = 0; j < i; j++) {
            MstDeviceInfo e = MST_STRUCT_INIT(MstDeviceInfo);
            if (mst_device_list_get_device(list, j, &e) == MST_OK && e.kind == d.kind && !strcmp(e.device_id, d.device_id)) {
                fprintf(stderr, "list_devices: %s %s is listed twice\n", kind_name(d.kind), d.device_id);
                problems++;
            }
        }
    }
    MstDeviceInfo past = MST_STRUCT_INIT(MstDeviceInfo);
    if (mst_device_list_get_device(list, count, &past) != MST_ERR_RANGE) {
        fprintf(stderr, "list_devices: reading past the end did not give MST_ERR_RANGE\n");
        problems++;
    }
    printf("%zu device(s)\n", count);
    mst_device_list_free(list);
    return problems ? 1 : 0;
}
