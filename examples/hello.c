/* The README's example. Build: cc -std=c11 hello.c -o hello $(pkg-config --cflags --libs mst) */
#include <mst.h>
#include <stdio.h>

int main(void) {
    MstTestPatternOptions opts = MST_STRUCT_INIT(MstTestPatternOptions);
    opts.width = 320;
    opts.height = 180;
    opts.unpaced = true;
    opts.frame_count = 30;
    MstProcessorOptions popts = MST_STRUCT_INIT(MstProcessorOptions);
    popts.max_buffer_size = 4;
    MstTrack *track = NULL;
    MstProcessor *proc = NULL;
    if (mst_track_create_test_pattern(&opts, &track) != MST_OK ||
        mst_processor_create(track, &popts, &proc) != MST_OK) {
        fprintf(stderr, "libmst: %s\n", mst_last_error_message());
        return 1;
    }
    MstFrame *frame;
    MstStatus status;
    int frames = 0;
    while ((status = mst_processor_read(proc, -1, &frame)) == MST_OK) {
        MstVideoFrameInfo info = MST_STRUCT_INIT(MstVideoFrameInfo);
        mst_frame_get_video_info(frame, &info);
        printf("frame %llu: %ux%u at %lld us\n", (unsigned long long)info.sequence,
               info.visible_rect.width, info.visible_rect.height, (long long)info.timestamp);
        mst_frame_free(frame);
        frames++;
    }
    mst_processor_free(proc);
    mst_track_free(track);
    return status == MST_ERR_ENDED && frames > 0 ? 0 : 1;
}
